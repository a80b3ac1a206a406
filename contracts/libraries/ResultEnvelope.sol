// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ResultEnvelope
/// @notice Reads the response body out of a canonical success envelope (peerhost/wire/envelope.py) without
///         parsing JSON: {"fuel_used":<digits>,"ok":true,"response":{"body":"<base64>","body_encoding":"base64",
///         ... Canonical JSON sorts keys, so a success whose body is base64 always starts this way. The body
///         string ends at the first quote after it; every character before that quote must be base64 (so none is
///         a backslash, and the quote is not an escaped one).
library ResultEnvelope {
    bytes private constant _HEAD = '{"fuel_used":';
    bytes private constant _MID = ',"ok":true,"response":{"body":"';
    bytes private constant _TAIL = '","body_encoding":"base64"';
    uint256 private constant _MAX_DIGITS = 20;
    /// @dev Sextet of each ASCII character; 0xff: not base64. '=' (padding) reads as 0.
    bytes private constant _SEXTETS =
        hex"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff3effffff3f3435363738393a3b3c3dffffff00ffffff000102030405060708090a0b0c0d0e0f10111213141516171819ffffffffffff1a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30313233ffffffffff";

    /// @notice The decoded body when `envelope` is a success with a base64 body; (false, "") otherwise.
    function binaryBody(bytes calldata envelope) internal pure returns (bool found, bytes memory body) {
        if (!_startsWith(envelope, 0, _HEAD)) return (false, body);
        uint256 i = _HEAD.length;
        while (i < envelope.length && i - _HEAD.length <= _MAX_DIGITS && _isDigit(uint8(envelope[i]))) ++i;
        uint256 digits = i - _HEAD.length;
        if (digits == 0 || digits > _MAX_DIGITS || !_startsWith(envelope, i, _MID)) return (false, body);
        uint256 start = i + _MID.length;
        uint256 end = _nextQuote(envelope, start);
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

    /// @dev Index of the first '"' at or after `from` (data.length when there is none).
    function _nextQuote(bytes calldata data, uint256 from) private pure returns (uint256 i) {
        uint256 n = data.length;
        assembly ("memory-safe") {
            i := from
            for {} lt(i, n) { i := add(i, 1) } {
                if eq(byte(0, calldataload(add(data.offset, i))), 0x22) { break }
            }
        }
    }

    /// @dev Standard base64 with padding; (false, "") on a length that is not a multiple of 4 or a character
    ///      outside the alphabet.
    function _decode(bytes calldata text) private pure returns (bool ok, bytes memory out) {
        uint256 n = text.length;
        if (n % 4 != 0) return (false, out);
        uint256 pad;
        if (n != 0 && text[n - 1] == "=") ++pad;
        if (n > 1 && text[n - 2] == "=") ++pad;
        bytes memory table = _SEXTETS; // allocated before `out`: the writes past `out` land in free memory
        out = new bytes((n / 4) * 3 - pad);
        ok = true;
        assembly ("memory-safe") {
            let t := add(table, 0x20)
            let dst := add(out, 0x20)
            let src := text.offset
            let last := add(src, n)
            let bad := 0
            // Each group of 4 characters gives 3 bytes, written as the top of a word; the 29 bytes after
            // them are overwritten by the next group, and the last write's tail lies past `out` (free memory).
            for {} lt(src, last) { src := add(src, 4) } {
                let chunk := calldataload(src)
                let a := byte(0, mload(add(t, byte(0, chunk))))
                let b := byte(0, mload(add(t, byte(1, chunk))))
                let c := byte(0, mload(add(t, byte(2, chunk))))
                let d := byte(0, mload(add(t, byte(3, chunk))))
                bad := or(bad, or(or(gt(a, 63), gt(b, 63)), or(gt(c, 63), gt(d, 63))))
                let high := or(or(gt(byte(0, chunk), 127), gt(byte(1, chunk), 127)), gt(byte(2, chunk), 127))
                bad := or(bad, or(high, gt(byte(3, chunk), 127))) // beyond the table: not base64
                mstore(dst, shl(232, or(or(shl(18, a), shl(12, b)), or(shl(6, c), d))))
                dst := add(dst, 3)
            }
            if bad { ok := 0 }
            // zero what the last group wrote past the body (padding bytes of `out` must be zero)
            let end := add(add(out, 0x20), mload(out))
            mstore(end, 0)
        }
        if (!ok) return (false, new bytes(0));
    }
}
