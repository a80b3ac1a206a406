// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDisputeCourt} from "../interfaces/IDisputeCourt.sol";
import {IFunctionRegistry} from "../interfaces/IFunctionRegistry.sol";
import {IPeerHostConsumer} from "../interfaces/IPeerHostConsumer.sol";
import {IPeerHostRouter} from "../interfaces/IPeerHostRouter.sol";
import {ISettlementCoordinator} from "../interfaces/ISettlementCoordinator.sol";
import {ResultEnvelope} from "../libraries/ResultEnvelope.sol";

/// @title PeerHostRouter
/// @notice Publishes contracts' single requests to committees and delivers their settled results
///         (IPeerHostRouter; docs/consumers.md). Holds no money: consumers pay the coordinator directly and are
///         refunded by it.
contract PeerHostRouter is IPeerHostRouter {
    uint8 private constant _MODE_VERIFIED = 2;
    uint8 private constant _LEAF_FINAL = 2;
    uint8 private constant _LEAF_REFUNDED = 4;
    /// @dev Gas kept back beyond the callback's limit: the call itself and recording its outcome.
    uint256 private constant _CALL_RESERVE = 40_000;
    bytes private constant _NO_RESULT = "no result: the request was refunded";
    bytes private constant _TOO_LARGE = "no output: the envelope is over the router's size cap";

    ISettlementCoordinator private immutable _coordinator;
    IFunctionRegistry private immutable _functions;
    bytes32 private immutable _engineProfile;
    uint256 private immutable _quorum;
    uint256 private immutable _ticketLife;
    uint256 private immutable _maxInputBytes;
    uint256 private immutable _maxCallbackGas;
    uint256 private immutable _maxEnvelopeBytes;

    mapping(bytes32 requestId => Request) private _requests;

    /// @param coordinator The settlement coordinator single requests go to.
    /// @param engineProfile The engine profile requests name (the network's runtime and sandbox configuration).
    /// @param ticketLife Seconds from a request to its deadline (at most the coordinator's maxTicketLife).
    /// @param maxInputBytes Longest input a request may publish.
    /// @param maxCallbackGas Largest callback gas limit a request may ask for.
    /// @param maxEnvelopeBytes Longest envelope whose output is delivered (longer ones are delivered as an error).
    constructor(
        ISettlementCoordinator coordinator,
        bytes32 engineProfile,
        uint256 ticketLife,
        uint256 maxInputBytes,
        uint256 maxCallbackGas,
        uint256 maxEnvelopeBytes
    ) {
        _coordinator = coordinator;
        (address functions,,,,) = coordinator.contracts();
        _functions = IFunctionRegistry(functions);
        _engineProfile = engineProfile;
        ISettlementCoordinator.Params memory p = coordinator.params();
        _quorum = p.quorum;
        _ticketLife = ticketLife < p.maxTicketLife ? ticketLife : p.maxTicketLife;
        _maxInputBytes = maxInputBytes;
        _maxCallbackGas = maxCallbackGas;
        _maxEnvelopeBytes = maxEnvelopeBytes;
    }

    // ------------------------------------------------------------------ requests

    /// @inheritdoc IPeerHostRouter
    function terms(bytes32 functionId)
        external
        view
        returns (uint32 version, uint40 deadline, uint8 mode, bytes32 engineProfile)
    {
        IFunctionRegistry.FunctionInfo memory f = _functions.getFunction(functionId);
        if (f.activeVersion == 0 || f.disabled) revert FunctionUnavailable(functionId);
        return (f.activeVersion, uint40(block.timestamp + _ticketLife), _MODE_VERIFIED, _engineProfile);
    }

    /// @inheritdoc IPeerHostRouter
    function register(
        uint256 batchId,
        uint64 seq,
        bytes32 functionId,
        uint32 version,
        uint40 deadline,
        bytes calldata input,
        uint32 callbackGasLimit
    ) external returns (bytes32 requestId) {
        if (input.length > _maxInputBytes) revert InputTooLarge(input.length, _maxInputBytes);
        if (callbackGasLimit > _maxCallbackGas) revert CallbackGasTooHigh(callbackGasLimit, _maxCallbackGas);
        ISettlementCoordinator.Batch memory b = _coordinator.getBatch(batchId);
        if (b.gateway != msg.sender || b.payer != msg.sender || b.leafCount != 1) {
            revert NotYourRequest(batchId, msg.sender);
        }
        bytes memory leaf = abi.encodePacked(
            seq, functionId, version, keccak256(input), b.reward, b.postedAt, deadline, _MODE_VERIFIED, uint32(0)
        );
        if (keccak256(leaf) != b.root) revert LeafMismatch(batchId);
        requestId = _coordinator.requestIdOf(msg.sender, seq);
        Request storage r = _requests[requestId];
        if (r.status != Status.None) revert AlreadyRegistered(requestId);
        r.consumer = msg.sender;
        r.batchId = uint64(batchId);
        r.callbackGasLimit = callbackGasLimit;
        r.status = Status.Pending;
        emit Requested(requestId, batchId, msg.sender, seq, functionId, version, deadline, callbackGasLimit, input);
    }

    // ------------------------------------------------------------------ delivery

    /// @inheritdoc IPeerHostRouter
    function fulfill(bytes32 requestId, bytes calldata envelope, uint256[] calldata holders) external {
        Request storage r = _pending(requestId);
        bytes32 resultHash = keccak256(envelope);
        if (!_isSettled(r.batchId, resultHash, holders)) revert ResultNotSettled(requestId, resultHash);
        bytes memory output;
        bytes memory error;
        if (envelope.length > _maxEnvelopeBytes) {
            error = _TOO_LARGE;
        } else {
            bool found;
            (found, output) = ResultEnvelope.binaryBody(envelope);
            if (!found) error = envelope;
        }
        r.status = Status.Delivered;
        bool ok = _callBack(r, requestId, output, error);
        if (ok) {
            emit CallbackDelivered(requestId, resultHash, true);
        } else {
            r.status = Status.CallbackFailed;
            emit CallbackFailed(requestId, resultHash);
        }
    }

    /// @inheritdoc IPeerHostRouter
    function reportNoResult(bytes32 requestId) external {
        Request storage r = _pending(requestId);
        uint256 batchId = r.batchId;
        if (uint8(_coordinator.leafState(batchId, 0)) != _LEAF_REFUNDED) {
            IDisputeCourt.Case memory c = IDisputeCourt(_coordinator.court()).caseOf(batchId, 0);
            if (c.state != IDisputeCourt.CaseState.Closed || c.value != bytes32(0)) revert ResultMayExist(requestId);
        }
        r.status = Status.NoResult;
        bool ok = _callBack(r, requestId, "", _NO_RESULT);
        emit NoResultReported(requestId, ok);
    }

    /// @dev Whether `resultHash` is the settled result of the single request `batchId`: a closed DisputeCourt case
    ///      with that value, or a tier-1 Final leaf past its challenge window that >= Q seats voted for (two values
    ///      cannot both have Q > K/2 seats, and the coordinator does not store a one-leaf batch's final value).
    function _isSettled(uint256 batchId, bytes32 resultHash, uint256[] calldata holders) private view returns (bool) {
        IDisputeCourt court = IDisputeCourt(_coordinator.court());
        (bool settled, bytes32 value) = court.settledValue(batchId, 0, resultHash);
        if (!settled || value != resultHash) return false;
        if (court.caseOf(batchId, 0).state == IDisputeCourt.CaseState.Closed) return true;
        if (uint8(_coordinator.leafState(batchId, 0)) != _LEAF_FINAL) return false;
        bytes32 voted = keccak256(abi.encodePacked(resultHash)); // a one-leaf vector's hash
        _coordinator.checkHolders(batchId, holders);
        uint256 agreeing;
        for (uint256 h; h < holders.length; ++h) {
            if (_coordinator.voteOf(batchId, h) == voted) agreeing += uint8(holders[h] >> 160);
        }
        return agreeing >= _quorum;
    }

    /// @dev Calls the consumer with exactly its gas limit; never copies its return data (no return-data bomb).
    function _callBack(Request storage r, bytes32 requestId, bytes memory output, bytes memory error)
        private
        returns (bool ok)
    {
        uint256 limit = r.callbackGasLimit;
        uint256 needed = limit + limit / 63 + _CALL_RESERVE;
        if (gasleft() < needed) revert InsufficientGas(gasleft(), needed);
        bytes memory data = abi.encodeCall(IPeerHostConsumer.onPeerHostResult, (requestId, output, error));
        address consumer = r.consumer;
        assembly ("memory-safe") {
            ok := call(limit, consumer, 0, add(data, 0x20), mload(data), 0, 0)
        }
    }

    function _pending(bytes32 requestId) private view returns (Request storage r) {
        r = _requests[requestId];
        if (r.status == Status.None) revert UnknownRequest(requestId);
        if (r.status != Status.Pending) revert NotPending(requestId, r.status);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IPeerHostRouter
    function requestOf(bytes32 requestId) external view returns (Request memory) {
        return _requests[requestId];
    }

    /// @inheritdoc IPeerHostRouter
    function coordinator() external view returns (address) {
        return address(_coordinator);
    }

    /// @inheritdoc IPeerHostRouter
    function limits() external view returns (uint256 maxInputBytes, uint256 maxCallbackGas, uint256 maxEnvelopeBytes) {
        return (_maxInputBytes, _maxCallbackGas, _maxEnvelopeBytes);
    }
}
