// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IProtocolParams} from "./IProtocolParams.sol";

/// @title IGatewayRegistry
/// @notice Gateway bonds, time-locked project reserves, and which gateways a project authorized when.
/// @dev A ticket is judged at its `issuedAt`: the gateway must have been authorized then, and a reserve
///      withdrawal only takes effect `reserveLock` after it was asked for (longer than a ticket's life and
///      a batch's), so a ticket a worker accepted cannot bounce. When the reserve cannot cover a posted
///      batch, the issuing gateway's bond pays the difference. Bond withdrawals wait `reserveLock` too.
///      projectId = keccak256(abi.encode(owner, project)), as in the FunctionRegistry.
interface IGatewayRegistry is IProtocolParams {
    /// @notice A gateway's bond.
    struct Bond {
        uint128 amount; // bonded
        uint128 leaving; // asked back; still pays until withdrawn
        uint64 leavingReadyAt;
    }

    /// @notice A project's reserve.
    struct Reserve {
        uint128 balance;
        uint128 leaving; // asked back by the owner; still pays tickets until withdrawn
        uint64 leavingReadyAt;
    }

    /// @notice When a gateway may issue tickets on a project's reserve: issuedAt in [validFrom, validUntil).
    struct Authorization {
        uint40 validFrom;
        uint40 validUntil;
    }

    /// @notice Thrown when an amount is zero or above what is available.
    error InvalidAmount(uint256 amount, uint256 available);
    /// @notice Thrown when a withdrawal comes before `readyAt`.
    error NotReady(uint256 readyAt);
    /// @notice Thrown when a project name is not `[a-z0-9-]{1,32}`.
    error InvalidProjectName(string project);
    /// @notice Thrown when `gateway` was not authorized on `projectId` at every issuedAt in [minIssuedAt, maxIssuedAt].
    error GatewayNotAuthorized(bytes32 projectId, address gateway, uint256 minIssuedAt, uint256 maxIssuedAt);
    /// @notice Thrown when a gateway posting its own batch has less than the minimum bond.
    error BondTooLow(address gateway, uint256 bond, uint256 minBond);
    /// @notice Thrown when reserve and bond together cannot pay `amount`.
    error InsufficientFunds(bytes32 projectId, address gateway, uint256 amount, uint256 available);
    /// @notice Thrown when a coordinator-only function is called by someone else.
    error NotCoordinator(address caller);
    /// @notice Thrown when the coordinator is set twice or by someone other than the deployer.
    error CoordinatorAlreadySet(address coordinator);
    /// @notice Thrown when an ETH transfer fails.
    error TransferFailed(address to, uint256 amount);
    /// @notice Thrown when an announced endpoint is longer than `maxLength` bytes.
    error EndpointTooLong(uint256 length, uint256 maxLength);

    /// @notice Emitted when `gateway` bonds `amount` more.
    event GatewayBonded(address indexed gateway, uint256 amount, uint256 bond);
    /// @notice Emitted when `gateway` asks `amount` of its bond back, withdrawable at `readyAt`.
    event BondWithdrawalRequested(address indexed gateway, uint256 amount, uint256 readyAt);
    /// @notice Emitted when `gateway` withdraws `amount` of bond.
    event BondWithdrawn(address indexed gateway, uint256 amount);
    /// @notice Emitted when anyone funds `projectId`'s reserve.
    event ReserveFunded(bytes32 indexed projectId, address indexed from, uint256 amount);
    /// @notice Emitted when the owner asks `amount` of the reserve back, withdrawable at `readyAt`.
    event ReserveWithdrawalRequested(bytes32 indexed projectId, uint256 amount, uint256 readyAt);
    /// @notice Emitted when the owner withdraws `amount` of reserve.
    event ReserveWithdrawn(bytes32 indexed projectId, uint256 amount);
    /// @notice Emitted when a project's authorization of `gateway` changes.
    event GatewayAuthorizationSet(bytes32 indexed projectId, address indexed gateway, uint256 from, uint256 until);
    /// @notice Emitted when the coordinator draws `amount` for tickets (`fromBond` of it from the gateway's bond).
    event Drawn(bytes32 indexed projectId, address indexed gateway, uint256 amount, uint256 fromBond);
    /// @notice Emitted when the coordinator returns `amount` to a reserve.
    event Refunded(bytes32 indexed projectId, uint256 amount);
    /// @notice Emitted when the coordinator takes `amount` from a gateway's bond.
    event BondCharged(address indexed gateway, uint256 amount);
    /// @notice Emitted when the coordinator is wired in (once).
    event CoordinatorSet(address indexed coordinator);
    /// @notice Emitted when `gateway` announces the public base URL of its job feed (empty: it withdrew it).
    event GatewayEndpoint(address indexed gateway, string url);
    /// @notice Emitted when the accountability courts are wired in (once); they may refund and charge bonds.
    event CourtsSet(address indexed disputeCourt, address indexed evidenceCourt);

    /// @notice Adds msg.value to the caller's gateway bond.
    function bond() external payable;

    /// @notice Starts the withdrawal of `amount` of the caller's bond (restarts the lock of what is leaving).
    function requestBondWithdrawal(uint256 amount) external;

    /// @notice Withdraws the caller's leaving bond after the lock.
    function withdrawBond() external;

    /// @notice Adds msg.value to `projectId`'s reserve. Anyone may fund.
    function fundReserve(bytes32 projectId) external payable;

    /// @notice Starts the withdrawal of `amount` of the caller's project reserve.
    function requestReserveWithdrawal(string calldata project, uint256 amount) external;

    /// @notice Withdraws the caller's leaving reserve after the lock.
    function withdrawReserve(string calldata project) external;

    /// @notice Authorizes `gateway` on the caller's project (first time: for tickets issued from now on; renewed:
    ///         from its first start again, the revoked gap included), or ends the authorization now.
    function setGatewayAuthorization(string calldata project, address gateway, bool authorized) external;

    /// @notice Takes `amount` for tickets issued in [minIssuedAt, maxIssuedAt] from the reserve, then the
    ///         gateway's bond, and sends it to the coordinator. Coordinator only.
    /// @param requireBond Whether the gateway must hold the minimum bond (it posts its own batch).
    function draw(
        bytes32 projectId,
        address gateway,
        uint256 amount,
        uint256 minIssuedAt,
        uint256 maxIssuedAt,
        bool requireBond
    ) external returns (uint256 fromBond);

    /// @notice Credits msg.value to `projectId`'s reserve (refunds, slash shares). Coordinator or courts.
    function refund(bytes32 projectId) external payable;

    /// @notice Takes up to `amount` of `gateway`'s bond and sends it to the caller. Coordinator or courts.
    function chargeBond(address gateway, uint256 amount) external returns (uint256 charged);

    /// @notice Announces the public base URL workers reach the caller's job feed at (`http(s)://host[:port]`),
    ///         or withdraws it with an empty `url`. Workers that discover gateways follow `GatewayEndpoint`
    ///         and serve bonded gateways only. Reverts BondTooLow when the caller holds less than the
    ///         minimum gateway bond (or none), EndpointTooLong above `MAX_ENDPOINT_BYTES`.
    function setEndpoint(string calldata url) external;

    /// @notice The URL `gateway` last announced with `setEndpoint` (empty: none).
    function endpointOf(address gateway) external view returns (string memory);

    /// @notice Longest endpoint URL accepted, in bytes.
    function MAX_ENDPOINT_BYTES() external view returns (uint256);

    /// @notice Wires the coordinator (deployer only, once).
    function setCoordinator(address coordinator) external;

    /// @notice Wires the DisputeCourt and the EvidenceCourt, which may refund and charge bonds too (deployer
    ///         only, once; reverts CoordinatorAlreadySet).
    function setCourts(address disputeCourt, address evidenceCourt) external;

    /// @notice The DisputeCourt and EvidenceCourt allowed to refund and charge bonds.
    function courts() external view returns (address disputeCourt, address evidenceCourt);

    /// @notice A gateway's bond.
    function bondOf(address gateway) external view returns (Bond memory);

    /// @notice A project's reserve.
    function reserveOf(bytes32 projectId) external view returns (Reserve memory);

    /// @notice A project's authorization of `gateway`.
    function authorizationOf(bytes32 projectId, address gateway) external view returns (Authorization memory);

    /// @notice Whether `gateway` could issue tickets on `projectId` at time `issuedAt`.
    function isAuthorizedAt(bytes32 projectId, address gateway, uint256 issuedAt) external view returns (bool);

    /// @notice keccak256(abi.encode(owner, project)).
    function projectIdOf(address owner, string calldata project) external pure returns (bytes32);

    /// @notice The coordinator allowed to draw, refund and charge.
    function coordinator() external view returns (address);
}
