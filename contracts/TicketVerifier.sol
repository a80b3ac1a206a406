// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITicketVerifier} from "./interfaces/ITicketVerifier.sol";

/// @title TicketVerifier
/// @notice EIP-712 ticket, attestation and batch attestation digests, ticket signature recovery, orphaned tickets
///         to leaves, the attesters' split of an opened batch with their batch co-signatures checked.
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
    uint256 private constant _POSTED_LEAF_BYTES = 51; // peerhost/wire/batch.py; the hashed leaf is 103 bytes
    uint256 private constant _MAX_ATTESTERS = 4;
    uint256 private constant _SINGLE_SEQ = uint256(1) << 63; // contract requests use the upper half of the seq space
    uint256 private constant _MODE_FAST = 0;
    uint256 private constant _MAX_COSIGNERS = 64;
    bytes32 private constant _BATCH_ATTESTATION_TYPEHASH = keccak256(
        "BatchAttestation(uint256 batchId,address gateway,bytes32 root,uint256 leafMask,bytes32 resultsHash)"
    );

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
    ) external view returns (BatchHead memory head, bytes memory leaves) {
        uint256 n = tickets.length;
        if (n == 0 || signatures.length != n) revert OrphansMismatch(n);
        Ticket calldata first = tickets[0];
        head = BatchHead(first.functionId, first.version, first.reward, first.secretsVersion);
        leaves = new bytes(n * _POSTED_LEAF_BYTES);
        for (uint256 i; i < n; ++i) {
            Ticket calldata t = tickets[i];
            if (
                t.gateway != first.gateway || t.engineProfile != first.engineProfile || t.reward != first.reward
                    || t.functionId != first.functionId || t.version != first.version
                    || t.secretsVersion != first.secretsVersion
            ) revert OrphansMismatch(i);
            if (t.issuedAt > issuedBy) revert OrphanTooEarly(i, t.issuedAt + block.timestamp - issuedBy);
            address signer = _recover(_digest(coordinator, _ticketHash(t)), signatures[i]);
            if (signer != t.gateway) revert BadTicketSignature(i, signer);
            bytes memory leaf = abi.encodePacked(t.seq, t.inputHash, t.issuedAt, t.deadline, t.mode);
            assembly ("memory-safe") {
                mcopy(add(add(leaves, 32), mul(i, 51)), add(leaf, 32), 51)
            }
        }
    }

    /// @inheritdoc ITicketVerifier
    function attesterPay(
        OpenTerms calldata t,
        bytes calldata opening,
        bytes32[] calldata finalVector,
        bytes calldata cosignatures
    ) external view returns (address[] memory accounts, uint256[] memory amounts, uint256 paid) {
        uint256[14] memory st = _scanned(t, opening, finalVector);
        uint256 d = st[11];
        if (cosignatures.length != d * 65) revert CosignaturesMismatch(d, cosignatures.length);
        paid = _checkCosignatures(t, cosignatures, st);
        assembly ("memory-safe") {
            accounts := mload(add(st, 0x100))
            amounts := mload(add(st, 0x140))
        }
    }

    /// @dev The booking state after _scan (see there), its arrays cut to the distinct attesters; the opening's
    ///      commitment and the final vector checked. st[7] holds the batch's results hash afterwards.
    function _scanned(OpenTerms calldata t, bytes calldata opening, bytes32[] calldata finalVector)
        private
        pure
        returns (uint256[14] memory st)
    {
        bool full = opening.length != 0 && opening[0] == 0x01;
        bool given = finalVector.length != 0;
        if (given && (!full || finalVector.length != t.leafCount)) revert MalformedOpening(0);
        bytes32[] memory values = full && !given ? new bytes32[](t.leafCount) : finalVector;
        st[0] = t.finalMask;
        st[1] = t.auditMask;
        st[2] = t.finalPot;
        st[3] = t.unauditedPot;
        st[4] = t.speed;
        st[5] = given ? 1 : 0;
        st[6] = _ptr(values);
        st[8] = _ptr(new bytes32[](_MAX_COSIGNERS)); // attesters
        st[9] = _ptr(new bytes32[](_MAX_COSIGNERS)); // their leaf masks
        st[10] = _ptr(new bytes32[](_MAX_COSIGNERS)); // what each is owed if it co-signed
        st[12] = uint256(uint32(MalformedOpening.selector)) << 224;
        st[13] = uint256(uint32(TooManyCosigners.selector)) << 224;
        uint256 end = _scan(st, t.leafCount, opening);
        bytes32 results = t.finalVectorHash; // compact: the attested results are the final vector
        if (full) {
            bytes32 vectorHash;
            assembly ("memory-safe") {
                let at := mload(0x40)
                let size := sub(opening.length, end)
                calldatacopy(at, add(opening.offset, end), size)
                results := keccak256(at, size)
                vectorHash := keccak256(add(values, 0x20), shl(5, mload(values)))
            }
            if (vectorHash != t.finalVectorHash) revert VectorMismatch(t.batchId, t.finalVectorHash);
        }
        if (keccak256(abi.encodePacked(t.salt, results, opening[1:end])) != t.commitment) {
            revert ResultsMismatch(t.batchId);
        }
        st[7] = uint256(results);
        assembly ("memory-safe") {
            let d := mload(add(st, 0x160))
            mstore(mload(add(st, 0x100)), d)
            mstore(mload(add(st, 0x120)), d)
            mstore(mload(add(st, 0x140)), d)
        }
    }

    /// @dev Zeroes what an attester without a valid co-signature is owed; returns the total the others are owed.
    function _checkCosignatures(OpenTerms calldata t, bytes calldata cosignatures, uint256[14] memory st)
        private
        view
        returns (uint256 paid)
    {
        bytes32 domain = _domain(t.coordinator);
        bytes32 results = bytes32(st[7]);
        for (uint256 j; j < st[11]; ++j) {
            (address who, uint256 mask, uint256 owed) = _entryOf(st, j);
            bytes32 digest = _batchDigest(domain, t, mask, results);
            address signer = _recover(digest, cosignatures[65 * j:65 * j + 65]);
            if (signer == address(0) || signer != who) {
                _setOwed(st, j, 0); // not co-signed: not paid
            } else {
                paid += owed;
            }
        }
    }

    function _batchDigest(bytes32 domain, OpenTerms calldata t, uint256 mask, bytes32 resultsHash)
        private
        pure
        returns (bytes32)
    {
        return _batchDigest(domain, t.batchId, t.gateway, t.root, mask, resultsHash);
    }

    function _entryOf(uint256[14] memory st, uint256 j) private pure returns (address who, uint256 mask, uint256 owed) {
        assembly ("memory-safe") {
            let at := shl(5, add(j, 1))
            who := mload(add(mload(add(st, 0x100)), at))
            mask := mload(add(mload(add(st, 0x120)), at))
            owed := mload(add(mload(add(st, 0x140)), at))
        }
    }

    function _setOwed(uint256[14] memory st, uint256 j, uint256 amount) private pure {
        assembly ("memory-safe") {
            mstore(add(mload(add(st, 0x140)), shl(5, add(j, 1))), amount)
        }
    }

    /// @inheritdoc ITicketVerifier
    function batchAttestationDigest(
        address coordinator,
        uint256 batchId,
        address gateway,
        bytes32 root,
        uint256 leafMask,
        bytes32 resultsHash
    ) external view returns (bytes32) {
        return _batchDigest(_domain(coordinator), batchId, gateway, root, leafMask, resultsHash);
    }

    function _ptr(bytes32[] memory a) private pure returns (uint256 p) {
        assembly ("memory-safe") {
            p := a
        }
    }

    /// @dev Reads the opening (peerhost/wire/batch.py: form 1, then the attester part: d 1 ‖ d × attester 20 ‖ `n`
    ///      entries of count 1 ‖ count × index 1; then, in the full form (1), the `n` attested results, 32 each; the
    ///      compact form (0) has none: its attested results are the final vector) in one pass: the attester list (at
    ///      most 64); a Final leaf's value (the full form's attested result when no final vector is given); per
    ///      listed attester the mask of the leaves that name it and what it is owed if it co-signed: per leaf whose
    ///      attested result stood (Final and equal to its value, or unaudited), the leaf's pot split equally between
    ///      its attesters, the first also taking `speed` and the dust. Returns where the attester part ends.
    ///      `st`: finalMask, auditMask, finalPot, unauditedPot, speed, given, values, results[0] (full form; else 0),
    ///      attesters, masks, amounts
    ///      (arrays of capacity 64), distinct attesters so far, MalformedOpening and TooManyCosigners selectors.
    function _scan(uint256[14] memory st, uint256 n, bytes calldata opening) private pure returns (uint256 end) {
        assembly ("memory-safe") {
            function fail(s, at) {
                mstore(0, mload(add(s, 0x180)))
                mstore(4, at)
                revert(0, 0x24)
            }
            if lt(opening.length, 2) { fail(st, 0) }
            end := opening.length
            switch byte(0, calldataload(opening.offset))
            case 0 { mstore(add(st, 0xe0), 0) }
            case 1 {
                if lt(end, shl(5, n)) { fail(st, 0) }
                end := sub(end, shl(5, n))
                mstore(add(st, 0xe0), add(opening.offset, end)) // the full form's results[0]
            }
            default { fail(st, 0) }
            let d := byte(0, calldataload(add(opening.offset, 1)))
            if gt(d, 64) {
                mstore(0, mload(add(st, 0x1a0)))
                mstore(4, 64)
                revert(0, 0x24)
            }
            let off := add(2, mul(20, d))
            if gt(off, end) { fail(st, 1) }
            {
                let list := mload(add(st, 0x100))
                for { let j := 0 } lt(j, d) { j := add(j, 1) } {
                    mstore(add(list, shl(5, add(j, 1))), shr(96, calldataload(add(opening.offset, add(2, mul(20, j))))))
                }
            }
            mstore(add(st, 0x160), d)
            // a compact opening with one attester on every leaf (each entry 01 00: read 16 a word) owes it the
            // whole pot of every paid leaf (one attester per leaf: the speed share and the dust are its too)
            if and(eq(d, 1), iszero(mload(add(st, 0xe0)))) {
                if eq(sub(end, off), shl(1, n)) {
                    let p := add(opening.offset, off)
                    let last := add(p, shl(1, n))
                    let same := 1
                    for {} lt(p, last) { p := add(p, 32) } {
                        let drop := 0
                        if lt(sub(last, p), 32) { drop := shl(3, sub(32, sub(last, p))) }
                        let w := 0x0100010001000100010001000100010001000100010001000100010001000100
                        if iszero(eq(shr(drop, calldataload(p)), shr(drop, w))) { same := 0 }
                    }
                    if same {
                        let all := not(0)
                        if lt(n, 256) { all := sub(shl(n, 1), 1) }
                        mstore(add(mload(add(st, 0x120)), 0x20), all)
                        let owed := mul(popcount(and(mload(st), all)), mload(add(st, 0x40)))
                        owed := add(owed, mul(popcount(and(not(mload(add(st, 0x20))), all)), mload(add(st, 0x60))))
                        mstore(add(mload(add(st, 0x140)), 0x20), owed)
                        n := 0 // the per-leaf pass below has nothing left to read
                        off := end
                    }
                }
            }
            function popcount(x) -> c {
                x := sub(x, and(shr(1, x), 0x5555555555555555555555555555555555555555555555555555555555555555))
                x := add(
                    and(x, 0x3333333333333333333333333333333333333333333333333333333333333333),
                    and(shr(2, x), 0x3333333333333333333333333333333333333333333333333333333333333333)
                )
                x := and(add(x, shr(4, x)), 0x0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f)
                x := add(
                    and(x, 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff),
                    and(shr(8, x), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)
                )
                c := shr(240, mul(x, 0x0001000100010001000100010001000100010001000100010001000100010001))
            }
            // leaf i's entry at `off`: count c ‖ c attester indexes
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                if iszero(lt(off, end)) { fail(st, off) }
                let c := byte(0, calldataload(add(opening.offset, off)))
                off := add(off, 1)
                if or(gt(c, 4), gt(add(off, c), end)) { fail(st, off) }
                if c {
                    let first
                    let each
                    {
                        // the leaf's pot: a Final leaf's when its attested result is its value, an unaudited leaf's
                        let pot := 0
                        switch and(shr(i, mload(st)), 1)
                        case 1 {
                            pot := mload(add(st, 0x40)) // compact: the attested result is the value
                            first := mload(add(st, 0xe0))
                            if first {
                                first := calldataload(add(first, shl(5, i))) // the full form's attested result
                                let slot := add(mload(add(st, 0xc0)), shl(5, add(i, 1)))
                                if iszero(mload(add(st, 0xa0))) { mstore(slot, first) }
                                if iszero(eq(mload(slot), first)) { pot := 0 }
                            }
                        }
                        default { if iszero(and(shr(i, mload(add(st, 0x20))), 1)) { pot := mload(add(st, 0x60)) } }
                        // split between the c attesters: the first also takes `speed` (at most the pot) and the dust
                        first := mload(add(st, 0x80))
                        if lt(pot, first) { first := pot }
                        each := div(sub(pot, first), c)
                        first := add(first, sub(sub(pot, first), mul(each, c)))
                    }
                    for { let k := 0 } lt(k, c) { k := add(k, 1) } {
                        let j := byte(0, calldataload(add(opening.offset, add(off, k))))
                        if iszero(lt(j, d)) { fail(st, add(off, k)) }
                        // attester j is listed on leaf i and owed its amount (listed twice: paid twice, as drawn)
                        j := shl(5, add(j, 1))
                        let slot := add(mload(add(st, 0x120)), j)
                        mstore(slot, or(mload(slot), shl(i, 1)))
                        slot := add(mload(add(st, 0x140)), j)
                        mstore(slot, add(mload(slot), add(each, mul(iszero(k), first))))
                    }
                }
                off := add(off, c)
            }
            if iszero(eq(off, end)) { fail(st, off) }
        }
    }

    function _batchDigest(
        bytes32 domain,
        uint256 batchId,
        address gateway,
        bytes32 root,
        uint256 leafMask,
        bytes32 resultsHash
    ) private pure returns (bytes32) {
        bytes32 structHash =
            keccak256(abi.encode(_BATCH_ATTESTATION_TYPEHASH, batchId, gateway, root, leafMask, resultsHash));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @inheritdoc ITicketVerifier
    function batchRoot(BatchHead calldata head, bytes calldata leaves) external pure returns (bytes32) {
        return _batchRoot(head, leaves);
    }

    /// @inheritdoc ITicketVerifier
    function scanPosted(BatchHead calldata head, bytes calldata leaves, PostTerms calldata terms)
        external
        view
        returns (PostScan memory scan)
    {
        bool bad;
        (scan, bad) = _scanFast(head, leaves, terms);
        if (bad) scan = _scanChecked(head, leaves, terms); // reverts with the first bad leaf's error
    }

    /// @dev scanPosted in assembly: the checks, seq runs, fast leaves and issuedAt range in one pass (_walk), then the
    ///      root (_batchRoot); `bad` when any leaf fails a check: _scanChecked then names the first failure.
    function _scanFast(BatchHead calldata head, bytes calldata leaves, PostTerms calldata terms)
        private
        view
        returns (PostScan memory scan, bool bad)
    {
        uint256 n = leaves.length / _POSTED_LEAF_BYTES;
        if (n == 0) revert EmptyBatch();
        uint256[] memory runs = new uint256[](2 * n);
        bytes32[] memory level = new bytes32[](n);
        uint256[7] memory h = _leafHashing(head, level);
        h[5] = terms.maxTicketLife;
        h[6] = (terms.single ? 1 : 0) | (terms.fullAudit ? 2 : 0);
        bad = _walk(leaves, n, runs, scan, h);
        scan.seqRuns = runs;
        scan.root = _reduce(level, n);
    }

    /// @dev What _walk rebuilds and hashes each 103-byte leaf with: a scratch buffer, the head's functionId,
    ///      version (shifted to its place) and reward ‖ secretsVersion tail (as _batchRoot), and the array of leaf
    ///      hashes to fill (then the caller sets the ticket life and cfg).
    function _leafHashing(BatchHead calldata head, bytes32[] memory level) private pure returns (uint256[7] memory h) {
        bytes memory leaf = new bytes(128); // the 103-byte leaf and room for the last 32-byte store
        assembly ("memory-safe") {
            mstore(h, add(leaf, 0x20))
            mstore(add(h, 0x80), level)
        }
        h[1] = uint256(head.functionId);
        h[2] = uint256(head.version) << 224;
        h[3] = (uint256(head.reward) << 160) | (uint256(head.secretsVersion) << 40);
    }

    /// @dev One pass over the posted leaves: writes the seq runs into `runs` (its length set to the pairs' words),
    ///      the fast mask and issuedAt range into `scan`, each leaf's hash into `h`'s array (_leafHashing); returns
    ///      whether any leaf fails a check. `h`: _leafHashing's, then the ticket life and `cfg` (1 single, 2 full
    ///      audit).
    function _walk(bytes calldata leaves, uint256 n, uint256[] memory runs, PostScan memory scan, uint256[7] memory h)
        private
        view
        returns (bool bad)
    {
        assembly ("memory-safe") {
            let word := not(0)
            let bits := 0
            let out := add(runs, 0x20) // next free pair
            let fast := 0
            let minI := not(0)
            let maxI := 0
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let p := add(leaves.offset, mul(i, 51))
                let w := calldataload(add(p, 40))
                {
                    // the 103-byte leaf (as _batchRoot) and its hash
                    let buf := mload(h)
                    mstore(buf, calldataload(p)) // seq (bytes 0..8; the rest is overwritten)
                    mstore(add(buf, 8), mload(add(h, 0x20)))
                    mstore(add(buf, 40), mload(add(h, 0x40)))
                    mstore(add(buf, 44), calldataload(add(p, 8))) // inputHash
                    mstore(add(buf, 76), or(mload(add(h, 0x60)), shl(72, shr(168, w))))
                    mstore(add(mload(add(h, 0x80)), shl(5, add(i, 1))), keccak256(buf, 103))
                }
                let issuedAt := shr(216, w)
                {
                    let deadline := and(shr(176, w), 0xffffffffff)
                    bad := or(bad, or(lt(deadline, timestamp()), gt(issuedAt, timestamp())))
                    // the life wraps when issuedAt > deadline: bad then anyway
                    bad := or(bad, or(gt(issuedAt, deadline), gt(sub(deadline, issuedAt), mload(add(h, 0xa0)))))
                    let mode := and(shr(168, w), 0xff)
                    bad := or(bad, gt(mode, 2))
                    if iszero(or(mode, and(mload(add(h, 0xc0)), 2))) { fast := or(fast, shl(i, 1)) }
                }
                if lt(issuedAt, minI) { minI := issuedAt }
                if gt(issuedAt, maxI) { maxI := issuedAt }
                if iszero(and(mload(add(h, 0xc0)), 1)) {
                    let seq := shr(192, calldataload(p))
                    bad := or(bad, shr(63, seq)) // reserved for single requests
                    if iszero(eq(shr(8, seq), word)) {
                        if iszero(eq(word, not(0))) {
                            mstore(out, word)
                            mstore(add(out, 0x20), bits)
                            out := add(out, 0x40)
                        }
                        word := shr(8, seq)
                        bits := 0
                    }
                    let bit := shl(and(seq, 255), 1)
                    bad := or(bad, iszero(iszero(and(bits, bit))))
                    bits := or(bits, bit)
                }
            }
            if iszero(eq(word, not(0))) {
                mstore(out, word)
                mstore(add(out, 0x20), bits)
                out := add(out, 0x40)
            }
            mstore(runs, shr(5, sub(out, add(runs, 0x20))))
            mstore(add(scan, 0x20), fast)
            mstore(add(scan, 0x40), minI)
            mstore(add(scan, 0x60), maxI)
        }
    }

    /// @dev scanPosted checked leaf by leaf: reverts with the first bad leaf's error.
    function _scanChecked(BatchHead calldata head, bytes calldata leaves, PostTerms calldata terms)
        private
        view
        returns (PostScan memory scan)
    {
        uint256 n = leaves.length / _POSTED_LEAF_BYTES;
        uint256[] memory runs = new uint256[](2 * n);
        uint256 r;
        uint256 word = type(uint256).max;
        uint256 bits;
        scan.minIssuedAt = type(uint256).max;
        for (uint256 i; i < n; ++i) {
            (uint256 seq, uint256 issuedAt, uint256 deadline, uint256 mode) = _postedLeaf(leaves, i);
            if (deadline < block.timestamp) revert TicketExpired(seq, deadline);
            if (issuedAt > block.timestamp || issuedAt > deadline || deadline - issuedAt > terms.maxTicketLife) {
                revert InvalidTicketTimes(seq, issuedAt, deadline);
            }
            if (mode > 2) revert InvalidMode(seq, uint8(mode));
            if (mode == _MODE_FAST && !terms.fullAudit) scan.fastMask |= uint256(1) << i;
            if (issuedAt < scan.minIssuedAt) scan.minIssuedAt = issuedAt;
            if (issuedAt > scan.maxIssuedAt) scan.maxIssuedAt = issuedAt;
            if (terms.single) continue; // seq from the requester's counter: never reused, no bitmap
            if (seq >= _SINGLE_SEQ) revert SeqReserved(seq);
            if (seq >> 8 != word) {
                if (word != type(uint256).max) r = _run(runs, r, word, bits);
                word = seq >> 8;
                bits = 0;
            }
            uint256 bit = uint256(1) << (seq & 255);
            if (bits & bit != 0) revert SeqAlreadyPosted(terms.gateway, seq);
            bits |= bit;
        }
        if (word != type(uint256).max) r = _run(runs, r, word, bits);
        assembly ("memory-safe") {
            mstore(runs, r)
        }
        scan.seqRuns = runs;
        scan.root = _batchRoot(head, leaves);
    }

    /// @dev Appends the pair (word, bits) at `r`; returns the next free index.
    function _run(uint256[] memory runs, uint256 r, uint256 word, uint256 bits) private pure returns (uint256) {
        runs[r] = word;
        runs[r + 1] = bits;
        return r + 2;
    }

    /// @dev Fields of posted leaf `i` (seq 8, inputHash 32, issuedAt 5, deadline 5, mode 1).
    function _postedLeaf(bytes calldata leaves, uint256 i)
        private
        pure
        returns (uint256 seq, uint256 issuedAt, uint256 deadline, uint256 mode)
    {
        assembly ("memory-safe") {
            let p := add(leaves.offset, mul(i, 51))
            seq := shr(192, calldataload(p))
            let w := calldataload(add(p, 40))
            issuedAt := shr(216, w)
            deadline := and(shr(176, w), 0xffffffffff)
            mode := and(shr(168, w), 0xff)
        }
    }

    function _batchRoot(BatchHead calldata head, bytes calldata leaves) private pure returns (bytes32) {
        uint256 n = leaves.length / _POSTED_LEAF_BYTES;
        if (n == 0) revert EmptyBatch();
        bytes32[] memory level = new bytes32[](n);
        bytes memory leaf = new bytes(128); // the 103-byte leaf and room for the last 32-byte store
        bytes32 functionId = head.functionId;
        uint256 version = uint256(head.version) << 224;
        // reward 12 ‖ (issuedAt 5 ‖ deadline 5 ‖ mode 1 from the posted leaf) ‖ secretsVersion 4, from leaf byte 76
        uint256 tail = (uint256(head.reward) << 160) | (uint256(head.secretsVersion) << 40);
        assembly ("memory-safe") {
            let buf := add(leaf, 0x20)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let p := add(leaves.offset, mul(i, 51))
                mstore(buf, calldataload(p)) // seq (bytes 0..8; the rest is overwritten)
                mstore(add(buf, 8), functionId)
                mstore(add(buf, 40), version)
                mstore(add(buf, 44), calldataload(add(p, 8))) // inputHash
                mstore(add(buf, 76), or(tail, shl(72, shr(168, calldataload(add(p, 40))))))
                mstore(add(level, mul(add(i, 1), 0x20)), keccak256(buf, 103))
            }
        }
        return _reduce(level, n);
    }

    /// @dev The Merkle root of `n` leaf hashes in `level` (overwritten): pairs keccak(left ‖ right), an unpaired last
    ///      node moves up unchanged.
    function _reduce(bytes32[] memory level, uint256 n) private pure returns (bytes32) {
        assembly ("memory-safe") {
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
    function summarize(bytes32[] calldata vector, uint256 auditMask)
        external
        pure
        returns (uint256 finalMask, bytes32 finalVectorHash)
    {
        uint256 n = vector.length;
        bytes32[] memory finalValues = vector;
        for (uint256 i; i < n; ++i) {
            if ((auditMask >> i) & 1 == 0) finalValues[i] = bytes32(0);
            else if (finalValues[i] != bytes32(0)) finalMask |= uint256(1) << i;
        }
        finalVectorHash = keccak256(abi.encodePacked(finalValues));
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
    function tally(
        TallyTerms calldata t,
        bytes32[][] calldata vectors,
        uint256[] calldata holders,
        bytes32[] calldata votes
    ) external pure returns (Tally memory r) {
        (uint256[] memory groupOf, uint256[] memory groupSeats) = _group(t, vectors, holders, votes);
        r = _tally(t, vectors, groupSeats);
        r.groupOf = groupOf;
    }

    /// @dev tally's per-leaf pass, given each vector's seats.
    function _tally(TallyTerms calldata t, bytes32[][] calldata vectors, uint256[] memory groupSeats)
        private
        pure
        returns (Tally memory r)
    {
        uint256 n = t.leafCount;
        uint256 reward = t.reward;
        r.agreed = new uint256[](vectors.length);
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
                uint256 perSeat = t.committeeShare / t.seats;
                r.finalizerCredit += t.finalizerShare + t.committeeShare - perSeat * t.seats;
                r.refund += perSeat * (t.seats - bestSeats);
                r.pot += reward - t.finalizerShare - t.committeeShare;
                for (uint256 g; g < vectors.length; ++g) {
                    if (vectors[g][i] == best) ++r.agreed[g];
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

    /// @dev Maps each holder that revealed (a non-zero vote) to the vector with its hash and counts each vector's
    ///      seats; every vector must have one entry per leaf.
    function _group(TallyTerms calldata t, bytes32[][] calldata vectors, uint256[] calldata holders, bytes32[] calldata votes)
        private
        pure
        returns (uint256[] memory groupOf, uint256[] memory groupSeats)
    {
        uint256 groups = vectors.length;
        groupOf = new uint256[](holders.length);
        groupSeats = new uint256[](groups);
        bytes32[] memory hashes = new bytes32[](groups);
        for (uint256 g; g < groups; ++g) {
            if (vectors[g].length != t.leafCount) revert VectorMismatch(t.batchId, bytes32(0));
            hashes[g] = keccak256(abi.encodePacked(vectors[g]));
        }
        for (uint256 h; h < holders.length; ++h) {
            groupOf[h] = type(uint256).max;
            bytes32 vote = votes[h];
            if (vote == bytes32(0)) continue;
            uint256 g;
            while (g < groups && hashes[g] != vote) ++g;
            if (g == groups) revert MissingVector(t.batchId, address(uint160(holders[h])));
            groupOf[h] = g;
            groupSeats[g] += uint8(holders[h] >> 160);
        }
    }

    /// @dev The non-abstain value with the most seats on leaf `i`, its seats, and all non-abstaining seats.
    function _leafTally(bytes32[][] calldata vectors, uint256[] memory groupSeats, uint256 i)
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
