// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IExecutionCoordinator
/// @notice Request escrow, commit-reveal Proof-of-Execution, quorum, rewards, slashing, refunds and
///         pull payments.
/// @dev Lifecycle of a request (see docs/protocol.md):
///      Commit  : from the request until `maxCommits` commitments are in or `commitDeadline` passes.
///      Reveal  : until every committer revealed or `revealDeadline` passes.
///      Settle  : anyone calls `finalize`; the hash with >= quorum matching reveals wins, else refund.
///      A request with no commitment by `commitDeadline` can be finalized (refunded) at once.
///      requestId = keccak256(abi.encode(block.chainid, address(this), requester, sequence)), where
///      sequence is the requester's count of earlier requests, so it is known before inclusion.
///      commitment = keccak256(abi.encode(block.chainid, address(this), requestId, worker, resultHash, salt)).
interface IExecutionCoordinator {
    /// @notice Stored status; only ever moves forward Pending -> Finalized | Refunded.
    enum Status {
        None,
        Pending,
        Finalized,
        Refunded
    }

    /// @notice Derived phase of a request at the current block.
    enum Phase {
        None,
        Commit,
        Reveal,
        Settle,
        Finalized,
        Refunded
    }

    /// @notice Protocol parameters, fixed at deployment.
    struct Params {
        uint256 minReward; // smallest escrow per request (wei)
        uint8 maxCommits; // K: commitments accepted per request (<= MAX_COMMITS)
        uint8 quorum; // matching reveals needed; > maxCommits / 2 so at most one hash can win
        uint64 commitWindow; // seconds from request to commitDeadline
        uint64 revealWindow; // seconds from commitDeadline to revealDeadline
        uint16 speedBonusBps; // share of the reward to the earliest winning committer, in basis points
        uint256 commitLock; // stake locked per commitment
        uint256 wrongRevealSlash; // slashed from a revealer of a losing hash (<= commitLock)
        uint256 missedRevealSlash; // slashed from a committer who never revealed (<= commitLock)
        uint32 maxInputBytes; // cap on inline input
    }

    /// @notice Everything a worker needs to run a job, as emitted in ExecutionRequested.
    struct Job {
        uint32 version;
        string runtime;
        bytes codeCid;
        uint64 fuelLimit;
        uint64 memoryLimit;
        uint8 mode; // the function's default IFunctionRegistry.ResponseMode
        bytes input; // inline input (empty when inputCid is set)
        bytes inputCid; // content-store CID of a large input (empty when inline)
        bytes32 inputHash; // keccak256 of the input bytes
        uint256 reward;
        uint64 requestedAt; // block timestamp: the function's clock
        uint64 commitDeadline;
        uint64 revealDeadline;
        bytes replyTo; // where workers post the signed output (a gateway URL)
    }

    /// @notice A request's stored state.
    struct Request {
        address requester;
        bytes32 functionId;
        bytes32 projectId; // non-zero when paid from the project's prepaid balance
        uint256 reward;
        bytes32 inputHash;
        uint64 requestedAt;
        uint64 commitDeadline;
        uint64 revealDeadline;
        uint8 commitCount;
        uint8 revealCount;
        Status status;
        bytes32 resultHash; // the winning hash once Finalized
        address fastest; // earliest winning committer once Finalized
    }

    /// @notice One worker's commitment to a request.
    struct Commitment {
        bytes32 commitment;
        uint64 committedAt;
        uint8 index; // commit order, 0 = first
        bool revealed;
        bytes32 resultHash; // set on reveal
    }

    /// @notice A project's prepaid account.
    struct ProjectAccount {
        uint256 balance;
        uint256 pricePerRequest; // escrow taken per request (>= minReward)
    }

    /// @notice Thrown when the escrow is below the minimum reward.
    error RewardTooLow(uint256 reward, uint256 minReward);
    /// @notice Thrown when inline input exceeds the cap; put it in the content store and pass its CID.
    error InputTooLarge(uint256 size, uint256 maxSize);
    /// @notice Thrown when both or neither of input and inputCid are given where one is required.
    error InvalidInput();
    /// @notice Thrown when a gateway spends a project balance it is not authorized for.
    error GatewayNotAuthorized(bytes32 projectId, address gateway);
    /// @notice Thrown when a project's balance cannot cover its per-request price.
    error InsufficientProjectBalance(bytes32 projectId, uint256 balance, uint256 price);
    /// @notice Thrown when a project price is below the minimum reward.
    error PriceTooLow(uint256 price, uint256 minReward);
    /// @notice Thrown when `requestId` does not exist.
    error UnknownRequest(bytes32 requestId);
    /// @notice Thrown when an action is not allowed in the request's current phase.
    error WrongPhase(bytes32 requestId, Phase phase);
    /// @notice Thrown when a worker that is not active (registered, staked) commits.
    error WorkerNotActive(address worker);
    /// @notice Thrown when a worker commits twice to one request.
    error AlreadyCommitted(bytes32 requestId, address worker);
    /// @notice Thrown when a zero commitment is sent.
    error EmptyCommitment();
    /// @notice Thrown when a worker reveals without having committed.
    error NotCommitted(bytes32 requestId, address worker);
    /// @notice Thrown when a worker reveals twice.
    error AlreadyRevealed(bytes32 requestId, address worker);
    /// @notice Thrown when a reveal does not match the sender's commitment.
    error CommitmentMismatch(bytes32 requestId, address worker);
    /// @notice Thrown when there is nothing to withdraw.
    error NothingToWithdraw(address account);
    /// @notice Thrown when an ETH transfer fails.
    error TransferFailed(address to, uint256 amount);
    /// @notice Thrown by owner-only functions.
    error NotOwner(address caller);
    /// @notice Thrown when a project withdrawal exceeds the balance.
    error InvalidAmount(uint256 amount, uint256 available);
    /// @notice Thrown when ETH arrives from anyone but the worker registry.
    error UnexpectedPayment(address from);
    /// @notice Thrown when deployment parameters are inconsistent.
    error InvalidParams();
    /// @notice Thrown when a project name is not `[a-z0-9-]{1,32}` (as in IFunctionRegistry).
    error InvalidProjectName(string project);
    /// @notice Mirror of IFunctionRegistry.UnknownFunction, bubbled up from the registry by requestExecution*.
    error UnknownFunction(bytes32 functionId);
    /// @notice Mirror of IFunctionRegistry.FunctionIsDisabled, bubbled up from the registry by requestExecution*.
    error FunctionIsDisabled(bytes32 functionId);

    /// @notice Emitted for every new request: everything a worker needs.
    event ExecutionRequested(
        bytes32 indexed requestId, bytes32 indexed functionId, address indexed requester, Job job
    );
    /// @notice Emitted when `worker` commits, as the `index`-th committer.
    event ResultCommitted(bytes32 indexed requestId, address indexed worker, uint8 index);
    /// @notice Emitted when the K-th commitment closes the commit phase early.
    event RevealPhaseOpened(bytes32 indexed requestId);
    /// @notice Emitted when `worker` reveals `resultHash`.
    event ResultRevealed(bytes32 indexed requestId, address indexed worker, bytes32 resultHash);
    /// @notice Emitted when a request finalizes with `resultHash`, agreed by `agreeing` revealers.
    event RequestFinalized(bytes32 indexed requestId, bytes32 resultHash, address fastest, uint8 agreeing);
    /// @notice Emitted when a request ends without quorum and its escrow goes back.
    event RequestRefunded(bytes32 indexed requestId, address indexed requester, uint256 amount);
    /// @notice Emitted when `worker` earns `amount` for `requestId`.
    event WorkerRewarded(bytes32 indexed requestId, address indexed worker, uint256 amount);
    /// @notice Emitted when `worker` is slashed `amount` (reason 0 wrong reveal, 1 missed reveal).
    event WorkerSlashed(bytes32 indexed requestId, address indexed worker, uint256 amount, uint8 reason);
    /// @notice Emitted when `account` withdraws `amount`.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice Emitted when `projectId`'s balance is funded.
    event ProjectFunded(bytes32 indexed projectId, address indexed from, uint256 amount);
    /// @notice Emitted when the owner withdraws from a project's balance.
    event ProjectBalanceWithdrawn(bytes32 indexed projectId, uint256 amount);
    /// @notice Emitted when a project's per-request price changes.
    event ProjectPriceSet(bytes32 indexed projectId, uint256 price);
    /// @notice Emitted when a gateway is authorized (or deauthorized) to spend a project's balance.
    event GatewayAuthorizationSet(bytes32 indexed projectId, address indexed gateway, bool authorized);
    /// @notice Emitted when slashed stake arrives in the treasury.
    event TreasuryCredited(uint256 amount);
    /// @notice Emitted when the owner withdraws the treasury to `to`.
    event TreasuryWithdrawn(address indexed to, uint256 amount);

    /// @notice Requests an execution with inline input. Escrow: msg.value, or (if msg.value is 0) the
    ///         project's price from its balance when the caller is an authorized gateway.
    function requestExecution(bytes32 functionId, bytes calldata input, bytes calldata replyTo)
        external
        payable
        returns (bytes32 requestId);

    /// @notice Requests an execution whose input lives in the content store.
    function requestExecutionByCid(
        bytes32 functionId,
        bytes calldata inputCid,
        bytes32 inputHash,
        bytes calldata replyTo
    ) external payable returns (bytes32 requestId);

    /// @notice Commits to a result; locks `commitLock` of the caller's stake.
    /// @dev Reverts InvalidAmount(commitLock, freeStake) (from the worker registry) when the caller's free
    ///      stake cannot cover `commitLock`.
    function commit(bytes32 requestId, bytes32 commitment) external;

    /// @notice Reveals the committed result hash and salt.
    function reveal(bytes32 requestId, bytes32 resultHash, bytes32 salt) external;

    /// @notice Settles a request in the Settle phase: pays, slashes or refunds. Anyone may call.
    function finalize(bytes32 requestId) external;

    /// @notice Pays out the caller's pending balance (rewards, refunds).
    function withdraw() external;

    /// @notice Adds msg.value to (owner, project)'s prepaid balance. Anyone may fund.
    function fundProject(address owner, string calldata project) external payable;

    /// @notice Withdraws `amount` from the caller's project balance.
    function withdrawProjectBalance(string calldata project, uint256 amount) external;

    /// @notice Sets the caller's project price per request (>= minReward).
    function setProjectPrice(string calldata project, uint256 price) external;

    /// @notice Authorizes (or not) `gateway` to spend the caller's project balance.
    function setGatewayAuthorization(string calldata project, address gateway, bool authorized) external;

    /// @notice Withdraws the treasury (slashed stake) to `to`. Owner only.
    function withdrawTreasury(address to) external;

    /// @notice The id the requester's next request will get.
    function nextRequestId(address requester) external view returns (bytes32);

    /// @notice How many requests `requester` has made: the sequence number of its next request.
    function requestSequence(address requester) external view returns (uint256);

    /// @notice The commitment a worker must send for (requestId, resultHash, salt).
    function commitmentFor(bytes32 requestId, address worker, bytes32 resultHash, bytes32 salt)
        external
        view
        returns (bytes32);

    /// @notice A request's stored state. Reverts UnknownRequest.
    function getRequest(bytes32 requestId) external view returns (Request memory);

    /// @notice A request's phase at the current block (None when unknown).
    function phase(bytes32 requestId) external view returns (Phase);

    /// @notice A worker's commitment to a request (zero commitment when none).
    function getCommitment(bytes32 requestId, address worker) external view returns (Commitment memory);

    /// @notice The committers of a request, in commit order.
    function committers(bytes32 requestId) external view returns (address[] memory);

    /// @notice Pending pull-payment balance of `account`.
    function pendingWithdrawal(address account) external view returns (uint256);

    /// @notice A project's prepaid account.
    function projectAccount(bytes32 projectId) external view returns (ProjectAccount memory);

    /// @notice Whether `gateway` may spend `projectId`'s balance.
    function isGatewayAuthorized(bytes32 projectId, address gateway) external view returns (bool);

    /// @notice The protocol parameters.
    function params() external view returns (Params memory);

    /// @notice commitWindow + revealWindow: the longest a request can stay open.
    function maxRequestLifetime() external view returns (uint64);

    /// @notice Slashed stake held for the owner.
    function treasury() external view returns (uint256);

    /// @notice The function registry requests are resolved against.
    function functionRegistry() external view returns (address);

    /// @notice The worker registry holding stakes.
    function workerRegistry() external view returns (address);

    /// @notice The deployer, who may withdraw the treasury.
    function owner() external view returns (address);
}
