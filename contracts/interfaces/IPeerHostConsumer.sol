// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IPeerHostConsumer
/// @notice What a contract that calls PeerHost functions implements to receive their results
///         (contracts/consumer/PeerHostConsumer.sol is a base that implements it; docs/consumers.md).
interface IPeerHostConsumer {
    /// @notice Called by the PeerHostRouter once a request's result is settled (or will never come), with the
    ///         request's callback gas limit. A revert or running out of gas is recorded by the router and changes
    ///         nothing in settlement.
    /// @param requestId The id `_requestFunction` returned.
    /// @param output The function's response body (binary: `body_encoding` base64 in the envelope); empty when
    ///        `error` is set.
    /// @param error Empty on success; otherwise the settled canonical envelope (a failed run, or a response
    ///        whose body is not base64), or a short reason when there is no result (refunded).
    function onPeerHostResult(bytes32 requestId, bytes calldata output, bytes calldata error) external;
}
