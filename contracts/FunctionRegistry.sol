// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFunctionRegistry} from "./interfaces/IFunctionRegistry.sol";
import {Names} from "./libraries/Names.sol";

/// @title FunctionRegistry
/// @notice Namespaces (wallet, project, function) and each function's immutable versions.
contract FunctionRegistry is IFunctionRegistry {
    /// @notice Longest accepted code or secrets-bundle CID, in bytes.
    uint256 public constant MAX_CID_LENGTH = 128;

    uint64 private immutable _maxFuelLimit;
    uint64 private immutable _maxMemoryLimit;

    mapping(bytes32 functionId => FunctionInfo) private _functions;
    mapping(bytes32 functionId => mapping(uint32 version => Version)) private _versions;
    mapping(bytes32 projectId => bytes bundleCid) private _secrets;

    /// @param maxFuelLimit_ Largest fuel limit a version may declare.
    /// @param maxMemoryLimit_ Largest memory limit (bytes) a version may declare.
    constructor(uint64 maxFuelLimit_, uint64 maxMemoryLimit_) {
        if (maxFuelLimit_ == 0 || maxMemoryLimit_ == 0) revert InvalidLimits(maxFuelLimit_, maxMemoryLimit_);
        _maxFuelLimit = maxFuelLimit_;
        _maxMemoryLimit = maxMemoryLimit_;
    }

    /// @inheritdoc IFunctionRegistry
    function publish(
        string calldata project,
        string calldata name,
        string calldata runtime,
        bytes calldata codeCid,
        uint64 fuelLimit,
        uint64 memoryLimit,
        ResponseMode mode
    ) external returns (bytes32 functionId, uint32 version) {
        if (!Names.isProjectName(project)) revert InvalidProjectName(project);
        if (!Names.isFunctionName(name)) revert InvalidFunctionName(name);
        if (!Names.isRuntime(runtime)) revert InvalidRuntime(runtime);
        if (codeCid.length == 0 || codeCid.length > MAX_CID_LENGTH) revert InvalidCodeCid(codeCid.length);
        if (fuelLimit == 0 || fuelLimit > _maxFuelLimit || memoryLimit == 0 || memoryLimit > _maxMemoryLimit) {
            revert InvalidLimits(fuelLimit, memoryLimit);
        }

        functionId = _functionId(msg.sender, project, name);
        FunctionInfo storage info = _functions[functionId];
        if (info.owner == address(0)) {
            info.owner = msg.sender;
            info.project = project;
            info.name = name;
        }
        version = ++info.versionCount;
        info.activeVersion = version;
        _versions[functionId][version] = Version({
            runtime: runtime,
            codeCid: codeCid,
            fuelLimit: fuelLimit,
            memoryLimit: memoryLimit,
            mode: mode,
            publishedAt: uint64(block.timestamp)
        });
        _emitPublished(functionId, info, version);
    }

    /// @inheritdoc IFunctionRegistry
    function setActiveVersion(bytes32 functionId, uint32 version) external {
        FunctionInfo storage info = _owned(functionId);
        if (version == 0 || version > info.versionCount) revert UnknownVersion(functionId, version);
        info.activeVersion = version;
        emit ActiveVersionChanged(functionId, version);
    }

    /// @inheritdoc IFunctionRegistry
    function setDisabled(bytes32 functionId, bool disabled) external {
        FunctionInfo storage info = _owned(functionId);
        info.disabled = disabled;
        emit FunctionDisabledSet(functionId, disabled);
    }

    /// @inheritdoc IFunctionRegistry
    function setSecretsBundle(string calldata project, bytes calldata bundleCid) external {
        if (!Names.isProjectName(project)) revert InvalidProjectName(project);
        if (bundleCid.length > MAX_CID_LENGTH) revert InvalidCodeCid(bundleCid.length);
        bytes32 projectId = _projectId(msg.sender, project);
        _secrets[projectId] = bundleCid;
        emit SecretsBundleSet(projectId, msg.sender, project, bundleCid);
    }

    /// @inheritdoc IFunctionRegistry
    function functionIdOf(address owner, string calldata project, string calldata name)
        external
        pure
        returns (bytes32)
    {
        return _functionId(owner, project, name);
    }

    /// @inheritdoc IFunctionRegistry
    function projectIdOf(address owner, string calldata project) external pure returns (bytes32) {
        return _projectId(owner, project);
    }

    /// @inheritdoc IFunctionRegistry
    function getFunction(bytes32 functionId) external view returns (FunctionInfo memory) {
        return _existing(functionId);
    }

    /// @inheritdoc IFunctionRegistry
    function getVersion(bytes32 functionId, uint32 version) external view returns (Version memory) {
        FunctionInfo storage info = _existing(functionId);
        if (version == 0 || version > info.versionCount) revert UnknownVersion(functionId, version);
        return _versions[functionId][version];
    }

    /// @inheritdoc IFunctionRegistry
    function resolve(address owner, string calldata project, string calldata name)
        external
        view
        returns (bytes32 functionId, FunctionInfo memory info, Version memory active)
    {
        functionId = _functionId(owner, project, name);
        info = _existing(functionId);
        active = _versions[functionId][info.activeVersion];
    }

    /// @inheritdoc IFunctionRegistry
    function activeVersionOf(bytes32 functionId)
        external
        view
        returns (address owner, bytes32 projectId, Version memory active)
    {
        (owner, projectId,, active) = _activeSnapshot(functionId);
    }

    /// @inheritdoc IFunctionRegistry
    function activeSnapshotOf(bytes32 functionId)
        external
        view
        returns (address owner, bytes32 projectId, uint32 version, Version memory active)
    {
        (owner, projectId, version, active) = _activeSnapshot(functionId);
    }

    /// @inheritdoc IFunctionRegistry
    function secretsBundle(address owner, string calldata project) external view returns (bytes memory) {
        return _secrets[_projectId(owner, project)];
    }

    /// @inheritdoc IFunctionRegistry
    function projectOf(bytes32 functionId) external view returns (bytes32 projectId, uint32 versionCount) {
        FunctionInfo storage info = _existing(functionId);
        return (_projectId(info.owner, info.project), info.versionCount);
    }

    /// @inheritdoc IFunctionRegistry
    function maxFuelLimit() external view returns (uint64) {
        return _maxFuelLimit;
    }

    /// @inheritdoc IFunctionRegistry
    function maxMemoryLimit() external view returns (uint64) {
        return _maxMemoryLimit;
    }

    /// @dev Emits FunctionPublished from storage (keeps publish's stack shallow).
    function _emitPublished(bytes32 functionId, FunctionInfo storage info, uint32 version) private {
        Version storage v = _versions[functionId][version];
        emit FunctionPublished(
            functionId, info.owner, info.project, info.name, version, v.runtime, v.codeCid, v.fuelLimit, v.memoryLimit, v.mode
        );
    }

    function _activeSnapshot(bytes32 functionId)
        private
        view
        returns (address owner, bytes32 projectId, uint32 version, Version storage active)
    {
        FunctionInfo storage info = _existing(functionId);
        if (info.disabled) revert FunctionIsDisabled(functionId);
        owner = info.owner;
        projectId = _projectId(owner, info.project);
        version = info.activeVersion;
        active = _versions[functionId][version];
    }

    function _existing(bytes32 functionId) private view returns (FunctionInfo storage info) {
        info = _functions[functionId];
        if (info.owner == address(0)) revert UnknownFunction(functionId);
    }

    function _owned(bytes32 functionId) private view returns (FunctionInfo storage info) {
        info = _existing(functionId);
        if (info.owner != msg.sender) revert NotFunctionOwner(functionId, msg.sender);
    }

    function _functionId(address owner, string memory project, string memory name) private pure returns (bytes32) {
        return keccak256(abi.encode(owner, project, name));
    }

    function _projectId(address owner, string memory project) private pure returns (bytes32) {
        return keccak256(abi.encode(owner, project));
    }
}
