// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ResultEnvelope
/// @notice Reads the response body out of a canonical success envelope (peerhost/wire/envelope.py) without
///         parsing JSON: {"fuel_used":<digits>,"ok":true,"response":{"body":"<base64>","body_encoding":"base64",
///         ... Canonical JSON sorts keys, so a success whose body is base64 always starts this way; base64 has no
///         quote or backslash, so the body string ends at the first character that is not base64.
library ResultEnvelope {
    bytes private constant _HEAD = '{"fuel_used":';
    bytes private constant _MID = ',"ok":true,"response":{"body":"';
    bytes private constant _TAIL = '","body_encoding":"base64"';
    uint256 private constant _MAX_DIGITS = 20;

    /// @notice The decoded body when `envelope` is a success with a base64 body; (false, "") otherwise.
    function binaryBody(bytes calldata envelope) internal pure returns (bool found, bytes memory body) {
        uint256 i = _HEAD.length;
        if (!_startsWith(envelope, 0, _HEAD)) return (false, body);
        uint256 digits = i;
        while (i < envelope.length && i - digits <= _MAX_DIGITS && _isDigit(uint8(envelope[i]))) ++i;
        if (i == digits || i - digits > _MAX_DIGITS || !_startsWith(envelope, i, _MID)) return (false, body);
        uint256 start = i + _MID.length;
        uint256 end = start;
        while (end < envelope.length && _isBase64(uint8(envelope[end]))) ++end;
        if (!_startsWith(envelope, end, _TAIL)) return (false, body);
        return _decode(envelope[start:end]);
    }

    function _startsWith(bytes calldata data, uint256 at, bytes memory prefix) private pure returns (bool) {
        if (data.length < at + prefix.length) return false;
        return keccak256(data[at:at + prefix.length]) == keccak256(prefix);
    }

    function _isDigit(uint8 c) private pure returns (bool) {
        return c >= 0x30 && c <= 0x39;
    }

    function _isBase64(uint8 c) private pure returns (bool) {
        return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || _isDigit(c) || c == 0x2b || c == 0x2f
            || c == 0x3d;
    }

    /// @dev Standard base64 with padding (what the envelope holds: the wire checks it strictly).
    function _decode(bytes calldata text) private pure returns (bool, bytes memory out) {
        uint256 n = text.length;
        if (n % 4 != 0) return (false, out);
        uint256 pad;
        if (n != 0 && text[n - 1] == "=") ++pad;
        if (n > 1 && text[n - 2] == "=") ++pad;
        out = new bytes((n / 4) * 3 - pad);
        uint256 o;
        for (uint256 i; i < n; i += 4) {
            uint256 v = (_sextet(uint8(text[i])) << 18) | (_sextet(uint8(text[i + 1])) << 12)
                | (_sextet(uint8(text[i + 2])) << 6) | _sextet(uint8(text[i + 3]));
            out[o++] = bytes1(uint8(v >> 16));
            if (o < out.length) out[o++] = bytes1(uint8(v >> 8));
            if (o < out.length) out[o++] = bytes1(uint8(v));
        }
        return (true, out);
    }

    function _sextet(uint8 c) private pure returns (uint256) {
        if (c >= 0x41 && c <= 0x5a) return c - 0x41;
        if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26;
        if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52;
        if (c == 0x2b) return 62;
        if (c == 0x2f) return 63;
        return 0; // '=' padding
    }
}
