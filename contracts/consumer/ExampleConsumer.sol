// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPeerHostRouter} from "../interfaces/IPeerHostRouter.sol";
import {PeerHostConsumer} from "./PeerHostConsumer.sol";

/// @title ExampleConsumer
/// @notice A consumer that keeps the last answer per request (examples/consumer/): `ask` pays with its value;
///         `burnGas`/`revertNext` make its callback fail on purpose (to show a failing callback changes nothing
///         in settlement).
contract ExampleConsumer is PeerHostConsumer {
    /// @notice Emitted when a result arrives.
    event Answered(bytes32 indexed requestId, bytes output, bytes error);

    /// @notice Thrown by the callback when `revertNext` is set.
    error Refused(bytes32 requestId);

    mapping(bytes32 requestId => bytes output) private _outputs;
    mapping(bytes32 requestId => bytes error) private _errors;
    bool private _revertNext;
    bool private _burnGas;

    constructor(IPeerHostRouter router) PeerHostConsumer(router) {}

    /// @notice Requests `functionId` on `input`, paid with msg.value; the callback gets `callbackGasLimit`.
    function ask(bytes32 functionId, bytes calldata input, uint32 callbackGasLimit)
        external
        payable
        returns (bytes32)
    {
        return _requestFunction(functionId, input, callbackGasLimit);
    }

    /// @notice Makes the next callbacks revert (`revertNext`) or loop until they run out of gas (`burnGas`).
    function misbehave(bool revertNext, bool burnGas) external {
        _revertNext = revertNext;
        _burnGas = burnGas;
    }

    /// @notice The output and error received for `requestId`.
    function answerOf(bytes32 requestId) external view returns (bytes memory output, bytes memory error) {
        return (_outputs[requestId], _errors[requestId]);
    }

    function _onPeerHostResult(bytes32 requestId, bytes calldata output, bytes calldata error) internal override {
        if (_revertNext) revert Refused(requestId);
        if (_burnGas) {
            while (true) {}
        }
        _outputs[requestId] = output;
        _errors[requestId] = error;
        emit Answered(requestId, output, error);
    }
}
