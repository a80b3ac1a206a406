// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Names
/// @notice On-chain checks of the lowercase names PeerHost uses in URLs and runtime ids.
/// @dev Byte-wise ASCII checks; any non-ASCII byte fails, so names are always plain URL path segments.
library Names {
    /// @notice Whether `name` matches `[a-z0-9-]{1,32}`.
    function isProjectName(string calldata name) internal pure returns (bool) {
        return _matches(bytes(name), 32, true, false);
    }

    /// @notice Whether `name` matches `[a-z0-9_-]{1,64}`.
    function isFunctionName(string calldata name) internal pure returns (bool) {
        return _matches(bytes(name), 64, true, true);
    }

    /// @notice Whether `name` matches `[a-z0-9]{1,16}`.
    function isRuntime(string calldata name) internal pure returns (bool) {
        return _matches(bytes(name), 16, false, false);
    }

    function _matches(bytes calldata name, uint256 maxLength, bool dash, bool underscore)
        private
        pure
        returns (bool)
    {
        uint256 length = name.length;
        if (length == 0 || length > maxLength) return false;
        for (uint256 i; i < length; ++i) {
            bytes1 c = name[i];
            bool ok = (c >= 0x61 && c <= 0x7a) // a-z
                || (c >= 0x30 && c <= 0x39) // 0-9
                || (dash && c == 0x2d) // -
                || (underscore && c == 0x5f); // _
            if (!ok) return false;
        }
        return true;
    }
}
