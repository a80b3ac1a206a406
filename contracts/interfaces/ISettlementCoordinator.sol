// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDisputeCourt} from "./IDisputeCourt.sol";
import {IProtocolParams} from "./IProtocolParams.sol";
import {ITicketVerifier} from "./ITicketVerifier.sol";

/// @title ISettlementCoordinator
/// @notice Protocol v2 settlement: batches of gateway tickets, committees drawn by stake, batch
///         commit/reveal of per-leaf result vectors, per-leaf finalization, disputes, penalties, pull payments.
/// @dev A batch's life (docs/protocol.md):
///      Posted   : one batch head and 51-byte posted leaves (peerhost/wire/batch.py) in calldata, the Merkle
///                 root of the 103-byte leaves they stand for and a
///                 commitment to the attested results; the rewards are drawn from the project reserve.
///      Seated   : anyone proves the beacon value of block postBlock + D; K seats are drawn with replacement
///                 by stake from the post epoch. Commit until all holders committed or commitDeadline, then
///                 reveal until all committed holders revealed or revealDeadline.
///      Finalized: per leaf: >= Q seats agree on a result -> Final; every revealed seat abstains -> Refunded;
///                 otherwise Disputed: frozen, its reward handed to the DisputeCourt, which escalates it
///                 (2K+1 panel, then the whole active set) and slashes and pays when it closes. A fast leaf the seed did not
///                 sample is Unaudited (paid on the attested results). Equal vectors settle in the last reveal.
///                 Here only no-shows are slashed; seats that revealed another value than a Final leaf's are
///                 slashed by the DisputeCourt after the leaf's challenge window (`punish`) or when its case closes.
///      Closed   : the attested results were opened (attesters paid) or the open window passed (`close`); a batch
///                 without attesters closes as it settles. A Final leaf's committee pay is deferred: kept per
///                 holder at settlement and pulled by each holder after the challenge window (`claimSeatPay`, in
///                 Finalized or Closed), less the pay of leaves challenged in it (withheld by the DisputeCourt for
///                 the case).
///      Expired  : never seated within seatWindow (or its epoch's array is gone): fully refunded.
///      requestId = keccak256(abi.encode(chainId, coordinator, gateway, seq)).
///      commitment = keccak256(abi.encode(chainId, coordinator, batchId, worker, vectorHash, salt)),
///      vectorHash = keccak256(abi.encodePacked(bytes32[] vector)); ABSTAIN is bytes32(0).
interface ISettlementCoordinator is IProtocolParams {
    /// @notice Stored batch state; only moves forward.
    enum BatchState {
        None,
        Posted,
        Seated,
        Finalized,
        Closed,
        Expired
    }

    /// @notice A batch's phase at the current block.
    enum Phase {
        None,
        AwaitingSeed, // posted; the committee can be drawn once block seedBlock exists
        Commit,
        Reveal,
        Settle, // anyone may finalize
        Finalized, // settled with attesters owed; openResults (until the open window ends) or close
        Closed,
        Expired
    }

    /// @notice A leaf's state. Pending until its batch settles; Disputed leaves are frozen here and resolved by
    ///         the DisputeCourt's escalation tiers (IDisputeCourt.settledValue gives their final value).
    enum LeafState {
        None,
        Pending,
        Final,
        Unaudited,
        Refunded,
        Disputed
    }

    /// @notice A batch's state (some fields are derived: revealDeadline, auditMask, refundMask).
    struct Batch {
        address gateway;
        uint40 postedAt;
        uint32 epoch; // the stake epoch seats are drawn from
        uint16 leafCount;
        BatchState state;
        bytes32 projectId; // the reserve that paid; zero when the poster paid with the call
        bytes32 root;
        bytes32 resultsCommitment; // zero: no attesters (the batch is audited in full)
        uint96 reward; // per leaf
        uint40 seedBlock;
        uint40 commitDeadline;
        uint40 revealDeadline;
        address payer; // who gets refunds when projectId is zero
        uint8 holderCount; // distinct seat holders
        uint16 committedBits; // by holder index
        uint16 revealedBits;
        uint40 finalizedAt;
        uint256 fastMask; // bit i: leaf i is a fast leaf
        uint256 auditMask; // bit i: the committee re-executes leaf i (every non-fast leaf, sampled fast ones)
        uint256 finalMask;
        uint256 refundMask;
        uint256 disputedMask;
        bytes32 finalVectorHash; // keccak of the per-leaf final results (ABSTAIN where not Final); zero without attesters
        uint96 attesterPot; // owed to attesters until the results are opened or the window ends
    }

    /// @notice Thrown when a posted-leaf blob is empty, not a multiple of 51 bytes, or over maxLeaves.
    error InvalidLeaves(uint256 length);
    /// @notice Thrown when a reward is below the minimum.
    error RewardTooLow(uint256 reward, uint256 minReward);
    /// @notice Thrown when a ticket is posted after its deadline.
    error TicketExpired(uint256 seq, uint256 deadline);
    /// @notice Thrown when a ticket's issuedAt is in the future, after its deadline, or its life exceeds maxTicketLife.
    error InvalidTicketTimes(uint256 seq, uint256 issuedAt, uint256 deadline);
    /// @notice Thrown when a ticket's mode is not 0, 1 or 2.
    error InvalidMode(uint256 seq, uint8 mode);
    /// @notice Thrown when a ticket's function belongs to another project than the batch's.
    error FunctionNotInProject(bytes32 functionId, bytes32 projectId);
    /// @notice Thrown when a ticket names a version the function does not have.
    error UnknownVersion(bytes32 functionId, uint32 version);
    /// @notice Thrown when a gateway's seq was already posted (each ticket is paid at most once).
    error SeqAlreadyPosted(address gateway, uint256 seq);
    /// @notice Thrown when a posted ticket's seq is in the upper half, reserved for contracts' single requests.
    error SeqReserved(uint256 seq);
    /// @notice Thrown when the current epoch has no stake to draw seats from.
    error NoActiveStake(uint256 epoch);
    /// @notice Thrown when a single request's value is not its reward.
    error WrongValue(uint256 value, uint256 reward);
    /// @notice Thrown when `batchId` does not exist.
    error UnknownBatch(uint256 batchId);
    /// @notice Thrown when an action is not allowed in the batch's current phase.
    error WrongPhase(uint256 batchId, Phase phase);
    /// @notice Thrown when the seed block's hash is still available (reseed) or not yet out (seat).
    error SeedNotReady(uint256 batchId, uint256 seedBlock);
    /// @notice Thrown when a batch cannot expire yet.
    error NotExpired(uint256 batchId, uint256 seatDeadline);
    /// @notice Thrown when someone without a seat commits or reveals.
    error NotSeated(uint256 batchId, address worker);
    /// @notice Thrown when a holder list is not the batch's seated one (its hash is kept at seating).
    error HoldersMismatch(uint256 batchId);
    /// @notice Thrown when a zero commitment is sent.
    error EmptyCommitment();
    /// @notice Thrown when a holder commits twice.
    error AlreadyCommitted(uint256 batchId, address worker);
    /// @notice Thrown when a holder reveals without having committed.
    error NotCommitted(uint256 batchId, address worker);
    /// @notice Thrown when a holder reveals twice.
    error AlreadyRevealed(uint256 batchId, address worker);
    /// @notice Thrown when a reveal does not open the sender's commitment.
    error CommitmentMismatch(uint256 batchId, address worker);
    /// @notice Thrown when a vector has the wrong length or does not hash to what it should.
    error VectorMismatch(uint256 batchId, bytes32 expected);
    /// @notice Thrown when finalize is not given the vector a revealed holder committed to.
    error MissingVector(uint256 batchId, address worker);
    /// @notice Thrown when the attested results do not open the batch's commitment.
    error ResultsMismatch(uint256 batchId);
    /// @notice Thrown when there is nothing to withdraw.
    error NothingToWithdraw(address account);
    /// @notice Thrown when a holder claims a batch's seat pay it has none of (claimed before, or none earned).
    error NothingToClaim(uint256 batchId, address holder);
    /// @notice Thrown when the court is set twice or by someone other than the deployer.
    error CourtAlreadySet(address court);
    /// @notice Thrown when ETH arrives from anyone but the registries.
    error UnexpectedPayment(address from);
    /// @notice Thrown when an ETH transfer fails.
    error TransferFailed(address to, uint256 amount);
    /// @notice Thrown when anyone but the DisputeCourt calls a court-only function.
    error NotCourt(address caller);

    /// @notice Emitted when a batch is posted (leaves are in the transaction's calldata).
    event BatchPosted(
        uint256 indexed batchId,
        address indexed gateway,
        bytes32 indexed projectId,
        bytes32 root,
        bytes32 resultsCommitment,
        bytes32 engineProfile,
        uint256 reward,
        uint256 leafCount,
        uint256 seedBlock
    );
    /// @notice Emitted when someone other than the gateway posts its orphaned tickets and earns `refund` from its bond.
    event OrphansPosted(uint256 indexed batchId, address indexed poster, uint256 refund);
    /// @notice Emitted when a contract's single request becomes a one-leaf batch.
    event SingleRequested(uint256 indexed batchId, bytes32 indexed requestId, address indexed requester);
    /// @notice Emitted when a batch's seed block is moved (its hash had become unavailable).
    event Reseeded(uint256 indexed batchId, uint256 seedBlock);
    /// @notice Emitted when the committee is drawn from `seed`: `seats[j]` holds seat j.
    event BatchSeated(uint256 indexed batchId, bytes32 seed, address[] seats, uint256 auditMask);
    /// @notice Emitted when a seat holder commits.
    event SeatCommitted(uint256 indexed batchId, address indexed worker);
    /// @notice Emitted when a seat holder reveals its vector's hash (the vector is in the calldata).
    event SeatRevealed(uint256 indexed batchId, address indexed worker, bytes32 vectorHash);
    /// @notice Emitted when a batch settles.
    event BatchFinalized(
        uint256 indexed batchId,
        bytes32 finalVectorHash,
        uint256 finalMask,
        uint256 refundMask,
        uint256 disputedMask,
        address finalizer
    );
    /// @notice Emitted for each disputed leaf (frozen; escalated by the DisputeCourt); `majority` is the leading value.
    event LeafDisputed(uint256 indexed batchId, uint256 index, bytes32 majority);
    /// @notice Emitted when a seat holder is slashed (reason 1 no-show; 0, wrong value, is the DisputeCourt's now).
    event SeatSlashed(uint256 indexed batchId, address indexed worker, uint256 amount, uint8 reason);
    /// @notice Emitted when slashed stake is split: to honest seats, to the payer, burned.
    event SlashSplit(uint256 indexed batchId, uint256 toHonest, uint256 toPayer, uint256 burned);
    /// @notice Emitted when the attested results are opened and attesters paid.
    event ResultsOpened(uint256 indexed batchId, uint256 paid, uint256 returned);
    /// @notice Emitted when a batch closes.
    event BatchClosed(uint256 indexed batchId, uint256 returned);
    /// @notice Emitted when a batch expires unseated and is refunded.
    event BatchExpired(uint256 indexed batchId, uint256 refunded);
    /// @notice Emitted when `account` is credited `amount` (reason: 0 seat, 1 finalizer, 2 attester, 3 honest share, 4 refund, 5 orphan refund).
    event Credited(uint256 indexed batchId, address indexed account, uint256 amount, uint8 reason);
    /// @notice Emitted when `account` withdraws.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice Emitted when a holder claims its committee pay of a batch (sent with the claim).
    event SeatPayClaimed(uint256 indexed batchId, address indexed holder, uint256 amount);

    /// @notice Posts the caller's batch of tickets on `projectId`'s reserve: tickets of one function version, price
    ///         and secrets version (`head`; a gateway posts one batch per head).
    /// @param head The function id, version, reward and secrets version every leaf shares.
    /// @param resultsCommitment keccak(salt ‖ resultsHash ‖ attester part) of the attested results (resultsHash: keccak
    ///        of every leaf's attested result in leaf order; ITicketVerifier.attesterPay); zero for none (full audit).
    /// @param leaves The 51-byte posted leaves (seq, inputHash, issuedAt, deadline, mode), concatenated (1..maxLeaves).
    function postBatch(
        bytes32 projectId,
        bytes32 engineProfile,
        ITicketVerifier.BatchHead calldata head,
        bytes32 resultsCommitment,
        bytes calldata leaves
    ) external returns (uint256 batchId);

    /// @notice Posts a gateway's orphaned tickets (anyone; signed by the gateway, issued at least `orphanDelay`
    ///         ago and before their deadlines). All share gateway, engine profile and batch head; the gateway's bond
    ///         pays `orphanRefund` per ticket.
    function postOrphans(ITicketVerifier.Ticket[] calldata tickets, bytes[] calldata signatures, bytes32 resultsCommitment)
        external
        returns (uint256 batchId);

    /// @notice A contract's single request: a one-leaf batch paid with msg.value, audited in full. Its seq is
    ///         2^63 + the batch id (unique without a per-caller counter; no seq bitmap).
    function requestExecution(
        bytes32 functionId,
        uint32 version,
        bytes32 inputHash,
        uint8 mode,
        uint40 deadline,
        uint32 secretsVersion,
        bytes32 engineProfile
    ) external payable returns (uint256 batchId, bytes32 requestId);

    /// @notice Draws the committee from the beacon value of the batch's seed block (anyone).
    /// @param proof What the Beacon needs (HeaderBeacon: the block's RLP header).
    function seat(uint256 batchId, bytes calldata proof) external;

    /// @notice Commits the caller's vector, first drawing the committee from `proof` (as `seat`) when nobody has
    ///         yet: a seat holder seats its batch and commits in one transaction. Reverts `NotSeated` (and so
    ///         draws nothing) when the caller holds no seat of the drawn committee; once the batch is seated,
    ///         `proof` is ignored and this is `commit`.
    /// @param proof What the Beacon needs (HeaderBeacon: the seed block's RLP header).
    /// @param holders The committee's holder list as the draw names it (see `commit`).
    function seatAndCommit(uint256 batchId, bytes calldata proof, bytes32 commitment, uint256[] calldata holders)
        external;

    /// @notice Moves the seed block to block.number + D when the old one's hash is no longer available.
    function reseed(uint256 batchId) external;

    /// @notice Commits the caller's vector (one commitment per holder, whatever its seat count).
    /// @param holders The batch's holder list, kept only as a hash (HoldersMismatch when it is not that list): one
    ///        word per distinct holder in first-seat order (BatchSeated's seats), its address in the low 160 bits
    ///        and its seat count in the next 8. Every call that names holders takes it back the same way.
    function commit(uint256 batchId, bytes32 commitment, uint256[] calldata holders) external;

    /// @notice Opens the caller's commitment. `vector` may be empty when `vectorHash` equals a vector already
    ///         revealed in full. When every holder has revealed one vector, this call settles the batch.
    function reveal(
        uint256 batchId,
        bytes32 vectorHash,
        bytes32 salt,
        bytes32[] calldata vector,
        uint256[] calldata holders
    ) external;

    /// @notice Settles a batch in its Settle phase (anyone): `vectors` holds every distinct revealed vector.
    function finalize(uint256 batchId, bytes32[][] calldata vectors, uint256[] calldata holders) external;

    /// @notice Opens the attested results and pays attesters whose results stood (anyone, within openWindow, once the
    ///         batch's challenge window passed: IDisputeCourt.unpaidLeavesAfter reverts ChallengeWindowOpen before; a leaf
    ///         challenged in that window pays no attester and its share goes back to the payer). The opening is
    ///         compact (0 ‖ attester part, no results) when the attested results are the batch's final vector, full
    ///         (1 ‖ attester part ‖ every leaf's attested result) otherwise. An attester is credited only with its
    ///         co-signature of the batch: one EIP-712 BatchAttestation(batchId, gateway, root, leafMask,
    ///         resultsHash), `leafMask` every leaf the opening lists it on and `resultsHash` keccak of every leaf's
    ///         attested result in leaf order, not only its own (TicketVerifier.attesterPay); a listed attester
    ///         without a valid one is not paid for the batch (its part goes back to the payer). The seats claim
    ///         their pay themselves (`claimSeatPay`).
    /// @param finalVector With a full opening: the per-leaf final results (ABSTAIN where not Final), as hashed at
    ///        finalization, or empty when every Final leaf's result is its attested one (the opening's results
    ///        then give the vector); a full opening of a batch with a challenged leaf must give it. Empty with a
    ///        compact opening (the batch's final vector hash is its results hash).
    /// @param cosignatures One 65-byte signature per attester of the opening's list, in list order
    ///        (peerhost/wire/batch.py open_cosignatures).
    function openResults(
        uint256 batchId,
        bytes32 salt,
        bytes calldata opening,
        bytes32[] calldata finalVector,
        bytes calldata cosignatures
    ) external;

    /// @notice Closes a Finalized batch (anyone) once its open window passed: returns the unopened attester share
    ///         to the payer. (A batch without attesters is Closed as it settles.)
    function close(uint256 batchId) external;

    /// @notice Pays the caller, a holder of each batch, its committee pay of those batches in one transfer: a K-th
    ///         of a Final leaf's committee share per seat and Final leaf it agreed on, less what the DisputeCourt
    ///         withheld for leaves challenged in the batch's window; and to the holder whose reveal settled the
    ///         batch (all agreed), the finalizer's share (never withheld). Once the batch settled and its challenge window
    ///         passed (ChallengeWindowOpen before; WrongPhase before settlement), once per holder and batch
    ///         (NothingToClaim after, or with nothing earned; NotSeated for anyone else).
    /// @param holders Each batch's holder list (see `commit`).
    /// @return amount What was sent.
    function claimSeatPay(uint256[] calldata batchIds, uint256[][] calldata holders) external returns (uint256 amount);

    /// @notice Takes the deferred committee pay of a Final leaf challenged in its batch's window out of the
    ///         holders' pay and sends it to the DisputeCourt (through holdDisputed): `seats` holds, per holder
    ///         index h in bits [16h, 16h + 16), the seats that agreed on the leaf; each is worth a K-th of the
    ///         leaf's committee share. The court pays it to those seats when the case upholds the value, into the
    ///         winners' pot when it is overturned. DisputeCourt only, once the batch settled (the court checks the
    ///         window: no holder can have claimed yet).
    /// @return amount What was sent.
    function withholdSeatPay(uint256 batchId, uint256 seats, uint256[] calldata holders)
        external
        returns (uint256 amount);

    /// @notice The committee pay (and a settling holder's finalizer share) a settled batch holds for its seats until
    ///         they claim it (zero before settlement).
    function seatPayHeld(uint256 batchId, uint256[] calldata holders) external view returns (uint256);

    /// @notice What `holder` may claim of a batch's committee pay, with the finalizer's share when its reveal settled
    ///         the batch (claimSeatPay; zero once claimed, or for anyone else). Before settlement zero; within the challenge window it may still be withheld.
    function seatPayOf(uint256 batchId, address holder, uint256[] calldata holders) external view returns (uint256);

    /// @notice Refunds a batch never seated within seatWindow, or whose epoch's array is gone (anyone).
    function expire(uint256 batchId) external;

    /// @notice Pays out the caller's credits.
    function withdraw() external;

    /// @notice Wires the DisputeCourt that takes disputed leaves (deployer only, once).
    function setCourt(IDisputeCourt court) external;

    /// @notice The DisputeCourt disputed leaves go to.
    function court() external view returns (address);

    /// @notice A batch's stored state. Reverts UnknownBatch.
    function getBatch(uint256 batchId) external view returns (Batch memory);

    /// @notice A batch's phase now.
    function phaseOf(uint256 batchId) external view returns (Phase);

    /// @notice A leaf's state.
    function leafState(uint256 batchId, uint256 index) external view returns (LeafState);

    /// @notice Reverts HoldersMismatch unless `holders` is the batch's seated holder list (see `commit`; the list
    ///         itself is in BatchSeated's seats: its distinct holders in first-seat order, with their counts).
    function checkHolders(uint256 batchId, uint256[] calldata holders) external view;

    /// @notice Holder `index`'s commitment (by its index in the holder list), or after its reveal its vector hash
    ///         (zero past the list).
    function voteOf(uint256 batchId, uint256 index) external view returns (bytes32);

    /// @notice Number of batches posted (ids are 1..batchCount).
    function batchCount() external view returns (uint256);

    /// @notice Credits waiting for `account`.
    function pendingWithdrawal(address account) external view returns (uint256);

    /// @notice Slashed stake burned (held forever; no function moves it).
    function burned() external view returns (uint256);

    /// @notice keccak256(abi.encode(chainId, this, gateway, seq)).
    function requestIdOf(address gateway, uint256 seq) external view returns (bytes32);

    /// @notice Whether `gateway`'s `seq` was posted (from 2^63: whether batch seq - 2^63 is `gateway`'s single request).
    function isSeqPosted(address gateway, uint256 seq) external view returns (bool);

    /// @notice The commitment a holder sends for (batchId, vectorHash, salt).
    function commitmentFor(uint256 batchId, address worker, bytes32 vectorHash, bytes32 salt)
        external
        view
        returns (bytes32);

    /// @notice The registries and beacon this coordinator settles against.
    function contracts()
        external
        view
        returns (
            address functionRegistry,
            address stakeRegistry,
            address gatewayRegistry,
            address beacon,
            address ticketVerifier
        );
}
