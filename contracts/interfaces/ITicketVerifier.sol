// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ITicketVerifier
/// @notice EIP-712 tickets and attestations (peerhost/wire/ticket.py) and batch Merkle proofs
///         (peerhost/wire/batch.py), stateless: every digest names the settlement coordinator as its
///         verifying contract, passed in by the caller.
/// @dev Domain: EIP712Domain(name "PeerHost", version "2", chainId, verifyingContract = coordinator).
interface ITicketVerifier {
    /// @notice A gateway's signed ticket.
    struct Ticket {
        address gateway;
        uint64 seq;
        bytes32 functionId;
        uint32 version;
        bytes32 inputHash;
        uint96 reward;
        uint40 issuedAt;
        uint40 deadline;
        uint8 mode; // 0 fast, 1 attested, 2 verified
        uint32 secretsVersion;
        bytes32 engineProfile;
        uint256 issuedTotal; // the gateway's running total issued, this ticket included
    }

    /// @notice What every leaf of a posted batch shares (peerhost/wire/batch.py `BatchHead`): the leaves in calldata
    ///         carry only seq, inputHash, issuedAt, deadline and mode (51 bytes); the 103-byte leaf that is hashed
    ///         is rebuilt from the head and the posted leaf.
    struct BatchHead {
        bytes32 functionId;
        uint32 version;
        uint96 reward;
        uint32 secretsVersion;
    }

    /// @notice What a post's leaves are checked against (SettlementCoordinator's postBatch, postOrphans,
    ///         requestExecution).
    struct PostTerms {
        address gateway; // the batch's gateway: named in SeqAlreadyPosted
        uint256 maxTicketLife; // deadline - issuedAt at most this
        bool single; // a contract's single request: its seq comes from the requester's counter, never checked here
        bool fullAudit; // every leaf audited: no fast leaf is left to the audit sample
    }

    /// @notice What a post's checked leaves hold.
    struct PostScan {
        bytes32 root; // as batchRoot
        uint256 fastMask; // fast leaves (none when fullAudit)
        uint256 minIssuedAt;
        uint256 maxIssuedAt;
        uint256[] seqRuns; // pairs (word, bits): the leaves' seqs as bits of the gateway's seq bitmap (seq >> 8, 1 <<
        // (seq & 255)), one pair per run of consecutive leaves in one word; empty for a single request
    }

    /// @notice What a batch's attesters are owed when its attested results are opened (SettlementCoordinator).
    struct OpenTerms {
        address coordinator; // the co-signatures' verifying contract
        uint256 batchId; // the batch being opened: what each co-signature names
        address gateway; // the batch's gateway: every ticket's
        bytes32 root; // the batch's leaf root
        uint256 leafCount;
        uint256 finalMask; // leaves with a Final result: paid when the attested result equals it
        uint256 auditMask; // leaves outside it are unaudited: paid on the attested result
        uint256 finalPot; // attesters' share of a Final leaf
        uint256 unauditedPot; // attesters' share of an unaudited leaf
        uint256 speed; // the first attester's premium out of a leaf's share
        bytes32 salt; // the opening's salt
        bytes32 commitment; // the batch's resultsCommitment: keccak(salt ‖ resultsHash ‖ attester part)
        bytes32 finalVectorHash; // the batch's final vector hash (a compact opening's results hash)
    }

    /// @notice What tallying a batch's revealed vectors needs (SettlementCoordinator.finalize).
    struct TallyTerms {
        uint256 leafCount;
        uint256 auditMask; // leaves the committee re-executes
        uint256 quorum; // Q
        uint256 reward; // per leaf
        uint256 finalizerShare; // per settled leaf
        uint256 committeeShare; // per Final leaf: committeeShare / seats to each agreeing seat
        uint256 seats; // K: a dissenting, abstaining or silent seat's part goes back to the payer
        uint256 batchId; // named in errors
    }

    /// @notice The outcome of a tally.
    struct Tally {
        uint256 finalMask; // audited leaves where >= Q seats agree on a non-abstain value
        uint256 disputedMask; // audited leaves without quorum where some seat spoke
        uint256 finalizerCredit;
        uint256 refund; // rewards of audited leaves every revealed seat abstained on, and the committee share of
        // a Final leaf's seats that did not agree with it
        uint256 pot; // owed to attesters (Final and unaudited leaves)
        uint256 disputed; // rewards of disputed leaves
        bytes32 finalVectorHash; // keccak of the final values (ABSTAIN where not Final)
        uint256[] agreed; // per vector: the Final leaves it agreed on (each seat's pay: committeeShare / seats each)
        bytes32[] majority; // per leaf: a disputed leaf's leading value
        uint256[] groupOf; // per holder: the index of the vector it revealed (type(uint256).max: none)
    }

    /// @notice Thrown when `cosignatures` is not one 65-byte signature per attester of the opening's list
    ///         (`attesters` of them, list order); `length` is what was given.
    error CosignaturesMismatch(uint256 attesters, uint256 length);
    /// @notice Thrown when a tallied vector does not have one entry per leaf (as ISettlementCoordinator's).
    error VectorMismatch(uint256 batchId, bytes32 expected);
    /// @notice Thrown when a revealed holder's vector is missing from a tally (as ISettlementCoordinator's).
    error MissingVector(uint256 batchId, address worker);
    /// @notice Thrown when an opening does not open the batch's results commitment (as ISettlementCoordinator's).
    error ResultsMismatch(uint256 batchId);
    /// @notice Thrown when an opening's attester list is longer than `max`.
    error TooManyCosigners(uint256 max);

    /// @notice Thrown when an opening is not its form (0 compact, 1 full), an attester list (d ‖ d × address), then
    ///         `leafCount` entries of (count <= 4, count one-byte indexes below d), then in the full form `leafCount`
    ///         results; or a final vector is given with a compact opening or is not `leafCount` long; `offset` is
    ///         where.
    error MalformedOpening(uint256 offset);

    /// @notice Thrown when a ticket is posted after its deadline (as ISettlementCoordinator's).
    error TicketExpired(uint256 seq, uint256 deadline);
    /// @notice Thrown when a ticket's issuedAt is in the future, after its deadline, or its life exceeds maxTicketLife
    ///         (as ISettlementCoordinator's).
    error InvalidTicketTimes(uint256 seq, uint256 issuedAt, uint256 deadline);
    /// @notice Thrown when a ticket's mode is not 0, 1 or 2 (as ISettlementCoordinator's).
    error InvalidMode(uint256 seq, uint8 mode);
    /// @notice Thrown when one batch posts a seq twice (as ISettlementCoordinator's, which also checks the bitmap).
    error SeqAlreadyPosted(address gateway, uint256 seq);
    /// @notice Thrown when a posted ticket's seq is in the upper half, reserved for contracts' single requests (as
    ///         ISettlementCoordinator's).
    error SeqReserved(uint256 seq);

    /// @notice Thrown when a batch root is asked of no leaves.
    error EmptyBatch();
    /// @notice Thrown when orphaned tickets are empty, differ in gateway, engine profile or reward, or lack signatures.
    error OrphansMismatch(uint256 index);
    /// @notice Thrown when an orphaned ticket's signature is not its gateway's (`signer` is who signed, or zero).
    error BadTicketSignature(uint256 index, address signer);
    /// @notice Thrown when a ticket is posted as an orphan before `postableAt` (its gateway may still post it).
    error OrphanTooEarly(uint256 index, uint256 postableAt);

    /// @notice The ticket's EIP-712 struct hash (what an attestation names).
    function ticketHash(Ticket calldata ticket) external pure returns (bytes32);

    /// @notice The digest a gateway signs for `ticket`.
    function ticketDigest(address coordinator, Ticket calldata ticket) external view returns (bytes32);

    /// @notice The digest a worker signs to attest `resultHash` for the ticket `ticketHash_`.
    function attestationDigest(address coordinator, bytes32 ticketHash_, bytes32 resultHash)
        external
        view
        returns (bytes32);

    /// @notice Who signed `ticket` (zero for a malformed or high-s signature).
    function ticketSigner(address coordinator, Ticket calldata ticket, bytes calldata signature)
        external
        view
        returns (address);

    /// @notice Checks that every ticket is signed by its gateway, was issued at or before `issuedBy` (it is
    ///         orphaned), and that all share gateway, engine profile, function, version, reward and secrets version;
    ///         returns their batch head and their 51-byte posted leaves concatenated.
    function orphanLeaves(
        address coordinator,
        Ticket[] calldata tickets,
        bytes[] calldata signatures,
        uint256 issuedBy
    ) external view returns (BatchHead memory head, bytes memory leaves);

    /// @notice Splits the attesters' pay of an opened batch (peerhost/wire/batch.py's results opening): per leaf whose
    ///         attested result stood, its share goes to its attesters, the first also taking `speed` and the dust.
    ///         The opening must open `terms.commitment` = keccak(salt ‖ resultsHash ‖ attester part), resultsHash the
    ///         keccak of every leaf's attested result in leaf order: a full opening carries the results; a compact
    ///         one carries none and opens only when the attested results are the batch's final vector (resultsHash =
    ///         `terms.finalVectorHash`). An attester is paid only when it co-signed the batch: one EIP-712
    ///         BatchAttestation(batchId, gateway, root, leafMask, resultsHash) per attester per batch, `leafMask` every
    ///         leaf the opening lists it on. An attester without a valid co-signature is paid nothing for the batch
    ///         (its part goes back to the payer); there is no per-ticket fallback. The per-ticket attestations stay
    ///         the evidence attestation slashing uses. Reverts ResultsMismatch when the opening does not open the
    ///         commitment and VectorMismatch when the final vector used is not the batch's.
    /// @param finalVector With a full opening, the batch's final vector, or empty: then every Final leaf's value is
    ///        taken to be its attested result (the vector so built must be the batch's); empty with a compact one.
    /// @param cosignatures 65 bytes (r ‖ s ‖ v) per attester of the opening's list, in list order (65 zero
    ///        bytes for one that did not co-sign).
    /// @return accounts The opening's attester list, in order.
    /// @return amounts What each is owed (zero for one without a valid co-signature).
    /// @return paid Their sum.
    function attesterPay(
        OpenTerms calldata terms,
        bytes calldata opening,
        bytes32[] calldata finalVector,
        bytes calldata cosignatures
    ) external view returns (address[] memory accounts, uint256[] memory amounts, uint256 paid);

    /// @notice The digest an attester signs to co-sign batch `batchId` (see attesterPay; peerhost/wire/batch.py).
    function batchAttestationDigest(
        address coordinator,
        uint256 batchId,
        address gateway,
        bytes32 root,
        uint256 leafMask,
        bytes32 resultsHash
    ) external view returns (bytes32);

    /// @notice The Merkle root of a posted batch (peerhost/wire/batch.py): each 51-byte posted leaf is rebuilt into
    ///         its 103-byte leaf with `head`; leaf hash keccak(leaf), pairs keccak(left ‖ right), an unpaired last node
    ///         moves up unchanged. Trailing bytes short of a posted leaf are ignored.
    function batchRoot(BatchHead calldata head, bytes calldata leaves) external pure returns (bytes32);

    /// @notice Checks a post's leaves (peerhost/wire/batch.py: seq 8, inputHash 32, issuedAt 5, deadline 5, mode 1)
    ///         and returns their root, fast leaves, issuedAt range and seq bits: every leaf unexpired (deadline >=
    ///         now), issuedAt <= now and <= deadline, a life of at most `maxTicketLife`, a mode 0-2, and (unless
    ///         single) a seq below 2^63 posted once in this batch. The caller checks the seq bits against its bitmap.
    function scanPosted(BatchHead calldata head, bytes calldata leaves, PostTerms calldata terms)
        external
        view
        returns (PostScan memory scan);

    /// @notice A revealed vector's summary for settling on it: the audited leaves it does not abstain on
    ///         (`finalMask`) and the hash of the vector with every other leaf zeroed (the final vector).
    function summarize(bytes32[] calldata vector, uint256 auditMask)
        external
        pure
        returns (uint256 finalMask, bytes32 finalVectorHash);

    /// @notice The fast leaves a batch's seed samples for audit: leaf i when keccak(seed, 1, i) mod 10000 < auditBps.
    function auditSample(bytes32 seed, uint256 leafCount, uint256 fastMask, uint256 auditBps)
        external
        pure
        returns (uint256 mask);

    /// @notice Tallies every audited leaf over the distinct revealed `vectors`: `holders[h]` is holder h's word
    ///         (address | seats << 160), `votes[h]` the hash of the vector it revealed (zero: none), and every
    ///         revealed hash must be among `vectors` (MissingVector). A leaf is Final with >= Q agreeing seats, refunded when every seat abstained,
    ///         disputed otherwise; unaudited leaves pay the finalizer and attesters. Each agreeing seat of a Final
    ///         leaf earns `committeeShare / seats` (K, not the agreeing seats: a captured majority earns no more
    ///         for out-voting a minority); the other seats' part is refunded, the rounding dust goes to the finalizer.
    function tally(
        TallyTerms calldata terms,
        bytes32[][] calldata vectors,
        uint256[] calldata holders,
        bytes32[] calldata votes
    )
        external
        pure
        returns (Tally memory);

    /// @notice Whether `proof` places `leafHash` at `index` of a `count`-leaf batch tree with `root`
    ///         (SettlementCoordinator.getBatch gives a batch's root and leaf count).
    function verifyLeaf(bytes32 root, uint256 count, uint256 index, bytes32 leafHash, bytes32[] calldata proof)
        external
        pure
        returns (bool);
}
