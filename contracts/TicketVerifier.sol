// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITicketVerifier} from "./interfaces/ITicketVerifier.sol";

/// @title TicketVerifier
/// @notice EIP-712 ticket and attestation digests, ticket signature recovery, orphaned tickets to leaves.
contract TicketVerifier is ITicketVerifier {
    bytes32 private constant _TICKET_TYPEHASH = keccak256(
        "Ticket(address gateway,uint64 seq,bytes32 functionId,uint32 version,bytes32 inputHash,uint96 reward,uint40 issuedAt,uint40 deadline,uint8 mode,uint32 secretsVersion,bytes32 engineProfile,uint256 issuedTotal)"
    );
    bytes32 private constant _ATTESTATION_TYPEHASH = keccak256("Attestation(bytes32 ticketHash,bytes32 resultHash)");
    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant _NAME_HASH = keccak256("PeerHost");
    bytes32 private constant _VERSION_HASH = keccak256("2");
    uint256 private constant _HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    uint256 private constant _LEAF_BYTES = 103;

    /// @inheritdoc ITicketVerifier
    function ticketHash(Ticket calldata ticket) external pure returns (bytes32) {
        return _ticketHash(ticket);
    }

    /// @inheritdoc ITicketVerifier
    function ticketDigest(address coordinator, Ticket calldata ticket) external view returns (bytes32) {
        return _digest(coordinator, _ticketHash(ticket));
    }

    /// @inheritdoc ITicketVerifier
    function attestationDigest(address coordinator, bytes32 ticketHash_, bytes32 resultHash)
        external
        view
        returns (bytes32)
    {
        return _digest(coordinator, keccak256(abi.encode(_ATTESTATION_TYPEHASH, ticketHash_, resultHash)));
    }

    /// @inheritdoc ITicketVerifier
    function ticketSigner(address coordinator, Ticket calldata ticket, bytes calldata signature)
        external
        view
        returns (address)
    {
        return _recover(_digest(coordinator, _ticketHash(ticket)), signature);
    }

    /// @inheritdoc ITicketVerifier
    function orphanLeaves(
        address coordinator,
        Ticket[] calldata tickets,
        bytes[] calldata signatures,
        uint256 issuedBy
    ) external view returns (bytes memory leaves) {
        uint256 n = tickets.length;
        if (n == 0 || signatures.length != n) revert OrphansMismatch(n);
        Ticket calldata first = tickets[0];
        leaves = new bytes(n * _LEAF_BYTES);
        for (uint256 i; i < n; ++i) {
            Ticket calldata t = tickets[i];
            if (t.gateway != first.gateway || t.engineProfile != first.engineProfile || t.reward != first.reward) {
                revert OrphansMismatch(i);
            }
            if (t.issuedAt > issuedBy) revert OrphanTooEarly(i, t.issuedAt + block.timestamp - issuedBy);
            address signer = _recover(_digest(coordinator, _ticketHash(t)), signatures[i]);
            if (signer != t.gateway) revert BadTicketSignature(i, signer);
            bytes memory leaf = abi.encodePacked(
                t.seq, t.functionId, t.version, t.inputHash, t.reward, t.issuedAt, t.deadline, t.mode, t.secretsVersion
            );
            assembly ("memory-safe") {
                mcopy(add(add(leaves, 32), mul(i, 103)), add(leaf, 32), 103)
            }
        }
    }

    /// @inheritdoc ITicketVerifier
    function verifyLeaf(bytes32 root, uint256 count, uint256 index, bytes32 leafHash, bytes32[] calldata proof)
        external
        pure
        returns (bool)
    {
        if (index >= count) return false;
        bytes32 node = leafHash;
        uint256 k;
        while (count > 1) {
            if ((index ^ 1) < count) {
                if (k >= proof.length) return false;
                node = index % 2 == 0 ? keccak256(abi.encode(node, proof[k])) : keccak256(abi.encode(proof[k], node));
                ++k;
            }
            index /= 2;
            count = (count + 1) / 2;
        }
        return k == proof.length && node == root;
    }

    function _digest(address coordinator, bytes32 structHash) private view returns (bytes32) {
        bytes32 domain = keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, coordinator));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _ticketHash(Ticket calldata t) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                _TICKET_TYPEHASH,
                t.gateway,
                t.seq,
                t.functionId,
                t.version,
                t.inputHash,
                t.reward,
                t.issuedAt,
                t.deadline,
                t.mode,
                t.secretsVersion,
                t.engineProfile,
                t.issuedTotal
            )
        );
    }

    /// @dev ecrecover of a 65-byte (r, s, v) signature; malformed or high-s ones give address(0).
    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address) {
        if (signature.length != 65) return address(0);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > _HALF_N || (v != 27 && v != 28)) return address(0);
        return ecrecover(digest, v, r, s);
    }
}
