// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IExecutionCoordinator} from "./interfaces/IExecutionCoordinator.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";

/// @title WorkerRegistry
/// @notice Worker stake in native ETH, unbonding, X25519 keys and reputation.
contract WorkerRegistry is IWorkerRegistry {
    uint8 private constant _WON = 0;
    uint8 private constant _AGREED = 1;
    uint8 private constant _SLASHED = 2;
    uint8 private constant _MISSED = 3;

    uint256 private immutable _minStake;
    uint64 private immutable _unbondingDelay;
    address private immutable _owner;

    address private _coordinator;
    mapping(address worker => Worker) private _workers;
    mapping(address worker => Reputation) private _reputation;
    address[] private _workerList;

    modifier onlyCoordinator() {
        if (msg.sender != _coordinator) revert NotCoordinator(msg.sender);
        _;
    }

    /// @param minStake_ Minimum stake to register and to take jobs (wei).
    /// @param unbondingDelay_ Seconds between requestUnbonding and withdrawStake.
    constructor(uint256 minStake_, uint64 unbondingDelay_) {
        if (minStake_ == 0) revert InsufficientStake(0, 1);
        _minStake = minStake_;
        _unbondingDelay = unbondingDelay_;
        _owner = msg.sender;
    }

    /// @inheritdoc IWorkerRegistry
    function register(bytes32 encryptionKey) external payable {
        Worker storage w = _workers[msg.sender];
        if (w.registered) revert AlreadyRegistered(msg.sender);
        if (encryptionKey == bytes32(0)) revert InvalidEncryptionKey();
        if (msg.value < _minStake) revert InsufficientStake(msg.value, _minStake);
        w.registered = true;
        w.encryptionKey = encryptionKey;
        w.stake = msg.value;
        w.registeredAt = uint64(block.timestamp);
        _workerList.push(msg.sender);
        emit WorkerRegistered(msg.sender, msg.value, encryptionKey);
    }

    /// @inheritdoc IWorkerRegistry
    function addStake() external payable {
        Worker storage w = _registered(msg.sender);
        if (msg.value == 0) revert InvalidAmount(0, 0);
        w.stake += msg.value;
        emit StakeAdded(msg.sender, msg.value, w.stake);
    }

    /// @inheritdoc IWorkerRegistry
    function setEncryptionKey(bytes32 encryptionKey) external {
        Worker storage w = _registered(msg.sender);
        if (encryptionKey == bytes32(0)) revert InvalidEncryptionKey();
        w.encryptionKey = encryptionKey;
        emit EncryptionKeyChanged(msg.sender, encryptionKey);
    }

    /// @inheritdoc IWorkerRegistry
    /// @dev A new request restarts the delay for everything still unbonding.
    function requestUnbonding(uint256 amount) external {
        Worker storage w = _registered(msg.sender);
        uint256 free = w.stake - w.locked;
        if (amount == 0 || amount > free) revert InvalidAmount(amount, free);
        uint64 readyAt = uint64(block.timestamp) + _unbondingDelay;
        w.stake -= amount;
        w.unbonding += amount;
        w.unbondingReadyAt = readyAt;
        emit UnbondingRequested(msg.sender, amount, readyAt);
    }

    /// @inheritdoc IWorkerRegistry
    function withdrawStake() external {
        Worker storage w = _registered(msg.sender);
        uint256 amount = w.unbonding;
        if (amount == 0) revert InvalidAmount(0, 0);
        if (block.timestamp < w.unbondingReadyAt) revert UnbondingNotReady(w.unbondingReadyAt);
        w.unbonding = 0;
        w.unbondingReadyAt = 0;
        emit StakeWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    /// @inheritdoc IWorkerRegistry
    function lock(address worker, uint256 amount) external onlyCoordinator {
        Worker storage w = _registered(worker);
        uint256 free = w.stake - w.locked;
        if (amount > free) revert InvalidAmount(amount, free);
        w.locked += amount;
        emit StakeLocked(worker, amount);
    }

    /// @inheritdoc IWorkerRegistry
    function unlock(address worker, uint256 amount) external onlyCoordinator {
        Worker storage w = _registered(worker);
        if (amount > w.locked) revert InvalidAmount(amount, w.locked);
        w.locked -= amount;
        emit StakeUnlocked(worker, amount);
    }

    /// @inheritdoc IWorkerRegistry
    function slash(address worker, uint256 amount) external onlyCoordinator returns (uint256 slashed) {
        Worker storage w = _registered(worker);
        slashed = amount < w.locked ? amount : w.locked;
        if (slashed == 0) return 0;
        w.locked -= slashed;
        w.stake -= slashed;
        emit StakeSlashed(worker, slashed);
        _send(msg.sender, slashed);
    }

    /// @inheritdoc IWorkerRegistry
    function recordOutcome(address worker, uint8 outcome) external onlyCoordinator {
        Reputation storage r = _reputation[worker];
        if (outcome == _WON) r.jobsWon += 1;
        else if (outcome == _AGREED) r.jobsAgreed += 1;
        else if (outcome == _SLASHED) r.jobsSlashed += 1;
        else if (outcome == _MISSED) r.revealsMissed += 1;
        else revert InvalidOutcome(outcome);
    }

    /// @inheritdoc IWorkerRegistry
    function setCoordinator(address coordinator_) external {
        if (msg.sender != _owner || _coordinator != address(0)) revert CoordinatorAlreadySet(_coordinator);
        uint64 lifetime = IExecutionCoordinator(coordinator_).maxRequestLifetime();
        if (_unbondingDelay <= lifetime) revert UnbondingDelayTooShort(_unbondingDelay, lifetime);
        _coordinator = coordinator_;
        emit CoordinatorSet(coordinator_);
    }

    /// @inheritdoc IWorkerRegistry
    function coordinator() external view returns (address) {
        return _coordinator;
    }

    /// @inheritdoc IWorkerRegistry
    function minStake() external view returns (uint256) {
        return _minStake;
    }

    /// @inheritdoc IWorkerRegistry
    function unbondingDelay() external view returns (uint64) {
        return _unbondingDelay;
    }

    /// @inheritdoc IWorkerRegistry
    function getWorker(address worker) external view returns (Worker memory) {
        return _workers[worker];
    }

    /// @inheritdoc IWorkerRegistry
    function reputation(address worker) external view returns (Reputation memory) {
        return _reputation[worker];
    }

    /// @inheritdoc IWorkerRegistry
    function isActive(address worker) external view returns (bool) {
        Worker storage w = _workers[worker];
        return w.registered && w.stake >= _minStake;
    }

    /// @inheritdoc IWorkerRegistry
    function freeStake(address worker) external view returns (uint256) {
        Worker storage w = _workers[worker];
        return w.stake - w.locked;
    }

    /// @inheritdoc IWorkerRegistry
    function workers(uint256 offset, uint256 limit) external view returns (address[] memory page) {
        uint256 count = _workerList.length;
        if (offset >= count) return new address[](0);
        uint256 end = limit > count - offset ? count : offset + limit;
        page = new address[](end - offset);
        for (uint256 i = offset; i < end; ++i) {
            page[i - offset] = _workerList[i];
        }
    }

    /// @inheritdoc IWorkerRegistry
    function workerCount() external view returns (uint256) {
        return _workerList.length;
    }

    /// @inheritdoc IWorkerRegistry
    function owner() external view returns (address) {
        return _owner;
    }

    function _registered(address worker) private view returns (Worker storage w) {
        w = _workers[worker];
        if (!w.registered) revert NotRegistered(worker);
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
