// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title EtherRejecter
/// @notice Test double: an account that can call anything but refuses plain ETH transfers.
contract EtherRejecter {
    /// @notice Forwards a call (and any value) to `target`, bubbling up its revert data.
    function forward(address target, bytes calldata data) external payable returns (bytes memory result) {
        bool ok;
        (ok, result) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
    }
}
