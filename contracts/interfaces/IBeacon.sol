// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IBeacon
/// @notice Where committee randomness comes from. The coordinator asks for the value of block
///         `blockNumber` (a block after the batch was posted) with a `proof` the caller supplies.
/// @dev HeaderBeacon, the default, proves the block's prevrandao from its RLP header against
///      `blockhash`. Chains whose prevrandao is constant need another implementation (a VRF or drand).
interface IBeacon {
    /// @notice Thrown when the block's hash is not available (in the future, or older than 256 blocks).
    error BlockHashUnavailable(uint256 blockNumber);
    /// @notice Thrown when the proof does not hash to the block's hash.
    error HeaderMismatch(uint256 blockNumber, bytes32 expected, bytes32 actual);
    /// @notice Thrown when the header is not an RLP list with at least 14 fields.
    error MalformedHeader();

    /// @notice The beacon value of `blockNumber`, proven by `proof`. Reverts when it cannot be proven.
    function valueOf(uint256 blockNumber, bytes calldata proof) external view returns (bytes32);
}
