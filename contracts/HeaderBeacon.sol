// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBeacon} from "./interfaces/IBeacon.sol";

/// @title HeaderBeacon
/// @notice The default Beacon: the prevrandao (header field 13, `mixHash`) of a recent block, proven
///         from its RLP-encoded header against `blockhash`.
/// @dev Works for the last 256 blocks. Who can bias it: the proposer of that block, only by skipping its
///      slot (one bit, at the cost of its block reward); on an L2 the sequencer that sets it. Not usable
///      where prevrandao is constant.
contract HeaderBeacon is IBeacon {
    uint256 private constant _MIX_HASH_FIELD = 13;

    /// @inheritdoc IBeacon
    function valueOf(uint256 blockNumber, bytes calldata header) external view returns (bytes32) {
        bytes32 expected = blockhash(blockNumber);
        if (expected == bytes32(0)) revert BlockHashUnavailable(blockNumber);
        bytes32 actual = keccak256(header);
        if (actual != expected) revert HeaderMismatch(blockNumber, expected, actual);
        return _field32(header, _MIX_HASH_FIELD);
    }

    /// @dev The `index`-th item of the RLP list `rlp`, which must be a 32-byte string.
    function _field32(bytes calldata rlp, uint256 index) private pure returns (bytes32 value) {
        (uint256 offset, uint256 end) = _listBody(rlp);
        for (uint256 i; i < index; ++i) {
            if (offset >= end) revert MalformedHeader();
            offset = _next(rlp, offset);
        }
        if (offset + 33 > end || uint8(rlp[offset]) != 0xa0) revert MalformedHeader();
        value = bytes32(rlp[offset + 1:offset + 33]);
    }

    /// @dev Start and end of the payload of the list that is the whole of `rlp`.
    function _listBody(bytes calldata rlp) private pure returns (uint256 offset, uint256 end) {
        if (rlp.length < 2) revert MalformedHeader();
        uint8 prefix = uint8(rlp[0]);
        if (prefix < 0xf8) revert MalformedHeader(); // a header is always a long list
        uint256 lenBytes = prefix - 0xf7;
        if (rlp.length < 1 + lenBytes) revert MalformedHeader();
        uint256 length = _uint(rlp[1:1 + lenBytes]);
        offset = 1 + lenBytes;
        end = offset + length;
        if (end != rlp.length) revert MalformedHeader();
    }

    /// @dev The offset of the item after the one at `offset`.
    function _next(bytes calldata rlp, uint256 offset) private pure returns (uint256) {
        uint8 prefix = uint8(rlp[offset]);
        if (prefix < 0x80) return offset + 1;
        if (prefix < 0xb8) return offset + 1 + (prefix - 0x80);
        if (prefix < 0xc0) {
            uint256 n = prefix - 0xb7;
            return offset + 1 + n + _uint(rlp[offset + 1:offset + 1 + n]);
        }
        if (prefix < 0xf8) return offset + 1 + (prefix - 0xc0);
        uint256 m = prefix - 0xf7;
        return offset + 1 + m + _uint(rlp[offset + 1:offset + 1 + m]);
    }

    function _uint(bytes calldata b) private pure returns (uint256 v) {
        for (uint256 i; i < b.length; ++i) {
            v = (v << 8) | uint8(b[i]);
        }
    }
}
