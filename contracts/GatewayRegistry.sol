// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IGatewayRegistry} from "./interfaces/IGatewayRegistry.sol";
import {IProtocolParams} from "./interfaces/IProtocolParams.sol";
import {Names} from "./libraries/Names.sol";
import {ProtocolParamsLib} from "./libraries/ProtocolParamsLib.sol";

/// @title GatewayRegistry
/// @notice Gateway bonds, time-locked project reserves and authorizations judged at issuedAt.
contract GatewayRegistry is IGatewayRegistry {
    uint40 private constant _FOREVER = type(uint40).max;
    /// @inheritdoc IGatewayRegistry
    uint256 public constant MAX_ENDPOINT_BYTES = 256;

    Params private _params;
    address private immutable _deployer;
    address private _coordinator;
    address private _disputeCourt;
    address private _evidenceCourt;

    mapping(address gateway => Bond) private _bonds;
    mapping(bytes32 projectId => Reserve) private _reserves;
    mapping(bytes32 projectId => mapping(address gateway => Authorization)) private _authorizations;
    mapping(address gateway => string url) private _endpoints;

    modifier onlyCoordinator() {
        if (msg.sender != _coordinator) revert NotCoordinator(msg.sender);
        _;
    }

    modifier onlySettlement() {
        if (msg.sender != _coordinator && msg.sender != _disputeCourt && msg.sender != _evidenceCourt) {
            revert NotCoordinator(msg.sender);
        }
        _;
    }

    constructor(Params memory params_) {
        ProtocolParamsLib.validate(params_);
        _params = params_;
        _deployer = msg.sender;
    }

    /// @inheritdoc IGatewayRegistry
    function bond() external payable {
        if (msg.value == 0) revert InvalidAmount(0, 0);
        Bond storage b = _bonds[msg.sender];
        b.amount += uint128(msg.value);
        emit GatewayBonded(msg.sender, msg.value, b.amount);
    }

    /// @inheritdoc IGatewayRegistry
    function requestBondWithdrawal(uint256 amount) external {
        Bond storage b = _bonds[msg.sender];
        if (amount == 0 || amount > b.amount) revert InvalidAmount(amount, b.amount);
        b.amount -= uint128(amount);
        b.leaving += uint128(amount);
        b.leavingReadyAt = uint64(block.timestamp + _params.reserveLock);
        emit BondWithdrawalRequested(msg.sender, amount, b.leavingReadyAt);
    }

    /// @inheritdoc IGatewayRegistry
    function withdrawBond() external {
        Bond storage b = _bonds[msg.sender];
        uint256 amount = b.leaving;
        if (amount == 0) revert InvalidAmount(0, 0);
        if (block.timestamp < b.leavingReadyAt) revert NotReady(b.leavingReadyAt);
        b.leaving = 0;
        emit BondWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    /// @inheritdoc IGatewayRegistry
    function fundReserve(bytes32 projectId) external payable {
        if (msg.value == 0) revert InvalidAmount(0, 0);
        _reserves[projectId].balance += uint128(msg.value);
        emit ReserveFunded(projectId, msg.sender, msg.value);
    }

    /// @inheritdoc IGatewayRegistry
    function requestReserveWithdrawal(string calldata project, uint256 amount) external {
        bytes32 projectId = _ownProject(project);
        Reserve storage r = _reserves[projectId];
        if (amount == 0 || amount > r.balance) revert InvalidAmount(amount, r.balance);
        r.balance -= uint128(amount);
        r.leaving += uint128(amount);
        r.leavingReadyAt = uint64(block.timestamp + _params.reserveLock);
        emit ReserveWithdrawalRequested(projectId, amount, r.leavingReadyAt);
    }

    /// @inheritdoc IGatewayRegistry
    function withdrawReserve(string calldata project) external {
        bytes32 projectId = _ownProject(project);
        Reserve storage r = _reserves[projectId];
        uint256 amount = r.leaving;
        if (amount == 0) revert InvalidAmount(0, 0);
        if (block.timestamp < r.leavingReadyAt) revert NotReady(r.leavingReadyAt);
        r.leaving = 0;
        emit ReserveWithdrawn(projectId, amount);
        _send(msg.sender, amount);
    }

    /// @inheritdoc IGatewayRegistry
    function setGatewayAuthorization(string calldata project, address gateway, bool authorized) external {
        bytes32 projectId = _ownProject(project);
        Authorization storage a = _authorizations[projectId][gateway];
        uint40 now_ = uint40(block.timestamp);
        if (authorized) {
            // the first authorization starts now; a renewed one keeps its start, so tickets issued under an
            // earlier window stay payable (renewing also covers tickets issued while it was revoked)
            if (a.validFrom == 0) a.validFrom = now_;
            a.validUntil = _FOREVER;
        } else if (a.validUntil > now_) {
            a.validUntil = now_;
        }
        emit GatewayAuthorizationSet(projectId, gateway, a.validFrom, a.validUntil);
    }

    /// @inheritdoc IGatewayRegistry
    function draw(
        bytes32 projectId,
        address gateway,
        uint256 amount,
        uint256 minIssuedAt,
        uint256 maxIssuedAt,
        bool requireBond
    ) external onlyCoordinator returns (uint256 fromBond) {
        Authorization memory a = _authorizations[projectId][gateway];
        if (minIssuedAt < a.validFrom || maxIssuedAt >= a.validUntil) {
            revert GatewayNotAuthorized(projectId, gateway, minIssuedAt, maxIssuedAt);
        }
        Bond storage b = _bonds[gateway];
        if (requireBond && b.amount < _params.minGatewayBond) revert BondTooLow(gateway, b.amount, _params.minGatewayBond);
        Reserve storage r = _reserves[projectId];
        uint256 rest = amount;
        rest -= _take(r, rest);
        if (rest > 0) {
            uint256 bonded = uint256(b.amount) + b.leaving;
            if (rest > bonded) revert InsufficientFunds(projectId, gateway, amount, amount - rest + bonded);
            fromBond = rest;
            _charge(b, rest);
        }
        emit Drawn(projectId, gateway, amount, fromBond);
        _send(msg.sender, amount);
    }

    /// @inheritdoc IGatewayRegistry
    function refund(bytes32 projectId) external payable onlySettlement {
        _reserves[projectId].balance += uint128(msg.value);
        emit Refunded(projectId, msg.value);
    }

    /// @inheritdoc IGatewayRegistry
    function chargeBond(address gateway, uint256 amount) external onlySettlement returns (uint256 charged) {
        Bond storage b = _bonds[gateway];
        uint256 bonded = uint256(b.amount) + b.leaving;
        charged = amount < bonded ? amount : bonded;
        if (charged == 0) return 0;
        _charge(b, charged);
        emit BondCharged(gateway, charged);
        _send(msg.sender, charged);
    }

    /// @inheritdoc IGatewayRegistry
    function setEndpoint(string calldata url) external {
        uint256 bonded = _bonds[msg.sender].amount;
        uint256 minBond = _params.minGatewayBond;
        if (bonded == 0 || bonded < minBond) revert BondTooLow(msg.sender, bonded, minBond);
        if (bytes(url).length > MAX_ENDPOINT_BYTES) revert EndpointTooLong(bytes(url).length, MAX_ENDPOINT_BYTES);
        _endpoints[msg.sender] = url;
        emit GatewayEndpoint(msg.sender, url);
    }

    /// @inheritdoc IGatewayRegistry
    function endpointOf(address gateway) external view returns (string memory) {
        return _endpoints[gateway];
    }

    /// @inheritdoc IGatewayRegistry
    function setCoordinator(address coordinator_) external {
        if (msg.sender != _deployer || _coordinator != address(0)) revert CoordinatorAlreadySet(_coordinator);
        _coordinator = coordinator_;
        emit CoordinatorSet(coordinator_);
    }

    /// @inheritdoc IGatewayRegistry
    function setCourts(address disputeCourt, address evidenceCourt) external {
        if (msg.sender != _deployer || _disputeCourt != address(0)) revert CoordinatorAlreadySet(_disputeCourt);
        _disputeCourt = disputeCourt;
        _evidenceCourt = evidenceCourt;
        emit CourtsSet(disputeCourt, evidenceCourt);
    }

    /// @inheritdoc IGatewayRegistry
    function courts() external view returns (address, address) {
        return (_disputeCourt, _evidenceCourt);
    }

    /// @inheritdoc IGatewayRegistry
    function bondOf(address gateway) external view returns (Bond memory) {
        return _bonds[gateway];
    }

    /// @inheritdoc IGatewayRegistry
    function reserveOf(bytes32 projectId) external view returns (Reserve memory) {
        return _reserves[projectId];
    }

    /// @inheritdoc IGatewayRegistry
    function authorizationOf(bytes32 projectId, address gateway) external view returns (Authorization memory) {
        return _authorizations[projectId][gateway];
    }

    /// @inheritdoc IGatewayRegistry
    function isAuthorizedAt(bytes32 projectId, address gateway, uint256 issuedAt) external view returns (bool) {
        Authorization memory a = _authorizations[projectId][gateway];
        return issuedAt >= a.validFrom && issuedAt < a.validUntil;
    }

    /// @inheritdoc IGatewayRegistry
    function projectIdOf(address owner, string calldata project) external pure returns (bytes32) {
        return keccak256(abi.encode(owner, project));
    }

    /// @inheritdoc IGatewayRegistry
    function coordinator() external view returns (address) {
        return _coordinator;
    }

    /// @inheritdoc IProtocolParams
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @dev Takes up to `amount` from the reserve's balance, then from what is leaving.
    function _take(Reserve storage r, uint256 amount) private returns (uint256 taken) {
        uint256 fromBalance = amount < r.balance ? amount : r.balance;
        r.balance -= uint128(fromBalance);
        uint256 rest = amount - fromBalance;
        uint256 fromLeaving = rest < r.leaving ? rest : r.leaving;
        r.leaving -= uint128(fromLeaving);
        return fromBalance + fromLeaving;
    }

    /// @dev Takes `amount` (<= amount + leaving) from the bond, then from what is leaving.
    function _charge(Bond storage b, uint256 amount) private {
        uint256 fromBond = amount < b.amount ? amount : b.amount;
        b.amount -= uint128(fromBond);
        b.leaving -= uint128(amount - fromBond);
    }

    function _ownProject(string calldata project) private view returns (bytes32) {
        if (!Names.isProjectName(project)) revert InvalidProjectName(project);
        return keccak256(abi.encode(msg.sender, project));
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
