// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IWorkerRegistry
/// @notice Worker stake (native ETH), unbonding, X25519 encryption keys and reputation.
/// @dev Stake backing open commitments is locked by the coordinator; only the coordinator may lock,
///      unlock and slash, and a slash never exceeds the worker's locked stake. Slashed ETH is sent
///      to the coordinator, which books it to its treasury.
interface IWorkerRegistry {
    /// @notice A worker's stake and keys.
    struct Worker {
        bool registered;
        bytes32 encryptionKey; // X25519 public key for sealed secrets
        uint256 stake; // bonded stake, locked part included
        uint256 locked; // part of `stake` backing open commitments
        uint256 unbonding; // amount waiting for the unbonding delay (not in `stake`)
        uint64 unbondingReadyAt; // when `unbonding` can be withdrawn
        uint64 registeredAt;
    }

    /// @notice Reputation counters, readable by anyone.
    struct Reputation {
        uint64 jobsWon; // fastest correct revealer
        uint64 jobsAgreed; // revealed the winning hash
        uint64 jobsSlashed; // revealed a losing hash
        uint64 revealsMissed; // committed, never revealed
    }

    /// @notice Thrown when `worker` is already registered.
    error AlreadyRegistered(address worker);
    /// @notice Thrown when `worker` is not registered.
    error NotRegistered(address worker);
    /// @notice Thrown when a stake is below the minimum.
    error InsufficientStake(uint256 stake, uint256 minStake);
    /// @notice Thrown when the encryption key is zero.
    error InvalidEncryptionKey();
    /// @notice Thrown when an amount of zero (or above what is free) is asked for.
    error InvalidAmount(uint256 amount, uint256 available);
    /// @notice Thrown when unbonded stake is withdrawn before `readyAt`.
    error UnbondingNotReady(uint64 readyAt);
    /// @notice Thrown when a coordinator-only function is called by someone else.
    error NotCoordinator(address caller);
    /// @notice Thrown when the coordinator is set twice or by a non-owner.
    error CoordinatorAlreadySet(address coordinator);
    /// @notice Thrown when the unbonding delay is not longer than the coordinator's longest request lifetime.
    error UnbondingDelayTooShort(uint64 unbondingDelay, uint64 maxRequestLifetime);
    /// @notice Thrown when an ETH transfer fails.
    error TransferFailed(address to, uint256 amount);
    /// @notice Thrown when recordOutcome gets an outcome other than 0..3.
    error InvalidOutcome(uint8 outcome);

    /// @notice Emitted when `worker` registers with `stake` and `encryptionKey`.
    event WorkerRegistered(address indexed worker, uint256 stake, bytes32 encryptionKey);
    /// @notice Emitted when `worker` adds `amount` to its stake.
    event StakeAdded(address indexed worker, uint256 amount, uint256 stake);
    /// @notice Emitted when `worker` changes its encryption key.
    event EncryptionKeyChanged(address indexed worker, bytes32 encryptionKey);
    /// @notice Emitted when `worker` starts unbonding `amount`, withdrawable at `readyAt`.
    event UnbondingRequested(address indexed worker, uint256 amount, uint64 readyAt);
    /// @notice Emitted when `worker` withdraws `amount` of unbonded stake.
    event StakeWithdrawn(address indexed worker, uint256 amount);
    /// @notice Emitted when the coordinator locks `amount` of `worker`'s stake.
    event StakeLocked(address indexed worker, uint256 amount);
    /// @notice Emitted when the coordinator unlocks `amount` of `worker`'s stake.
    event StakeUnlocked(address indexed worker, uint256 amount);
    /// @notice Emitted when the coordinator slashes `amount` of `worker`'s locked stake.
    event StakeSlashed(address indexed worker, uint256 amount);
    /// @notice Emitted when the coordinator is wired in (once).
    event CoordinatorSet(address indexed coordinator);

    /// @notice Registers msg.sender with msg.value as stake (>= minStake) and an X25519 public key.
    function register(bytes32 encryptionKey) external payable;

    /// @notice Adds msg.value to the caller's stake.
    function addStake() external payable;

    /// @notice Replaces the caller's X25519 public key.
    function setEncryptionKey(bytes32 encryptionKey) external;

    /// @notice Moves `amount` of free (unlocked) stake into unbonding; withdrawable after the delay.
    function requestUnbonding(uint256 amount) external;

    /// @notice Withdraws all unbonded stake whose delay has passed.
    function withdrawStake() external;

    /// @notice Locks `amount` of `worker`'s free stake. Coordinator only.
    function lock(address worker, uint256 amount) external;

    /// @notice Unlocks `amount` of `worker`'s locked stake. Coordinator only.
    function unlock(address worker, uint256 amount) external;

    /// @notice Slashes up to `amount` of `worker`'s locked stake (also unlocking it) and sends it to the coordinator.
    /// @return slashed The amount actually slashed (never more than the locked stake).
    function slash(address worker, uint256 amount) external returns (uint256 slashed);

    /// @notice Records an outcome for reputation: 0 won, 1 agreed, 2 slashed, 3 missed reveal. Coordinator only.
    function recordOutcome(address worker, uint8 outcome) external;

    /// @notice Wires the coordinator (owner only, once); checks the unbonding delay against its request lifetime.
    function setCoordinator(address coordinator) external;

    /// @notice The coordinator allowed to lock, unlock and slash.
    function coordinator() external view returns (address);

    /// @notice The minimum stake to register and to take jobs.
    function minStake() external view returns (uint256);

    /// @notice The delay between requestUnbonding and withdrawStake.
    function unbondingDelay() external view returns (uint64);

    /// @notice A worker's stake and keys.
    function getWorker(address worker) external view returns (Worker memory);

    /// @notice A worker's reputation counters.
    function reputation(address worker) external view returns (Reputation memory);

    /// @notice Registered with stake >= minStake.
    function isActive(address worker) external view returns (bool);

    /// @notice Stake not locked (stake - locked).
    function freeStake(address worker) external view returns (uint256);

    /// @notice All registered workers, in registration order (for sealing secrets and the console).
    function workers(uint256 offset, uint256 limit) external view returns (address[] memory);

    /// @notice Number of registered workers.
    function workerCount() external view returns (uint256);

    /// @notice The deployer, who wires the coordinator once.
    function owner() external view returns (address);
}
