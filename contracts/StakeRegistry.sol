// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IProtocolParams} from "./interfaces/IProtocolParams.sol";
import {IStakeRegistry} from "./interfaces/IStakeRegistry.sol";
import {ProtocolParamsLib} from "./libraries/ProtocolParamsLib.sol";

/// @title StakeRegistry
/// @notice Worker stake, a capped candidate set, epochs with frozen cumulative-stake arrays, seat draws.
contract StakeRegistry is IStakeRegistry {
    uint256 private constant _CUMULATIVE_MASK = type(uint96).max;

    Params private _params;
    address private immutable _deployer;
    address private _coordinator;
    address private _disputeCourt;
    address private _evidenceCourt;

    mapping(address worker => Staker) private _stakers;
    address[] private _members;

    uint32 private _epoch;
    mapping(uint256 epoch => uint64 startedAt) private _startedAt;
    /// @dev Double buffer: epoch e lives in [e % 2]. Entry = member << 96 | cumulative stake.
    uint256[256][2] private _entries;
    EpochInfo[2] private _info;

    modifier onlyCoordinator() {
        if (msg.sender != _coordinator && msg.sender != _disputeCourt && msg.sender != _evidenceCourt) {
            revert NotCoordinator(msg.sender);
        }
        _;
    }

    constructor(Params memory params_) {
        ProtocolParamsLib.validate(params_);
        _params = params_;
        _deployer = msg.sender;
        _startedAt[0] = uint64(block.timestamp);
        _info[0] = EpochInfo({epoch: 0, members: 0, startedAt: uint64(block.timestamp), totalStake: 0});
    }

    /// @inheritdoc IStakeRegistry
    function register(bytes32 encryptionKey) external payable {
        Staker storage s = _stakers[msg.sender];
        if (s.registered) revert AlreadyRegistered(msg.sender);
        if (encryptionKey == bytes32(0)) revert InvalidEncryptionKey();
        if (msg.value < _params.minStake) revert InsufficientStake(msg.value, _params.minStake);
        s.registered = true;
        s.encryptionKey = encryptionKey;
        s.stake = uint96(msg.value);
        emit WorkerRegistered(msg.sender, msg.value, encryptionKey);
        if (_members.length < _params.maxActive) _add(msg.sender, s, address(0));
    }

    /// @inheritdoc IStakeRegistry
    function addStake() external payable {
        Staker storage s = _registered(msg.sender);
        if (msg.value == 0) revert InvalidAmount(0, 0);
        s.stake += uint96(msg.value);
        emit StakeAdded(msg.sender, msg.value, s.stake);
    }

    /// @inheritdoc IStakeRegistry
    function setEncryptionKey(bytes32 encryptionKey) external {
        Staker storage s = _registered(msg.sender);
        if (encryptionKey == bytes32(0)) revert InvalidEncryptionKey();
        s.encryptionKey = encryptionKey;
        emit EncryptionKeyChanged(msg.sender, encryptionKey);
    }

    /// @inheritdoc IStakeRegistry
    function join(address displace) external {
        Staker storage s = _registered(msg.sender);
        if (s.member) revert MembershipUnchanged(msg.sender, true);
        if (s.stake < _params.minStake) revert InsufficientStake(s.stake, _params.minStake);
        if (_members.length < _params.maxActive) return _add(msg.sender, s, address(0));
        if (displace == address(0)) revert ActiveSetFull(_params.maxActive);
        Staker storage d = _stakers[displace];
        if (!d.member || d.stake >= s.stake) revert CannotDisplace(displace, d.stake, s.stake);
        _remove(displace, d);
        _add(msg.sender, s, displace);
    }

    /// @inheritdoc IStakeRegistry
    function leave() external {
        Staker storage s = _registered(msg.sender);
        if (!s.member) revert MembershipUnchanged(msg.sender, false);
        _remove(msg.sender, s);
    }

    /// @inheritdoc IStakeRegistry
    function requestUnbonding(uint256 amount) external {
        Staker storage s = _registered(msg.sender);
        if (amount == 0 || amount > s.stake) revert InvalidAmount(amount, s.stake);
        s.stake -= uint96(amount);
        s.unbonding += uint96(amount);
        s.unbondEpoch = _epoch;
        s.unbondRequestedAt = uint64(block.timestamp);
        emit UnbondingRequested(msg.sender, amount, _epoch);
    }

    /// @inheritdoc IStakeRegistry
    function withdrawStake() external {
        Staker storage s = _registered(msg.sender);
        uint256 amount = s.unbonding;
        if (amount == 0) revert InvalidAmount(0, 0);
        uint256 readyAt = _readyAt(s);
        if (block.timestamp < readyAt) revert UnbondingNotReady(readyAt);
        s.unbonding = 0;
        emit StakeWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    /// @inheritdoc IStakeRegistry
    function advanceEpoch() external {
        uint256 current = _epoch;
        uint256 endsAt = uint256(_startedAt[current]) + _params.epochLength;
        if (block.timestamp < endsAt) revert EpochNotOver(endsAt);
        uint256 next = current + 1;
        uint256 buffer = next % 2;
        uint256 minStake = _params.minStake;
        uint256 count = _members.length; // <= maxActive <= MAX_ACTIVE
        uint256 filled;
        uint256 cumulative;
        for (uint256 i; i < count; ++i) {
            address m = _members[i];
            Staker storage s = _stakers[m];
            if (s.stake < minStake || s.jailedUntil >= next) continue;
            cumulative += s.stake;
            _entries[buffer][filled++] = (uint256(uint160(m)) << 96) | cumulative;
        }
        _epoch = uint32(next);
        _startedAt[next] = uint64(block.timestamp);
        _info[buffer] = EpochInfo({
            epoch: uint32(next),
            members: uint16(filled),
            startedAt: uint64(block.timestamp),
            totalStake: uint96(cumulative)
        });
        emit EpochAdvanced(next, filled, cumulative);
    }

    /// @inheritdoc IStakeRegistry
    function slash(address worker, uint256 amount) external onlyCoordinator returns (uint256 slashed) {
        Staker storage s = _stakers[worker];
        uint256 fromStake = amount < s.stake ? amount : s.stake;
        uint256 rest = amount - fromStake;
        uint256 fromUnbonding = rest < s.unbonding ? rest : s.unbonding;
        slashed = fromStake + fromUnbonding;
        if (slashed == 0) return 0;
        s.stake -= uint96(fromStake);
        s.unbonding -= uint96(fromUnbonding);
        uint32 jailedUntil = _epoch + _params.jailEpochs;
        if (jailedUntil > s.jailedUntil) s.jailedUntil = jailedUntil;
        emit StakeSlashed(worker, slashed, s.jailedUntil);
        _send(msg.sender, slashed);
    }

    /// @inheritdoc IStakeRegistry
    function setCoordinator(address coordinator_) external {
        if (msg.sender != _deployer || _coordinator != address(0)) revert CoordinatorAlreadySet(_coordinator);
        _coordinator = coordinator_;
        emit CoordinatorSet(coordinator_);
    }

    /// @inheritdoc IStakeRegistry
    function setCourts(address disputeCourt, address evidenceCourt) external {
        if (msg.sender != _deployer || _disputeCourt != address(0)) revert CoordinatorAlreadySet(_disputeCourt);
        _disputeCourt = disputeCourt;
        _evidenceCourt = evidenceCourt;
        emit CourtsSet(disputeCourt, evidenceCourt);
    }

    /// @inheritdoc IStakeRegistry
    function courts() external view returns (address, address) {
        return (_disputeCourt, _evidenceCourt);
    }

    /// @inheritdoc IStakeRegistry
    function drawSeats(uint256 epoch, bytes32 seed, uint256 k) external view returns (address[] memory) {
        return _draw(epoch, seed, k);
    }

    /// @inheritdoc IStakeRegistry
    function drawHolders(uint256 epoch, bytes32 seed, uint256 k)
        external
        view
        returns (address[] memory seats, address[] memory holders, uint256 counts)
    {
        seats = _draw(epoch, seed, k);
        holders = new address[](k);
        uint256 n;
        for (uint256 j; j < k; ++j) {
            uint256 h;
            while (h < n && holders[h] != seats[j]) ++h;
            if (h == n) holders[n++] = seats[j];
            counts += uint256(1) << (8 * h);
        }
        assembly ("memory-safe") {
            mstore(holders, n)
        }
    }

    function _draw(uint256 epoch, bytes32 seed, uint256 k) private view returns (address[] memory seats) {
        uint256 buffer = _buffer(epoch);
        EpochInfo memory info = _info[buffer];
        if (info.totalStake == 0) revert EmptyEpoch(epoch);
        uint256[256] storage entries = _entries[buffer];
        seats = new address[](k);
        for (uint256 j; j < k; ++j) {
            uint256 r = uint256(keccak256(abi.encode(seed, uint256(0), j))) % info.totalStake;
            // smallest index whose cumulative stake exceeds r
            uint256 lo;
            uint256 hi = info.members - 1;
            while (lo < hi) {
                uint256 mid = (lo + hi) / 2;
                if (entries[mid] & _CUMULATIVE_MASK > r) hi = mid;
                else lo = mid + 1;
            }
            seats[j] = address(uint160(entries[lo] >> 96));
        }
    }

    /// @inheritdoc IStakeRegistry
    function currentEpoch() external view returns (uint256) {
        return _epoch;
    }

    /// @inheritdoc IStakeRegistry
    function epochInfo(uint256 epoch) external view returns (EpochInfo memory) {
        return _info[_buffer(epoch)];
    }

    /// @inheritdoc IStakeRegistry
    function entryAt(uint256 epoch, uint256 index) external view returns (address member, uint256 cumulative) {
        uint256 buffer = _buffer(epoch);
        if (index >= _info[buffer].members) revert InvalidAmount(index, _info[buffer].members);
        uint256 e = _entries[buffer][index];
        return (address(uint160(e >> 96)), e & _CUMULATIVE_MASK);
    }

    /// @inheritdoc IStakeRegistry
    function epochStartedAt(uint256 epoch) external view returns (uint256) {
        return _startedAt[epoch];
    }

    /// @inheritdoc IStakeRegistry
    function getStaker(address worker) external view returns (Staker memory) {
        return _stakers[worker];
    }

    /// @inheritdoc IStakeRegistry
    function members() external view returns (address[] memory) {
        return _members;
    }

    /// @inheritdoc IStakeRegistry
    function eligibleStake(address worker) external view returns (uint256) {
        Staker storage s = _stakers[worker];
        if (!s.member || s.stake < _params.minStake || s.jailedUntil > _epoch) return 0;
        return s.stake;
    }

    /// @inheritdoc IStakeRegistry
    function unbondingReadyAt(address worker) external view returns (uint256) {
        return _readyAt(_stakers[worker]);
    }

    /// @inheritdoc IStakeRegistry
    function coordinator() external view returns (address) {
        return _coordinator;
    }

    /// @inheritdoc IProtocolParams
    function params() external view returns (Params memory) {
        return _params;
    }

    function _add(address worker, Staker storage s, address displaced) private {
        s.member = true;
        _members.push(worker);
        emit MemberJoined(worker, displaced);
    }

    /// @dev Swap-and-pop; bounded by the cap.
    function _remove(address worker, Staker storage s) private {
        s.member = false;
        uint256 last = _members.length - 1;
        for (uint256 i; i <= last; ++i) {
            if (_members[i] != worker) continue;
            _members[i] = _members[last];
            _members.pop();
            break;
        }
        emit MemberLeft(worker);
    }

    /// @dev The unbonding epoch's array can seat the worker in batches posted before the next epoch started;
    ///      those close within a batch's life of that start.
    function _readyAt(Staker storage s) private view returns (uint256) {
        uint256 byDelay = uint256(s.unbondRequestedAt) + _params.unbondingDelay;
        uint256 nextStart = _startedAt[uint256(s.unbondEpoch) + 1];
        if (nextStart == 0) return type(uint256).max;
        uint256 byEpoch = nextStart + ProtocolParamsLib.batchLife(_params);
        return byDelay > byEpoch ? byDelay : byEpoch;
    }

    function _buffer(uint256 epoch) private view returns (uint256) {
        uint256 current = _epoch;
        if (epoch > current || epoch + 1 < current) revert EpochUnavailable(epoch, current);
        return epoch % 2;
    }

    function _registered(address worker) private view returns (Staker storage s) {
        s = _stakers[worker];
        if (!s.registered) revert NotRegistered(worker);
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
