// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IExecutionCoordinator} from "./interfaces/IExecutionCoordinator.sol";
import {IFunctionRegistry} from "./interfaces/IFunctionRegistry.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {Names} from "./libraries/Names.sol";

/// @title ExecutionCoordinator
/// @notice Escrow, commit-reveal Proof-of-Execution, quorum, rewards, slashing, refunds, pull payments.
contract ExecutionCoordinator is IExecutionCoordinator {
    /// @notice Hard cap on K, so every loop over a request's committers is bounded.
    uint8 public constant MAX_COMMITS = 16;
    /// @notice Longest accepted input CID, in bytes.
    uint256 public constant MAX_INPUT_CID_LENGTH = 128;

    uint8 private constant _REASON_WRONG_REVEAL = 0;
    uint8 private constant _REASON_MISSED_REVEAL = 1;
    uint8 private constant _OUTCOME_WON = 0;
    uint8 private constant _OUTCOME_AGREED = 1;
    uint8 private constant _OUTCOME_SLASHED = 2;
    uint8 private constant _OUTCOME_MISSED = 3;
    uint256 private constant _BPS = 10_000;

    IFunctionRegistry private immutable _registry;
    IWorkerRegistry private immutable _workers;
    address private immutable _owner;

    uint256 private immutable _minReward;
    uint8 private immutable _maxCommits;
    uint8 private immutable _quorum;
    uint64 private immutable _commitWindow;
    uint64 private immutable _revealWindow;
    uint16 private immutable _speedBonusBps;
    uint256 private immutable _commitLock;
    uint256 private immutable _wrongRevealSlash;
    uint256 private immutable _missedRevealSlash;
    uint32 private immutable _maxInputBytes;

    mapping(bytes32 requestId => Request) private _requests;
    mapping(bytes32 requestId => mapping(address worker => Commitment)) private _commitments;
    /// @dev Fixed-size slots (no length word to write): `Request.commitCount` says how many are used.
    mapping(bytes32 requestId => address[MAX_COMMITS] workers) private _committers;
    mapping(address requester => uint256 count) private _sequences;
    mapping(address account => uint256 amount) private _pending;
    mapping(bytes32 projectId => ProjectAccount) private _projects;
    mapping(bytes32 projectId => mapping(address gateway => bool)) private _gateways;
    uint256 private _treasury;

    /// @dev A request's committers and their reveals, loaded once by finalize.
    struct Tally {
        address[] workers;
        bool[] revealed;
        bytes32[] hashes;
        bytes32 winner;
        uint256 agreeing;
        bool quorate;
        address fastest;
    }

    /// @param registry The function registry.
    /// @param workers_ The worker registry (which must then be wired with setCoordinator).
    /// @param p Protocol parameters; see IExecutionCoordinator.Params.
    constructor(IFunctionRegistry registry, IWorkerRegistry workers_, Params memory p) {
        if (address(registry) == address(0) || address(workers_) == address(0)) revert InvalidParams();
        if (p.minReward == 0 || p.maxCommits == 0 || p.maxCommits > MAX_COMMITS) revert InvalidParams();
        if (p.quorum > p.maxCommits || 2 * uint256(p.quorum) <= p.maxCommits) revert InvalidParams();
        if (p.commitWindow == 0 || p.revealWindow == 0 || p.speedBonusBps > _BPS) revert InvalidParams();
        if (p.wrongRevealSlash > p.commitLock || p.missedRevealSlash > p.commitLock) revert InvalidParams();
        if (p.maxInputBytes == 0) revert InvalidParams();
        _registry = registry;
        _workers = workers_;
        _owner = msg.sender;
        _minReward = p.minReward;
        _maxCommits = p.maxCommits;
        _quorum = p.quorum;
        _commitWindow = p.commitWindow;
        _revealWindow = p.revealWindow;
        _speedBonusBps = p.speedBonusBps;
        _commitLock = p.commitLock;
        _wrongRevealSlash = p.wrongRevealSlash;
        _missedRevealSlash = p.missedRevealSlash;
        _maxInputBytes = p.maxInputBytes;
    }

    /// @notice Receives slashed stake from the worker registry into the treasury.
    receive() external payable {
        if (msg.sender != address(_workers)) revert UnexpectedPayment(msg.sender);
        _treasury += msg.value;
        emit TreasuryCredited(msg.value);
    }

    // ---------------------------------------------------------------- requests

    /// @inheritdoc IExecutionCoordinator
    function requestExecution(bytes32 functionId, bytes calldata input, bytes calldata replyTo)
        external
        payable
        returns (bytes32 requestId)
    {
        if (input.length == 0) revert InvalidInput();
        if (input.length > _maxInputBytes) revert InputTooLarge(input.length, _maxInputBytes);
        Job memory job;
        job.input = input;
        job.inputHash = keccak256(input);
        job.replyTo = replyTo;
        return _request(functionId, job);
    }

    /// @inheritdoc IExecutionCoordinator
    function requestExecutionByCid(
        bytes32 functionId,
        bytes calldata inputCid,
        bytes32 inputHash,
        bytes calldata replyTo
    ) external payable returns (bytes32 requestId) {
        if (inputCid.length == 0 || inputHash == bytes32(0)) revert InvalidInput();
        if (inputCid.length > MAX_INPUT_CID_LENGTH) revert InputTooLarge(inputCid.length, MAX_INPUT_CID_LENGTH);
        Job memory job;
        job.inputCid = inputCid;
        job.inputHash = inputHash;
        job.replyTo = replyTo;
        return _request(functionId, job);
    }

    /// @inheritdoc IExecutionCoordinator
    function commit(bytes32 requestId, bytes32 commitment) external {
        Request storage r = _existing(requestId);
        Phase p = _phase(r);
        if (p != Phase.Commit) revert WrongPhase(requestId, p);
        if (commitment == bytes32(0)) revert EmptyCommitment();
        Commitment storage c = _commitments[requestId][msg.sender];
        if (c.commitment != bytes32(0)) revert AlreadyCommitted(requestId, msg.sender);
        if (!_workers.isActive(msg.sender)) revert WorkerNotActive(msg.sender);

        uint8 index = r.commitCount++;
        c.commitment = commitment;
        c.committedAt = uint64(block.timestamp);
        c.index = index;
        _committers[requestId][index] = msg.sender;
        emit ResultCommitted(requestId, msg.sender, index);
        if (index + 1 == _maxCommits) emit RevealPhaseOpened(requestId);

        _workers.lock(msg.sender, _commitLock);
    }

    /// @inheritdoc IExecutionCoordinator
    function reveal(bytes32 requestId, bytes32 resultHash, bytes32 salt) external {
        Request storage r = _existing(requestId);
        Phase p = _phase(r);
        if (p != Phase.Reveal) revert WrongPhase(requestId, p);
        Commitment storage c = _commitments[requestId][msg.sender];
        if (c.commitment == bytes32(0)) revert NotCommitted(requestId, msg.sender);
        if (c.revealed) revert AlreadyRevealed(requestId, msg.sender);
        if (_commitmentOf(requestId, msg.sender, resultHash, salt) != c.commitment) {
            revert CommitmentMismatch(requestId, msg.sender);
        }

        c.revealed = true;
        c.resultHash = resultHash;
        r.revealCount += 1;
        emit ResultRevealed(requestId, msg.sender, resultHash);
    }

    /// @inheritdoc IExecutionCoordinator
    function finalize(bytes32 requestId) external {
        Request storage r = _existing(requestId);
        Phase p = _phase(r);
        if (p != Phase.Settle) revert WrongPhase(requestId, p);

        Tally memory t = _tally(requestId);
        // Effects: the terminal state and every credit, before any call out.
        if (t.quorate) _credit(requestId, r, t);
        else _refund(requestId, r);
        // Interactions: the worker registry unlocks, slashes (ETH comes back through receive) and scores.
        _settleStakes(requestId, t);
    }

    // ---------------------------------------------------------------- payments

    /// @inheritdoc IExecutionCoordinator
    function withdraw() external {
        uint256 amount = _pending[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _pending[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    /// @inheritdoc IExecutionCoordinator
    function fundProject(address owner_, string calldata project) external payable {
        if (!Names.isProjectName(project)) revert InvalidProjectName(project);
        if (msg.value == 0) revert InvalidAmount(0, 0);
        bytes32 projectId = _projectId(owner_, project);
        _projects[projectId].balance += msg.value;
        emit ProjectFunded(projectId, msg.sender, msg.value);
    }

    /// @inheritdoc IExecutionCoordinator
    function withdrawProjectBalance(string calldata project, uint256 amount) external {
        bytes32 projectId = _projectId(msg.sender, project);
        ProjectAccount storage a = _projects[projectId];
        if (amount == 0 || amount > a.balance) revert InvalidAmount(amount, a.balance);
        a.balance -= amount;
        emit ProjectBalanceWithdrawn(projectId, amount);
        _send(msg.sender, amount);
    }

    /// @inheritdoc IExecutionCoordinator
    function setProjectPrice(string calldata project, uint256 price) external {
        if (!Names.isProjectName(project)) revert InvalidProjectName(project);
        if (price < _minReward) revert PriceTooLow(price, _minReward);
        bytes32 projectId = _projectId(msg.sender, project);
        _projects[projectId].pricePerRequest = price;
        emit ProjectPriceSet(projectId, price);
    }

    /// @inheritdoc IExecutionCoordinator
    function setGatewayAuthorization(string calldata project, address gateway, bool authorized) external {
        if (!Names.isProjectName(project)) revert InvalidProjectName(project);
        bytes32 projectId = _projectId(msg.sender, project);
        _gateways[projectId][gateway] = authorized;
        emit GatewayAuthorizationSet(projectId, gateway, authorized);
    }

    /// @inheritdoc IExecutionCoordinator
    function withdrawTreasury(address to) external {
        if (msg.sender != _owner) revert NotOwner(msg.sender);
        uint256 amount = _treasury;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _treasury = 0;
        emit TreasuryWithdrawn(to, amount);
        _send(to, amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IExecutionCoordinator
    function nextRequestId(address requester) external view returns (bytes32) {
        return _requestId(requester, _sequences[requester]);
    }

    /// @inheritdoc IExecutionCoordinator
    function commitmentFor(bytes32 requestId, address worker, bytes32 resultHash, bytes32 salt)
        external
        view
        returns (bytes32)
    {
        return _commitmentOf(requestId, worker, resultHash, salt);
    }

    /// @inheritdoc IExecutionCoordinator
    function getRequest(bytes32 requestId) external view returns (Request memory) {
        return _existing(requestId);
    }

    /// @inheritdoc IExecutionCoordinator
    function phase(bytes32 requestId) external view returns (Phase) {
        return _phase(_requests[requestId]);
    }

    /// @inheritdoc IExecutionCoordinator
    function getCommitment(bytes32 requestId, address worker) external view returns (Commitment memory) {
        return _commitments[requestId][worker];
    }

    /// @inheritdoc IExecutionCoordinator
    function committers(bytes32 requestId) external view returns (address[] memory list) {
        list = _committerList(requestId, _requests[requestId].commitCount);
    }

    /// @inheritdoc IExecutionCoordinator
    function pendingWithdrawal(address account) external view returns (uint256) {
        return _pending[account];
    }

    /// @inheritdoc IExecutionCoordinator
    function projectAccount(bytes32 projectId) external view returns (ProjectAccount memory) {
        return _projects[projectId];
    }

    /// @inheritdoc IExecutionCoordinator
    function isGatewayAuthorized(bytes32 projectId, address gateway) external view returns (bool) {
        return _gateways[projectId][gateway];
    }

    /// @inheritdoc IExecutionCoordinator
    function params() external view returns (Params memory) {
        return Params({
            minReward: _minReward,
            maxCommits: _maxCommits,
            quorum: _quorum,
            commitWindow: _commitWindow,
            revealWindow: _revealWindow,
            speedBonusBps: _speedBonusBps,
            commitLock: _commitLock,
            wrongRevealSlash: _wrongRevealSlash,
            missedRevealSlash: _missedRevealSlash,
            maxInputBytes: _maxInputBytes
        });
    }

    /// @inheritdoc IExecutionCoordinator
    function maxRequestLifetime() external view returns (uint64) {
        return _commitWindow + _revealWindow;
    }

    /// @inheritdoc IExecutionCoordinator
    function treasury() external view returns (uint256) {
        return _treasury;
    }

    /// @inheritdoc IExecutionCoordinator
    function requestSequence(address requester) external view returns (uint256) {
        return _sequences[requester];
    }

    /// @inheritdoc IExecutionCoordinator
    function functionRegistry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IExecutionCoordinator
    function workerRegistry() external view returns (address) {
        return address(_workers);
    }

    /// @inheritdoc IExecutionCoordinator
    function owner() external view returns (address) {
        return _owner;
    }

    // ---------------------------------------------------------------- internals

    /// @dev Snapshots the active version into `job`, takes the escrow, stores the request and announces it.
    function _request(bytes32 functionId, Job memory job) private returns (bytes32 requestId) {
        (, bytes32 projectId, uint32 version, IFunctionRegistry.Version memory v) =
            _registry.activeSnapshotOf(functionId);
        job.version = version;
        job.runtime = v.runtime;
        job.codeCid = v.codeCid;
        job.fuelLimit = v.fuelLimit;
        job.memoryLimit = v.memoryLimit;
        job.mode = uint8(v.mode);
        bytes32 payer;
        (job.reward, payer) = _escrow(projectId);
        job.requestedAt = uint64(block.timestamp);
        job.commitDeadline = job.requestedAt + _commitWindow;
        job.revealDeadline = job.commitDeadline + _revealWindow;

        requestId = _requestId(msg.sender, _sequences[msg.sender]++);
        Request storage r = _requests[requestId];
        r.requester = msg.sender;
        r.functionId = functionId;
        r.projectId = payer;
        r.reward = job.reward;
        r.inputHash = job.inputHash;
        r.requestedAt = job.requestedAt;
        r.commitDeadline = job.commitDeadline;
        r.revealDeadline = job.revealDeadline;
        r.status = Status.Pending;
        emit ExecutionRequested(requestId, functionId, msg.sender, job);
    }

    /// @dev Takes the escrow: msg.value, or the project's price from its balance for an authorized gateway.
    function _escrow(bytes32 projectId) private returns (uint256 reward, bytes32 payer) {
        if (msg.value > 0) {
            if (msg.value < _minReward) revert RewardTooLow(msg.value, _minReward);
            return (msg.value, bytes32(0));
        }
        if (!_gateways[projectId][msg.sender]) revert GatewayNotAuthorized(projectId, msg.sender);
        ProjectAccount storage a = _projects[projectId];
        uint256 price = a.pricePerRequest;
        if (price < _minReward) revert PriceTooLow(price, _minReward);
        if (a.balance < price) revert InsufficientProjectBalance(projectId, a.balance, price);
        a.balance -= price;
        return (price, projectId);
    }

    /// @dev Loads the committers' reveals and finds the hash with >= quorum reveals (at most one can have it).
    function _tally(bytes32 requestId) private view returns (Tally memory t) {
        uint256 n = _requests[requestId].commitCount;
        t.workers = _committerList(requestId, n);
        t.revealed = new bool[](n);
        t.hashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            Commitment storage c = _commitments[requestId][t.workers[i]];
            t.revealed[i] = c.revealed;
            t.hashes[i] = c.resultHash;
        }
        for (uint256 i; i < n && !t.quorate; ++i) {
            if (!t.revealed[i]) continue;
            uint256 count;
            for (uint256 j = i; j < n; ++j) {
                if (t.revealed[j] && t.hashes[j] == t.hashes[i]) ++count;
            }
            if (count >= _quorum) {
                t.quorate = true;
                t.winner = t.hashes[i];
                t.agreeing = count;
                t.fastest = t.workers[i]; // committers are in commit order: the first match is the earliest
            }
        }
    }

    /// @dev Finalizes: winners share reward - bonus; the fastest also gets the bonus and the rounding dust.
    function _credit(bytes32 requestId, Request storage r, Tally memory t) private {
        r.status = Status.Finalized;
        r.resultHash = t.winner;
        r.fastest = t.fastest;
        emit RequestFinalized(requestId, t.winner, t.fastest, uint8(t.agreeing));

        uint256 reward = r.reward;
        uint256 share = (reward - (reward * _speedBonusBps) / _BPS) / t.agreeing;
        uint256 top = reward - share * (t.agreeing - 1);
        for (uint256 i; i < t.workers.length; ++i) {
            if (!t.revealed[i] || t.hashes[i] != t.winner) continue;
            address w = t.workers[i];
            uint256 amount = w == t.fastest ? top : share;
            _pending[w] += amount;
            emit WorkerRewarded(requestId, w, amount);
        }
    }

    /// @dev No quorum: the escrow goes back where it came from.
    function _refund(bytes32 requestId, Request storage r) private {
        r.status = Status.Refunded;
        uint256 amount = r.reward;
        if (r.projectId != bytes32(0)) _projects[r.projectId].balance += amount;
        else _pending[r.requester] += amount;
        emit RequestRefunded(requestId, r.requester, amount);
    }

    /// @dev Releases every committer's lock: winners and (without quorum) revealers are unlocked, losing
    ///      revealers lose wrongRevealSlash, non-revealers lose missedRevealSlash.
    function _settleStakes(bytes32 requestId, Tally memory t) private {
        for (uint256 i; i < t.workers.length; ++i) {
            address w = t.workers[i];
            if (!t.revealed[i]) {
                _slash(requestId, w, _missedRevealSlash, _REASON_MISSED_REVEAL, _OUTCOME_MISSED);
            } else if (!t.quorate) {
                _workers.unlock(w, _commitLock);
            } else if (t.hashes[i] == t.winner) {
                _workers.unlock(w, _commitLock);
                _workers.recordOutcome(w, _OUTCOME_AGREED);
                if (w == t.fastest) _workers.recordOutcome(w, _OUTCOME_WON);
            } else {
                _slash(requestId, w, _wrongRevealSlash, _REASON_WRONG_REVEAL, _OUTCOME_SLASHED);
            }
        }
    }

    function _slash(bytes32 requestId, address worker, uint256 amount, uint8 reason, uint8 outcome) private {
        uint256 slashed = amount == 0 ? 0 : _workers.slash(worker, amount);
        if (_commitLock > slashed) _workers.unlock(worker, _commitLock - slashed);
        _workers.recordOutcome(worker, outcome);
        emit WorkerSlashed(requestId, worker, slashed, reason);
    }

    function _committerList(bytes32 requestId, uint256 count) private view returns (address[] memory list) {
        address[MAX_COMMITS] storage slots = _committers[requestId];
        list = new address[](count);
        for (uint256 i; i < count; ++i) {
            list[i] = slots[i];
        }
    }

    function _phase(Request storage r) private view returns (Phase) {
        Status s = r.status;
        if (s == Status.None) return Phase.None;
        if (s == Status.Finalized) return Phase.Finalized;
        if (s == Status.Refunded) return Phase.Refunded;
        uint8 commits = r.commitCount;
        if (commits < _maxCommits && block.timestamp < r.commitDeadline) return Phase.Commit;
        if (commits == 0 || r.revealCount == commits || block.timestamp >= r.revealDeadline) return Phase.Settle;
        return Phase.Reveal;
    }

    function _existing(bytes32 requestId) private view returns (Request storage r) {
        r = _requests[requestId];
        if (r.status == Status.None) revert UnknownRequest(requestId);
    }

    function _requestId(address requester, uint256 sequence) private view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), requester, sequence));
    }

    function _commitmentOf(bytes32 requestId, address worker, bytes32 resultHash, bytes32 salt)
        private
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(this), requestId, worker, resultHash, salt));
    }

    function _projectId(address owner_, string calldata project) private pure returns (bytes32) {
        return keccak256(abi.encode(owner_, project));
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
