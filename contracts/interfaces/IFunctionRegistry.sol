// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IFunctionRegistry
/// @notice Who owns which (wallet, project, function), and each function's immutable versions.
/// @dev functionId = keccak256(abi.encode(owner, project, name)); projectId = keccak256(abi.encode(owner, project)).
///      abi.encode (not encodePacked) so that ("a-b", "c") and ("a", "b-c") never collide.
interface IFunctionRegistry {
    /// @notice How the gateway answers by default: the first signed output, or only the finalized one.
    enum ResponseMode {
        Fast,
        Verified
    }

    /// @notice One immutable published version of a function.
    struct Version {
        string runtime; // "wasi", "js", ... ([a-z0-9]{1,16})
        bytes codeCid; // binary CIDv1 of the code
        uint64 fuelLimit;
        uint64 memoryLimit; // bytes
        ResponseMode mode;
        uint64 publishedAt;
    }

    /// @notice A function's identity and state.
    struct FunctionInfo {
        address owner;
        string project;
        string name;
        uint32 versionCount; // versions are numbered 1..versionCount
        uint32 activeVersion; // 0 only before the first publish
        bool disabled;
    }

    /// @notice Thrown when a project name is not `[a-z0-9-]{1,32}`.
    error InvalidProjectName(string project);
    /// @notice Thrown when a function name is not `[a-z0-9_-]{1,64}`.
    error InvalidFunctionName(string name);
    /// @notice Thrown when a runtime id is not `[a-z0-9]{1,16}`.
    error InvalidRuntime(string runtime);
    /// @notice Thrown when a code CID is empty or longer than MAX_CID_LENGTH.
    error InvalidCodeCid(uint256 length);
    /// @notice Thrown when fuel or memory limits are zero or above the registry's maxima.
    error InvalidLimits(uint64 fuelLimit, uint64 memoryLimit);
    /// @notice Thrown when `functionId` was never published.
    error UnknownFunction(bytes32 functionId);
    /// @notice Thrown when `version` does not exist for `functionId`.
    error UnknownVersion(bytes32 functionId, uint32 version);
    /// @notice Thrown when someone other than the owner changes a function.
    error NotFunctionOwner(bytes32 functionId, address caller);
    /// @notice Thrown when an execution is asked of a disabled function.
    error FunctionIsDisabled(bytes32 functionId);

    /// @notice Emitted when `owner` publishes `version` of a function; it becomes active.
    event FunctionPublished(
        bytes32 indexed functionId,
        address indexed owner,
        string project,
        string name,
        uint32 version,
        string runtime,
        bytes codeCid,
        uint64 fuelLimit,
        uint64 memoryLimit,
        ResponseMode mode
    );
    /// @notice Emitted when the owner rolls the active version to `version`.
    event ActiveVersionChanged(bytes32 indexed functionId, uint32 version);
    /// @notice Emitted when the owner disables or re-enables a function.
    event FunctionDisabledSet(bytes32 indexed functionId, bool disabled);
    /// @notice Emitted when the owner points a project at a new secrets bundle (empty clears it).
    event SecretsBundleSet(bytes32 indexed projectId, address indexed owner, string project, bytes bundleCid);

    /// @notice Publishes a new version of (msg.sender, project, name) and makes it active.
    /// @return functionId The function's id.
    /// @return version The new version's number (1-based).
    function publish(
        string calldata project,
        string calldata name,
        string calldata runtime,
        bytes calldata codeCid,
        uint64 fuelLimit,
        uint64 memoryLimit,
        ResponseMode mode
    ) external returns (bytes32 functionId, uint32 version);

    /// @notice Makes an earlier (or later) existing version active again. Owner only.
    function setActiveVersion(bytes32 functionId, uint32 version) external;

    /// @notice Disables (or re-enables) a function; disabled functions accept no requests. Owner only.
    function setDisabled(bytes32 functionId, bool disabled) external;

    /// @notice Points the caller's `project` at a secrets bundle CID (empty bytes clears it).
    function setSecretsBundle(string calldata project, bytes calldata bundleCid) external;

    /// @notice The id of (owner, project, name); pure, works for unpublished names too.
    function functionIdOf(address owner, string calldata project, string calldata name) external pure returns (bytes32);

    /// @notice The id of (owner, project); pure.
    function projectIdOf(address owner, string calldata project) external pure returns (bytes32);

    /// @notice A function's identity and state. Reverts UnknownFunction.
    function getFunction(bytes32 functionId) external view returns (FunctionInfo memory);

    /// @notice One version of a function. Reverts UnknownFunction / UnknownVersion.
    function getVersion(bytes32 functionId, uint32 version) external view returns (Version memory);

    /// @notice Resolves (owner, project, name) to its id, info and active version. Reverts UnknownFunction.
    function resolve(address owner, string calldata project, string calldata name)
        external
        view
        returns (bytes32 functionId, FunctionInfo memory info, Version memory active);

    /// @notice The active version of an enabled function (what the coordinator snapshots).
    /// @dev Reverts UnknownFunction or FunctionIsDisabled.
    function activeVersionOf(bytes32 functionId) external view returns (address owner, bytes32 projectId, Version memory);

    /// @notice The secrets bundle CID of (owner, project); empty when none.
    function secretsBundle(address owner, string calldata project) external view returns (bytes memory);

    /// @notice activeVersionOf plus the active version's number, in one call (what the coordinator snapshots).
    /// @dev Reverts UnknownFunction or FunctionIsDisabled.
    function activeSnapshotOf(bytes32 functionId)
        external
        view
        returns (address owner, bytes32 projectId, uint32 version, Version memory active);

    /// @notice The project a function belongs to and how many versions it has (what v2 settlement checks
    ///         a ticket against; a disabled function still settles tickets issued before). Reverts UnknownFunction.
    function projectOf(bytes32 functionId) external view returns (bytes32 projectId, uint32 versionCount);

    /// @notice The largest fuel limit a version may declare.
    function maxFuelLimit() external view returns (uint64);

    /// @notice The largest memory limit (bytes) a version may declare.
    function maxMemoryLimit() external view returns (uint64);
}
