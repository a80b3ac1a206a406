// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDisputeCourt} from "../interfaces/IDisputeCourt.sol";
import {IPeerHostConsumer} from "../interfaces/IPeerHostConsumer.sol";
import {IPeerHostRouter} from "../interfaces/IPeerHostRouter.sol";
import {ISettlementCoordinator} from "../interfaces/ISettlementCoordinator.sol";

/// @title PeerHostConsumer
/// @notice Base for contracts that call PeerHost functions and receive their results in a callback
///         (docs/consumers.md). `_requestFunction` pays the coordinator and registers the request with the router;
///         the router calls `onPeerHostResult` once the result is settled. This contract is the request's payer:
///         refunds (expired, no result) are credited to it by the coordinator or the DisputeCourt and pulled with
///         `withdrawRefunds`.
abstract contract PeerHostConsumer is IPeerHostConsumer {
    /// @notice Thrown when onPeerHostResult is called by anyone but the router.
    error OnlyRouter(address caller);
    /// @notice Thrown when ETH arrives from anyone but the coordinator or the DisputeCourt (refunds).
    error UnexpectedPayment(address from);

    /// @dev A single request's seq is 2^63 + its batch id (ISettlementCoordinator.requestExecution).
    uint64 private constant _SINGLE_SEQ = uint64(1) << 63;

    IPeerHostRouter private immutable _router;
    ISettlementCoordinator private immutable _coordinator;

    constructor(IPeerHostRouter router) {
        _router = router;
        _coordinator = ISettlementCoordinator(router.coordinator());
    }

    /// @notice Accepts refunds from the coordinator and the DisputeCourt.
    receive() external payable virtual {
        if (msg.sender != address(_coordinator) && msg.sender != _coordinator.court()) {
            revert UnexpectedPayment(msg.sender);
        }
    }

    /// @inheritdoc IPeerHostConsumer
    function onPeerHostResult(bytes32 requestId, bytes calldata output, bytes calldata error) external {
        if (msg.sender != address(_router)) revert OnlyRouter(msg.sender);
        _onPeerHostResult(requestId, output, error);
    }

    /// @notice Pulls this contract's refunds and any other credits from the coordinator and the DisputeCourt.
    function withdrawRefunds() public {
        if (_coordinator.pendingWithdrawal(address(this)) != 0) _coordinator.withdraw();
        IDisputeCourt court = IDisputeCourt(_coordinator.court());
        if (court.pendingWithdrawal(address(this)) != 0) court.withdraw();
    }

    /// @notice Requests `functionId` (its active version) on `input`, paid with this call's msg.value.
    /// @param callbackGasLimit Gas onPeerHostResult gets (at most the router's maxCallbackGas).
    /// @return requestId The id the callback will carry.
    function _requestFunction(bytes32 functionId, bytes memory input, uint32 callbackGasLimit)
        internal
        returns (bytes32 requestId)
    {
        return _requestFunction(functionId, input, callbackGasLimit, msg.value);
    }

    /// @notice Requests `functionId` on `input`, paying `fee` from this contract's balance (a prepaid balance).
    function _requestFunction(bytes32 functionId, bytes memory input, uint32 callbackGasLimit, uint256 fee)
        internal
        returns (bytes32 requestId)
    {
        (uint256 batchId, uint32 version, uint40 deadline) = _post(functionId, keccak256(input), fee);
        uint64 seq = _SINGLE_SEQ | uint64(batchId); // the coordinator's seq of a single request: 2^63 + its batch id
        requestId = _router.register(batchId, seq, functionId, version, deadline, input, callbackGasLimit);
    }

    /// @dev The single request itself: the router's terms, paid with `fee`.
    function _post(bytes32 functionId, bytes32 inputHash, uint256 fee)
        private
        returns (uint256 batchId, uint32 version, uint40 deadline)
    {
        uint8 mode;
        bytes32 profile;
        (version, deadline, mode, profile) = _router.terms(functionId);
        (batchId,) = _coordinator.requestExecution{value: fee}(functionId, version, inputHash, mode, deadline, 0, profile);
    }

    /// @notice Receives a request's settled result (or its absence); see IPeerHostConsumer.onPeerHostResult.
    function _onPeerHostResult(bytes32 requestId, bytes calldata output, bytes calldata error) internal virtual;

    /// @notice The router this consumer uses.
    function peerHostRouter() public view returns (IPeerHostRouter) {
        return _router;
    }
}
