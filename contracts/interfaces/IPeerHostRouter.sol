// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IPeerHostRouter
/// @notice Makes a contract's single request servable by committees (its input and leaf, published in an
///         event) and delivers its settled result to the contract (docs/consumers.md).
/// @dev A request's life:
///      Requested : the consumer calls SettlementCoordinator.requestExecution itself (it is the single request's
///                  payer and gets its refunds), then `register` in the same transaction; the router rebuilds the
///                  one-leaf batch's leaf from the arguments and the input and checks it against the batch's root.
///      Delivered : anyone calls `fulfill` with the canonical result envelope once the leaf's result is settled
///                  (tier-1 Final with >= Q seats for keccak(envelope) and its challenge window passed, or its
///                  DisputeCourt case closed on that value). The router calls the consumer's onPeerHostResult with
///                  the request's gas limit; a failing callback is recorded (CallbackFailed), never retried.
///      NoResult  : anyone calls `reportNoResult` once the leaf is Refunded (expired, all abstained) or its case
///                  closed with no result; the consumer is told with an error (its refund is already credited
///                  to it by the coordinator or the court).
///      Output binding: the success envelope is canonical JSON whose first bytes have a fixed form,
///      {"fuel_used":<digits>,"ok":true,"response":{"body":"<base64>","body_encoding":"base64",...; base64 has
///      no quote, so the body is exactly the characters up to the next quote, and it is decoded here.
interface IPeerHostRouter {
    /// @notice A request's state; only moves forward.
    enum Status {
        None,
        Pending,
        Delivered, // the callback returned
        CallbackFailed, // the callback reverted or ran out of gas (recorded; settlement unaffected)
        NoResult // refunded or closed without a result; the consumer was told
    }

    /// @notice A registered request.
    struct Request {
        address consumer;
        uint64 batchId;
        uint32 callbackGasLimit;
        Status status;
    }

    /// @notice Thrown when the batch is not the caller's one-leaf single request.
    error NotYourRequest(uint256 batchId, address caller);
    /// @notice Thrown when the arguments and input do not rebuild the batch's leaf (wrong seq, version, input...).
    error LeafMismatch(uint256 batchId);
    /// @notice Thrown when a request is registered twice.
    error AlreadyRegistered(bytes32 requestId);
    /// @notice Thrown when the input is longer than `maxInputBytes`.
    error InputTooLarge(uint256 length, uint256 max);
    /// @notice Thrown when a callback gas limit is above `maxCallbackGas`.
    error CallbackGasTooHigh(uint256 gasLimit, uint256 max);
    /// @notice Thrown when a function has no active version or is disabled.
    error FunctionUnavailable(bytes32 functionId);
    /// @notice Thrown when `requestId` was never registered.
    error UnknownRequest(bytes32 requestId);
    /// @notice Thrown when a request was already delivered or reported.
    error NotPending(bytes32 requestId, Status status);
    /// @notice Thrown when the leaf's result is not settled yet, or `resultHash` is not the settled result.
    error ResultNotSettled(bytes32 requestId, bytes32 resultHash);
    /// @notice Thrown by reportNoResult when the leaf has or may still get a result.
    error ResultMayExist(bytes32 requestId);
    /// @notice Thrown when fulfill is sent with too little gas for the callback's limit.
    error InsufficientGas(uint256 available, uint256 needed);

    /// @notice Emitted when a consumer's request is registered: everything a committee needs to run it.
    event Requested(
        bytes32 indexed requestId,
        uint256 indexed batchId,
        address indexed consumer,
        uint64 seq,
        bytes32 functionId,
        uint32 version,
        uint40 deadline,
        uint32 callbackGasLimit,
        bytes input
    );
    /// @notice Emitted when the callback returned.
    event CallbackDelivered(bytes32 indexed requestId, bytes32 resultHash, bool ok);
    /// @notice Emitted when the callback reverted or ran out of gas (the result stays settled and paid).
    event CallbackFailed(bytes32 indexed requestId, bytes32 resultHash);
    /// @notice Emitted when a request is closed without a result (the consumer's refund is credited by settlement).
    event NoResultReported(bytes32 indexed requestId, bool callbackOk);

    /// @notice The leaf terms of a request for `functionId` made now: its active version, a deadline and the
    ///         engine profile. Reverts FunctionUnavailable.
    function terms(bytes32 functionId)
        external
        view
        returns (uint32 version, uint40 deadline, uint8 mode, bytes32 engineProfile);

    /// @notice Registers the caller's single request `batchId` (requested in this transaction) and publishes its
    ///         input. `seq` is the caller's single-request seq (2^63 + its count of earlier single requests).
    function register(
        uint256 batchId,
        uint64 seq,
        bytes32 functionId,
        uint32 version,
        uint40 deadline,
        bytes calldata input,
        uint32 callbackGasLimit
    ) external returns (bytes32 requestId);

    /// @notice Delivers a settled result (anyone): `envelope` must hash to the leaf's settled result.
    /// @param holders The request's batch's holder list (ISettlementCoordinator.commit), to count the seats that
    ///        voted the result (ignored when a DisputeCourt case settled it).
    function fulfill(bytes32 requestId, bytes calldata envelope, uint256[] calldata holders) external;

    /// @notice Tells the consumer its request has no result (anyone): the leaf was refunded or its case closed
    ///         without a result.
    function reportNoResult(bytes32 requestId) external;

    /// @notice A registered request.
    function requestOf(bytes32 requestId) external view returns (Request memory);

    /// @notice The coordinator requests go through.
    function coordinator() external view returns (address);

    /// @notice Longest input accepted, largest callback gas limit, longest envelope whose output is delivered.
    function limits() external view returns (uint256 maxInputBytes, uint256 maxCallbackGas, uint256 maxEnvelopeBytes);
}
