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
    uint256 private constant _MAX_ATTESTERS = 4;

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
    function attesterPay(
        OpenTerms calldata t,
        bytes calldata opening,
        bytes32[] calldata finalVector,
        Attestations calldata a
    ) external view returns (address[] memory accounts, uint256[] memory amounts, uint256 paid, bytes32 vectorHash) {
        bool given = finalVector.length != 0;
        bytes32[] memory values = given ? finalVector : new bytes32[](t.leafCount);
        if (values.length != t.leafCount) revert MalformedOpening(0);
        if (a.leaves.length != t.leafCount * _LEAF_BYTES || _batchRoot(a.leaves) != t.root) revert LeavesMismatch(t.root);
        if (a.issuedTotals.length != t.leafCount) revert AttestationsMismatch(0);
        accounts = new address[](values.length * _MAX_ATTESTERS);
        amounts = new uint256[](values.length * _MAX_ATTESTERS);
        uint256[24] memory st = _state(t, given, values, accounts, amounts);
        _proofState(st, t, a);
        uint256 count;
        (count, paid) = _book(st, opening);
        if (st[18] != a.signatures.length) revert AttestationsMismatch(st[18]);
        assembly ("memory-safe") {
            mstore(accounts, count)
            mstore(amounts, count)
        }
        vectorHash = keccak256(abi.encodePacked(values));
    }

    /// @dev The booking state _book works on, one word each.
    function _state(
        OpenTerms calldata t,
        bool given,
        bytes32[] memory values,
        address[] memory accounts,
        uint256[] memory amounts
    ) private pure returns (uint256[24] memory st) {
        st[0] = t.finalMask;
        st[1] = t.auditMask;
        st[2] = t.finalPot;
        st[3] = t.unauditedPot;
        st[4] = t.speed;
        st[5] = given ? 1 : 0;
        uint256 v;
        uint256 a;
        uint256 b;
        assembly ("memory-safe") {
            v := values
            a := accounts
            b := amounts
        }
        (st[6], st[7], st[8], st[9]) = (v, a, b, uint256(uint32(MalformedOpening.selector)) << 224);
    }

    /// @dev The attestation part of the booking state: calldata offsets, the domain and type hashes, scratch memory.
    function _proofState(uint256[24] memory st, OpenTerms calldata t, Attestations calldata a) private view {
        _calldataOffsets(st, a);
        st[13] = uint256(uint160(t.gateway));
        st[14] = uint256(a.engineProfile);
        st[19] = uint256(_domain(t.coordinator));
        st[20] = uint256(_TICKET_TYPEHASH);
        st[21] = uint256(_ATTESTATION_TYPEHASH);
        st[23] = uint256(uint32(AttestationsMismatch.selector)) << 224;
        bytes memory scratch = new bytes(0x1a0);
        uint256 p;
        assembly ("memory-safe") {
            p := add(scratch, 0x20)
        }
        st[22] = p;
    }

    /// @dev Where the attestations' leaves, issued totals and signatures are in calldata.
    function _calldataOffsets(uint256[24] memory st, Attestations calldata a) private pure {
        bytes calldata leaves = a.leaves;
        uint256[] calldata totals = a.issuedTotals;
        bytes calldata sigs = a.signatures;
        uint256 l;
        uint256 it;
        uint256 sg;
        assembly ("memory-safe") {
            l := leaves.offset
            it := totals.offset
            sg := sigs.offset
        }
        st[12] = l;
        st[15] = it;
        st[16] = sg;
        st[17] = sigs.length;
    }

    /// @dev Reads every entry of the opening (result 32 ‖ count 1 ‖ count × attester 20) and books each leaf's pot
    ///      between its attesters when its result stood (a Final leaf's attested result equals its final value;
    ///      without a given vector the attested result is recorded as the final value) or it is unaudited. The
    ///      first attester also gets the speed share and the dust. An attester already among the last 16 entries
    ///      is added to; otherwise a new entry starts. Returns the entry count and what the entries hold in total.
    ///      `st`: finalMask, auditMask, finalPot, unauditedPot, speed, given, values, accounts, amounts, error selector,
    ///      entry count, paid.
    function _book(uint256[24] memory st, bytes calldata opening) private view returns (uint256 count, uint256 paid) {
        assembly ("memory-safe") {
            function fail(state, at) {
                mstore(0, mload(add(state, 0x120)))
                mstore(4, at)
                revert(0, 0x24)
            }
            // adds `amount` to `who`'s entry among the last 16, else appends one; returns the entry count
            function book(accs, amts, cnt, who, amount) -> newCount {
                newCount := cnt
                let lo := 0
                if gt(cnt, 16) { lo := sub(cnt, 16) }
                let j := cnt
                for {} gt(j, lo) { j := sub(j, 1) } {
                    if eq(mload(add(accs, mul(j, 0x20))), who) {
                        let q := add(amts, mul(j, 0x20))
                        mstore(q, add(mload(q), amount))
                        break
                    }
                }
                if eq(j, lo) {
                    newCount := add(cnt, 1)
                    mstore(add(accs, mul(newCount, 0x20)), who)
                    mstore(add(amts, mul(newCount, 0x20)), amount)
                }
            }
            // leaf i's pot: a Final leaf's when its attested result is the final value, an unaudited leaf's
            function potOf(state, i, result) -> pot {
                switch and(shr(i, mload(state)), 1) // finalMask
                case 1 {
                    let slot := add(mload(add(state, 0xc0)), mul(add(i, 1), 0x20)) // values[i]
                    if iszero(mload(add(state, 0xa0))) { mstore(slot, result) } // not given: the attested result
                    if eq(mload(slot), result) { pot := mload(add(state, 0x40)) } // finalPot
                }
                default {
                    if iszero(and(shr(i, mload(add(state, 0x20))), 1)) { pot := mload(add(state, 0x60)) } // unaudited
                }
            }
            // reads the entry of leaf i at `off` (result, count, attesters) and books its pot; returns the next offset
            function entry(state, i, off, base, len) -> next {
                if gt(add(off, 33), len) { fail(state, off) }
                let c := byte(0, calldataload(add(base, add(off, 32))))
                let result := calldataload(add(base, off))
                let pot := potOf(state, i, result)
                let start := add(off, 33)
                next := add(start, mul(20, c))
                if or(gt(c, 4), gt(next, len)) { fail(state, start) }
                switch and(gt(pot, 0), gt(c, 0))
                case 1 {
                    mstore(add(state, 0x140), split(state, mload(add(state, 0x140)), pot, c, add(base, start), i, result))
                }
                default { mstore(add(state, 0x240), add(mload(add(state, 0x240)), mul(65, c))) } // unchecked signatures
            }
            // the EIP-712 struct hash of leaf i's ticket (its leaf, the gateway, the engine profile, its issuedTotal)
            function ticketHash(state, i) -> h {
                let p := mload(add(state, 0x2c0)) // scratch
                let leaf := add(mload(add(state, 0x180)), mul(i, 103))
                mstore(p, mload(add(state, 0x280))) // Ticket typehash
                mstore(add(p, 0x20), mload(add(state, 0x1a0))) // gateway
                mstore(add(p, 0x40), shr(192, calldataload(leaf))) // seq
                mstore(add(p, 0x60), calldataload(add(leaf, 8))) // functionId
                mstore(add(p, 0x80), shr(224, calldataload(add(leaf, 40)))) // version
                mstore(add(p, 0xa0), calldataload(add(leaf, 44))) // inputHash
                mstore(add(p, 0xc0), shr(160, calldataload(add(leaf, 76)))) // reward
                mstore(add(p, 0xe0), shr(216, calldataload(add(leaf, 88)))) // issuedAt
                mstore(add(p, 0x100), shr(216, calldataload(add(leaf, 93)))) // deadline
                mstore(add(p, 0x120), shr(248, calldataload(add(leaf, 98)))) // mode
                mstore(add(p, 0x140), shr(224, calldataload(add(leaf, 99)))) // secretsVersion
                mstore(add(p, 0x160), mload(add(state, 0x1c0))) // engineProfile
                mstore(add(p, 0x180), calldataload(add(mload(add(state, 0x1e0)), mul(i, 0x20)))) // issuedTotal
                h := keccak256(p, 0x1a0)
            }
            // who signed the attestation (ticket th, result) with the next 65-byte signature (0 when none recovers)
            function signer(state, th, result) -> who {
                let p := mload(add(state, 0x2c0))
                let used := mload(add(state, 0x240))
                if gt(add(used, 65), mload(add(state, 0x220))) {
                    mstore(0, mload(add(state, 0x2e0))) // AttestationsMismatch: a paid attester without a signature
                    mstore(4, used)
                    revert(0, 0x24)
                }
                let sig := add(mload(add(state, 0x200)), used)
                mstore(add(state, 0x240), add(used, 65))
                mstore(p, mload(add(state, 0x2a0))) // Attestation typehash
                mstore(add(p, 0x20), th)
                mstore(add(p, 0x40), result)
                let structHash := keccak256(p, 0x60)
                mstore(p, 0x1901000000000000000000000000000000000000000000000000000000000000)
                mstore(add(p, 2), mload(add(state, 0x260))) // domain separator
                mstore(add(p, 0x22), structHash)
                let digest := keccak256(p, 0x42)
                let r := calldataload(sig)
                let s := calldataload(add(sig, 0x20))
                let v := byte(0, calldataload(add(sig, 0x40)))
                if and(
                    iszero(gt(s, 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0)),
                    or(eq(v, 27), eq(v, 28))
                ) {
                    mstore(p, digest)
                    mstore(add(p, 0x20), v)
                    mstore(add(p, 0x40), r)
                    mstore(add(p, 0x60), s)
                    mstore(add(p, 0x80), 0)
                    if staticcall(gas(), 1, p, 0x80, add(p, 0x80), 0x20) { who := mload(add(p, 0x80)) }
                }
            }
            // books `pot` between the c attesters at `start` whose signatures recover to them; returns the entry count
            function split(state, cnt, pot, c, start, i, result) -> newCount {
                newCount := cnt
                let first := mload(add(state, 0x80)) // speed
                if lt(pot, first) { first := pot }
                let each := div(sub(pot, first), c)
                first := add(first, sub(sub(pot, first), mul(each, c)))
                let th := ticketHash(state, i)
                for { let k := 0 } lt(k, c) { k := add(k, 1) } {
                    let who := shr(96, calldataload(add(start, mul(20, k))))
                    let amount := each
                    if iszero(k) { amount := add(first, each) }
                    if eq(signer(state, th, result), who) {
                        newCount := book(mload(add(state, 0xe0)), mload(add(state, 0x100)), newCount, who, amount)
                        mstore(add(state, 0x160), add(mload(add(state, 0x160)), amount)) // paid
                    }
                }
            }
            let off := 0
            for { let i := 0 } lt(i, mload(mload(add(st, 0xc0)))) { i := add(i, 1) } {
                off := entry(st, i, off, opening.offset, opening.length)
            }
            if iszero(eq(off, opening.length)) { fail(st, off) }
            count := mload(add(st, 0x140))
            paid := mload(add(st, 0x160))
        }
    }

    /// @inheritdoc ITicketVerifier
    function batchRoot(bytes calldata leaves) external pure returns (bytes32) {
        return _batchRoot(leaves);
    }

    function _batchRoot(bytes calldata leaves) private pure returns (bytes32) {
        uint256 n = leaves.length / _LEAF_BYTES;
        if (n == 0) revert EmptyBatch();
        bytes32[] memory level = new bytes32[](n);
        bytes memory leaf = new bytes(_LEAF_BYTES);
        assembly ("memory-safe") {
            let buf := add(leaf, 0x20)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                calldatacopy(buf, add(leaves.offset, mul(i, 103)), 103)
                mstore(add(level, mul(add(i, 1), 0x20)), keccak256(buf, 103))
            }
            for {} gt(n, 1) {} {
                let m := 0
                for { let i := 0 } lt(i, n) { i := add(i, 2) } {
                    let node := mload(add(level, mul(add(i, 1), 0x20)))
                    if lt(add(i, 1), n) {
                        mstore(0, node)
                        mstore(0x20, mload(add(level, mul(add(i, 2), 0x20))))
                        node := keccak256(0, 0x40)
                    }
                    m := add(m, 1)
                    mstore(add(level, mul(m, 0x20)), node)
                }
                n := m
            }
        }
        return level[0];
    }

    /// @inheritdoc ITicketVerifier
    function auditSample(bytes32 seed, uint256 leafCount, uint256 fastMask, uint256 auditBps)
        external
        pure
        returns (uint256 mask)
    {
        for (uint256 i; i < leafCount; ++i) {
            if ((fastMask >> i) & 1 == 0) continue;
            if (uint256(keccak256(abi.encode(seed, uint256(1), i))) % 10_000 < auditBps) mask |= uint256(1) << i;
        }
    }

    /// @inheritdoc ITicketVerifier
    function tally(TallyTerms calldata t, bytes32[][] calldata vectors, uint256[] calldata groupSeats)
        external
        pure
        returns (Tally memory r)
    {
        uint256 n = t.leafCount;
        uint256 reward = t.reward;
        r.perSeat = new uint256[](vectors.length);
        r.majority = new bytes32[](n);
        bytes32[] memory finalValues = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            if ((t.auditMask >> i) & 1 == 0) {
                r.finalizerCredit += t.finalizerShare;
                r.pot += reward - t.finalizerShare;
                continue;
            }
            (bytes32 best, uint256 bestSeats, uint256 speaking) = _leafTally(vectors, groupSeats, i);
            if (bestSeats >= t.quorum) {
                r.finalMask |= uint256(1) << i;
                finalValues[i] = best;
                uint256 perSeat = t.committeeShare / bestSeats;
                r.finalizerCredit += t.finalizerShare + t.committeeShare - perSeat * bestSeats;
                r.pot += reward - t.finalizerShare - t.committeeShare;
                for (uint256 g; g < vectors.length; ++g) {
                    if (vectors[g][i] == best) r.perSeat[g] += perSeat;
                }
            } else if (speaking == 0) {
                r.refund += reward; // every revealed seat abstained: no result, nobody wrong
            } else {
                r.disputedMask |= uint256(1) << i;
                r.disputed += reward;
                r.majority[i] = best;
            }
        }
        r.finalVectorHash = keccak256(abi.encodePacked(finalValues));
    }

    /// @dev The non-abstain value with the most seats on leaf `i`, its seats, and all non-abstaining seats.
    function _leafTally(bytes32[][] calldata vectors, uint256[] calldata groupSeats, uint256 i)
        private
        pure
        returns (bytes32 best, uint256 bestSeats, uint256 speaking)
    {
        uint256 groups = vectors.length;
        for (uint256 g; g < groups; ++g) {
            bytes32 v = vectors[g][i];
            if (v == bytes32(0) || groupSeats[g] == 0) continue;
            speaking += groupSeats[g];
            uint256 seats;
            for (uint256 k; k < groups; ++k) {
                if (vectors[k][i] == v) seats += groupSeats[k];
            }
            if (seats > bestSeats) (best, bestSeats) = (v, seats);
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
        return keccak256(abi.encodePacked("\x19\x01", _domain(coordinator), structHash));
    }

    function _domain(address coordinator) private view returns (bytes32) {
        return keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, coordinator));
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
