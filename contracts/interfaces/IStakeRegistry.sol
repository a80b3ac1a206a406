// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IProtocolParams} from "./IProtocolParams.sol";

/// @title IStakeRegistry
/// @notice Worker stake for protocol v2, epochs, and stake-weighted committee seats.
/// @dev The active set is capped (`maxActive`). Each epoch has a frozen cumulative-stake array, built by
///      `advanceEpoch` from the members' bonded stake at that moment; stake changes, joins and exits made
///      during epoch e take effect in epoch e + 1. Two arrays are kept (double buffer): epoch e's array
///      stays readable while e + 1 is current. Unbonding stake (locked on its way out) never counts; it
///      stays slashable until withdrawn, and can be withdrawn only after the epoch it was requested in
///      has ended and every batch that epoch could seat has closed. Slashed ETH goes to the coordinator,
///      which splits it between honest seats, the payer and a burn: the deployer gets none of it.
interface IStakeRegistry is IProtocolParams {
    /// @notice A worker's stake and keys.
    struct Staker {
        bool registered;
        bool member; // in the candidate set the next epoch is built from
        uint32 jailedUntil; // not drawn in epochs <= jailedUntil (after a slash)
        uint32 unbondEpoch; // epoch of the last unbonding request
        uint64 unbondRequestedAt;
        uint96 stake; // bonded stake
        uint96 unbonding; // leaving stake (not counted, still slashable)
        bytes32 encryptionKey; // X25519 public key for sealed secrets
    }

    /// @notice One epoch's frozen seat-draw array.
    struct EpochInfo {
        uint32 epoch;
        uint16 members; // entries in the array
        uint64 startedAt;
        uint96 totalStake; // the array's last cumulative value
    }

    /// @notice Thrown when `worker` registers twice.
    error AlreadyRegistered(address worker);
    /// @notice Thrown when `worker` is not registered.
    error NotRegistered(address worker);
    /// @notice Thrown when a stake is below the minimum.
    error InsufficientStake(uint256 stake, uint256 minStake);
    /// @notice Thrown when the encryption key is zero.
    error InvalidEncryptionKey();
    /// @notice Thrown when an amount is zero or above what is available.
    error InvalidAmount(uint256 amount, uint256 available);
    /// @notice Thrown when unbonded stake is withdrawn before `readyAt` (or before its epoch's batches closed).
    error UnbondingNotReady(uint256 readyAt);
    /// @notice Thrown when the active set is full and no member was named to displace.
    error ActiveSetFull(uint256 cap);
    /// @notice Thrown when the named member cannot be displaced (not a member, or not less stake than the caller).
    error CannotDisplace(address member, uint256 memberStake, uint256 stake);
    /// @notice Thrown when a member joins again or a non-member leaves.
    error MembershipUnchanged(address worker, bool member);
    /// @notice Thrown when the current epoch is advanced before `endsAt`.
    error EpochNotOver(uint256 endsAt);
    /// @notice Thrown when seats are drawn from an epoch whose array is gone or not built yet.
    error EpochUnavailable(uint256 epoch, uint256 current);
    /// @notice Thrown when seats are drawn from an epoch with no stake.
    error EmptyEpoch(uint256 epoch);
    /// @notice Thrown when a coordinator-only function is called by someone else.
    error NotCoordinator(address caller);
    /// @notice Thrown when the coordinator is set twice or by someone other than the deployer.
    error CoordinatorAlreadySet(address coordinator);
    /// @notice Thrown when an ETH transfer fails.
    error TransferFailed(address to, uint256 amount);

    /// @notice Emitted when `worker` registers with `stake`.
    event WorkerRegistered(address indexed worker, uint256 stake, bytes32 encryptionKey);
    /// @notice Emitted when `worker` adds stake.
    event StakeAdded(address indexed worker, uint256 amount, uint256 stake);
    /// @notice Emitted when `worker` changes its encryption key.
    event EncryptionKeyChanged(address indexed worker, bytes32 encryptionKey);
    /// @notice Emitted when `worker` enters the candidate set (displacing `displaced`, or nobody).
    event MemberJoined(address indexed worker, address indexed displaced);
    /// @notice Emitted when `worker` leaves the candidate set.
    event MemberLeft(address indexed worker);
    /// @notice Emitted when `worker` starts unbonding `amount` in `epoch`.
    event UnbondingRequested(address indexed worker, uint256 amount, uint256 epoch);
    /// @notice Emitted when `worker` withdraws unbonded stake.
    event StakeWithdrawn(address indexed worker, uint256 amount);
    /// @notice Emitted when epoch `epoch` starts with `members` entries and `totalStake`.
    event EpochAdvanced(uint256 indexed epoch, uint256 members, uint256 totalStake);
    /// @notice Emitted when the coordinator slashes `amount` of `worker`'s stake; it is jailed through `jailedUntil`.
    event StakeSlashed(address indexed worker, uint256 amount, uint256 jailedUntil);
    /// @notice Emitted when the coordinator is wired in (once).
    event CoordinatorSet(address indexed coordinator);
    /// @notice Emitted when the accountability courts are wired in (once); they may slash like the coordinator.
    event CourtsSet(address indexed disputeCourt, address indexed evidenceCourt);

    /// @notice Registers msg.sender with msg.value (>= minStake) and joins the candidate set if it has room.
    function register(bytes32 encryptionKey) external payable;

    /// @notice Adds msg.value to the caller's stake (counts from the next epoch).
    function addStake() external payable;

    /// @notice Replaces the caller's X25519 public key.
    function setEncryptionKey(bytes32 encryptionKey) external;

    /// @notice Enters the candidate set; when it is full, displaces `displace`, a member with less stake.
    function join(address displace) external;

    /// @notice Leaves the candidate set (from the next epoch on).
    function leave() external;

    /// @notice Moves `amount` of bonded stake to unbonding (restarts the delay of everything unbonding).
    function requestUnbonding(uint256 amount) external;

    /// @notice Withdraws all unbonding stake once its delay passed and its epoch's batches closed.
    function withdrawStake() external;

    /// @notice Starts the next epoch (anyone, once the current one is `epochLength` old): freezes the
    ///         candidates' eligible stake into the next cumulative array.
    function advanceEpoch() external;

    /// @notice Slashes up to `amount` of `worker`'s stake (bonded first, then unbonding), jails it and sends
    ///         the ETH to the coordinator. Coordinator only.
    /// @return slashed The amount actually taken (never more than the worker has).
    function slash(address worker, uint256 amount) external returns (uint256 slashed);

    /// @notice Wires the coordinator (deployer only, once).
    function setCoordinator(address coordinator) external;

    /// @notice Wires the DisputeCourt and the EvidenceCourt, which may slash too (deployer only, once;
    ///         reverts CoordinatorAlreadySet).
    function setCourts(address disputeCourt, address evidenceCourt) external;

    /// @notice The DisputeCourt and EvidenceCourt allowed to slash.
    function courts() external view returns (address disputeCourt, address evidenceCourt);

    /// @notice The `k` seats drawn from `epoch` with `seed`: seat j is the member whose cumulative range holds
    ///         keccak256(abi.encode(seed, 0, j)) mod totalStake (binary search). Reverts EpochUnavailable/EmptyEpoch.
    function drawSeats(uint256 epoch, bytes32 seed, uint256 k) external view returns (address[] memory seats);

    /// @notice drawSeats, plus the distinct holders in first-seat order and their seat counts (8 bits each,
    ///         holder i at bits 8i..8i+7).
    function drawHolders(uint256 epoch, bytes32 seed, uint256 k)
        external
        view
        returns (address[] memory seats, address[] memory holders, uint256 counts);

    /// @notice The current epoch.
    function currentEpoch() external view returns (uint256);

    /// @notice The frozen array's summary of `epoch` (current or previous). Reverts EpochUnavailable.
    function epochInfo(uint256 epoch) external view returns (EpochInfo memory);

    /// @notice Entry `index` of `epoch`'s array: the member and its cumulative stake. Reverts EpochUnavailable.
    function entryAt(uint256 epoch, uint256 index) external view returns (address member, uint256 cumulative);

    /// @notice When `epoch` started (0 when it has not).
    function epochStartedAt(uint256 epoch) external view returns (uint256);

    /// @notice A worker's stake and keys.
    function getStaker(address worker) external view returns (Staker memory);

    /// @notice The candidate set the next epoch will be built from.
    function members() external view returns (address[] memory);

    /// @notice The stake `worker` would count with if the next epoch were built now (0 when not eligible).
    function eligibleStake(address worker) external view returns (uint256);

    /// @notice When `worker`'s unbonding stake can be withdrawn (max of the delay and its epoch's batches closing;
    ///         type(uint256).max while its epoch is still current).
    function unbondingReadyAt(address worker) external view returns (uint256);

    /// @notice The coordinator allowed to slash.
    function coordinator() external view returns (address);
}
