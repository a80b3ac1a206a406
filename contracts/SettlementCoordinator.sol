// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBeacon} from "./interfaces/IBeacon.sol";
import {IDisputeCourt} from "./interfaces/IDisputeCourt.sol";
import {IFunctionRegistry} from "./interfaces/IFunctionRegistry.sol";
import {IGatewayRegistry} from "./interfaces/IGatewayRegistry.sol";
import {IProtocolParams} from "./interfaces/IProtocolParams.sol";
import {ISettlementCoordinator} from "./interfaces/ISettlementCoordinator.sol";
import {IStakeRegistry} from "./interfaces/IStakeRegistry.sol";
import {ITicketVerifier} from "./interfaces/ITicketVerifier.sol";
import {ProtocolParamsLib} from "./libraries/ProtocolParamsLib.sol";
import {SettlementFinalizer} from "./SettlementFinalizer.sol";
import {SettlementStorage} from "./SettlementStorage.sol";

/// @title SettlementCoordinator
/// @notice Protocol v2 batch settlement: post, seat, commit, reveal, finalize, open, pull payments.
///         Its state and shared helpers are in SettlementStorage; `finalize` runs in SettlementFinalizer (deployed by
///         the constructor, called with delegatecall).
contract SettlementCoordinator is ISettlementCoordinator, SettlementStorage {
    address private immutable _deployer;
    address private immutable _finalizer;

    /// @dev What a post needs besides the leaves.
    struct PostArgs {
        address gateway;
        bytes32 projectId;
        bytes32 engineProfile;
        uint96 reward;
        bytes32 resultsCommitment;
        bool single; // a contract's single request: its seq comes from a counter, no bitmap needed
        bool requireBond;
    }

    constructor(
        Params memory params_,
        IFunctionRegistry functions_,
        IStakeRegistry stakes_,
        IGatewayRegistry gateways_,
        IBeacon beacon_,
        ITicketVerifier tickets_
    ) SettlementStorage(params_, functions_, stakes_, gateways_, beacon_, tickets_) {
        ProtocolParamsLib.validate(params_);
        _params = params_;
        _deployer = msg.sender;
        _finalizer = address(new SettlementFinalizer(params_, functions_, stakes_, gateways_, beacon_, tickets_));
    }

    /// @inheritdoc ISettlementCoordinator
    function setCourt(IDisputeCourt court_) external {
        if (msg.sender != _deployer || address(_court) != address(0)) revert CourtAlreadySet(address(_court));
        _court = court_;
        _challengeWindow = court_.courtParams().challengeWindow;
    }

    /// @dev Slashed stake and drawn rewards arrive from the registries only.
    receive() external payable {
        if (msg.sender != address(_stakes) && msg.sender != address(_gateways)) revert UnexpectedPayment(msg.sender);
    }

    // ------------------------------------------------------------------ posting

    /// @inheritdoc ISettlementCoordinator
    function postBatch(
        bytes32 projectId,
        bytes32 engineProfile,
        ITicketVerifier.BatchHead calldata head,
        bytes32 resultsCommitment,
        bytes calldata leaves
    ) external returns (uint256 batchId) {
        PostArgs memory a = PostArgs(msg.sender, projectId, engineProfile, head.reward, resultsCommitment, false, true);
        batchId = _postMemory(a, head, leaves, resultsCommitment == bytes32(0));
    }

    /// @inheritdoc ISettlementCoordinator
    function postOrphans(ITicketVerifier.Ticket[] calldata tickets, bytes[] calldata signatures, bytes32 resultsCommitment)
        external
        returns (uint256 batchId)
    {
        if (tickets.length > _maxLeaves) revert InvalidLeaves(tickets.length * _POSTED_LEAF_BYTES);
        batchId = _postOrphans(tickets, signatures, resultsCommitment);
        uint256 refund = _gateways.chargeBond(tickets[0].gateway, tickets.length * _orphanRefund);
        _credit(batchId, msg.sender, refund, _CREDIT_ORPHAN);
        emit OrphansPosted(batchId, msg.sender, refund);
    }

    /// @dev Posts signed orphaned tickets of one gateway and head as a fully audited batch.
    function _postOrphans(
        ITicketVerifier.Ticket[] calldata tickets,
        bytes[] calldata signatures,
        bytes32 resultsCommitment
    ) private returns (uint256 batchId) {
        uint256 issuedBy = block.timestamp > _orphanDelay ? block.timestamp - _orphanDelay : 0;
        (ITicketVerifier.BatchHead memory head, bytes memory leaves) =
            _tickets.orphanLeaves(address(this), tickets, signatures, issuedBy);
        ITicketVerifier.Ticket calldata first = tickets[0];
        (bytes32 projectId,) = _functions.projectOf(first.functionId);
        PostArgs memory a =
            PostArgs(first.gateway, projectId, first.engineProfile, first.reward, resultsCommitment, false, false);
        batchId = _postMemory(a, head, leaves, true);
    }

    /// @inheritdoc ISettlementCoordinator
    function requestExecution(
        bytes32 functionId,
        uint32 version,
        bytes32 inputHash,
        uint8 mode,
        uint40 deadline,
        uint32 secretsVersion,
        bytes32 engineProfile
    ) external payable returns (uint256 batchId, bytes32 requestId) {
        if (msg.value > type(uint96).max) revert WrongValue(msg.value, type(uint96).max);
        uint64 seq = _SINGLE_SEQ | uint64(_batchCount + 1); // its batch's id (_store): unique, no counter word
        bytes memory leaf = abi.encodePacked(seq, inputHash, uint40(block.timestamp), deadline, mode);
        PostArgs memory a = PostArgs(msg.sender, bytes32(0), engineProfile, uint96(msg.value), bytes32(0), true, false);
        batchId =
            _postMemory(a, ITicketVerifier.BatchHead(functionId, version, uint96(msg.value), secretsVersion), leaf, true);
        requestId = _requestId(msg.sender, seq);
        emit SingleRequested(batchId, requestId, msg.sender);
    }

    // ------------------------------------------------------------------ committee

    /// @inheritdoc ISettlementCoordinator
    function seat(uint256 batchId, bytes calldata proof) external {
        _seat(batchId, _at(batchId, Phase.AwaitingSeed), proof);
    }

    /// @inheritdoc ISettlementCoordinator
    function seatAndCommit(uint256 batchId, bytes calldata proof, bytes32 commitment, uint256[] calldata holders)
        external
    {
        Stored storage b = _existing(batchId);
        if (_phase(b) == Phase.AwaitingSeed) _seat(batchId, b, proof);
        commit(batchId, commitment, holders);
    }

    /// @dev Draws the seats from the seed block's beacon value (proven by `proof`) and opens the commit phase.
    function _seat(uint256 batchId, Stored storage b, bytes calldata proof) private {
        uint256 seedBlock = b.seedBlock;
        if (block.number <= seedBlock) revert SeedNotReady(batchId, seedBlock);
        bytes32 seed = keccak256(abi.encode(_beacon.valueOf(seedBlock, proof), batchId));
        address[] memory seats = _seatHolders(batchId, b, seed);
        uint256 fastMask = b.fastMask;
        uint256 sampled = fastMask == 0 ? 0 : _tickets.auditSample(seed, b.leafCount, fastMask, _auditBps);
        if (sampled != 0) b.sampledMask = sampled;
        b.commitDeadline = uint40(block.timestamp + _commitWindow);
        b.state = BatchState.Seated;
        emit BatchSeated(batchId, seed, seats, (_fullMask(b.leafCount) & ~fastMask) | sampled);
    }

    /// @dev Draws the seats and keeps the list of distinct holders with their seat counts as one hash (_holders).
    function _seatHolders(uint256 batchId, Stored storage b, bytes32 seed) private returns (address[] memory seats) {
        address[] memory holders;
        uint256 counts;
        (seats, holders, counts) = _stakes.drawHolders(b.epoch, seed, _seats);
        uint256[] memory list = new uint256[](holders.length);
        for (uint256 h; h < holders.length; ++h) {
            list[h] = uint256(uint160(holders[h])) | (((counts >> (8 * h)) & 0xff) << 160);
        }
        _holders[batchId] = _holdersHash(list);
        b.holderCount = uint8(holders.length);
    }

    /// @inheritdoc ISettlementCoordinator
    function reseed(uint256 batchId) external {
        Stored storage b = _at(batchId, Phase.AwaitingSeed);
        uint256 seedBlock = b.seedBlock;
        if (block.number <= seedBlock || blockhash(seedBlock) != bytes32(0)) revert SeedNotReady(batchId, seedBlock);
        seedBlock = block.number + _beaconDelay;
        b.seedBlock = uint40(seedBlock);
        emit Reseeded(batchId, seedBlock);
    }

    /// @inheritdoc ISettlementCoordinator
    function commit(uint256 batchId, bytes32 commitment, uint256[] calldata holders) public {
        Stored storage b = _at(batchId, Phase.Commit);
        (uint256 h,) = _holderIndex(batchId, holders, msg.sender);
        if (commitment == bytes32(0)) revert EmptyCommitment();
        if (b.committedBits & (1 << h) != 0) revert AlreadyCommitted(batchId, msg.sender);
        b.committedBits |= uint16(1 << h);
        _votes[batchId][h] = commitment;
        emit SeatCommitted(batchId, msg.sender);
    }

    /// @inheritdoc ISettlementCoordinator
    function reveal(
        uint256 batchId,
        bytes32 vectorHash,
        bytes32 salt,
        bytes32[] calldata vector,
        uint256[] calldata holders
    ) external {
        Stored storage b = _at(batchId, Phase.Reveal);
        uint256 count = b.holderCount;
        (uint256 h, uint256 word) = _holderIndex(batchId, holders, msg.sender);
        if (b.committedBits & (1 << h) == 0) revert NotCommitted(batchId, msg.sender);
        if (b.revealedBits & (1 << h) != 0) revert AlreadyRevealed(batchId, msg.sender);
        if (_commitment(batchId, msg.sender, vectorHash, salt) != _votes[batchId][h]) {
            revert CommitmentMismatch(batchId, msg.sender);
        }
        uint256 first = b.firstFull;
        bytes32 published = first == 0 ? bytes32(0) : _votes[batchId][first - 1];
        if (vector.length > 0) {
            if (vector.length != b.leafCount || _vectorHash(vector) != vectorHash) revert VectorMismatch(batchId, vectorHash);
            if (first == 0) {
                b.firstFull = uint8(h + 1);
                published = vectorHash;
                _summarize(b, vector, vectorHash);
            }
        } else if (first == 0 || vectorHash != published) {
            revert VectorMismatch(batchId, published);
        }
        // A vote equal to the first full reveal's is stored as zero (_voteOf): the cleared word earns a refund.
        _votes[batchId][h] = first != 0 && vectorHash == published ? bytes32(0) : vectorHash;
        uint16 revealed = b.revealedBits | uint16(1 << h);
        b.revealedBits = revealed;
        emit SeatRevealed(batchId, msg.sender, vectorHash);

        // Every holder revealed the first full vector: settle now from its summary.
        if (revealed == (uint256(1) << count) - 1 && vectorHash == published && _allAgreed(batchId, b, count)) {
            _settleAgreed(batchId, b, h, word);
        }
    }

    /// @dev Whether every revealed holder but the first full one left zero: it voted the first full reveal's hash.
    function _allAgreed(uint256 batchId, Stored storage b, uint256 count) private view returns (bool) {
        uint256 first = b.firstFull - 1;
        for (uint256 i; i < count; ++i) {
            if (i != first && _votes[batchId][i] != bytes32(0)) return false;
        }
        return true;
    }

    /// @dev Stores what settling on `vector` needs (when every holder reveals it): the audited leaves it does
    ///      not abstain on (they finalize) and, for a batch with attesters, the hash of the final vector.
    ///      Neither is written in the common case (no fresh storage word): no audited leaf abstained, and the final
    ///      vector is the revealed one (every leaf audited).
    function _summarize(Stored storage b, bytes32[] calldata vector, bytes32 vectorHash) private {
        uint256 audit = _auditMaskOf(b);
        (uint256 finalMask, bytes32 finalVectorHash) = _tickets.summarize(vector, audit);
        if (audit & ~finalMask != 0) b.nonFinalMask = audit & ~finalMask;
        if (b.resultsCommitment != bytes32(0) && finalVectorHash != vectorHash) b.finalVectorHash = finalVectorHash;
    }

    /// @dev Settles a batch whose holders all revealed the first full vector (summarized in finalMask and
    ///      finalVectorHash): every seat agrees, so every leaf in finalMask is Final (K >= Q) and the other
    ///      audited leaves are refunded; nobody is slashed. Pays as _settle does, without the per-leaf loop, but the
    ///      finalizer's share is recorded for the settling holder `settler` in the batch's _holders word (`word`),
    ///      claimed with its seat pay (claimSeatPay): no credit word written, no withdrawal, and no word per holder
    ///      (each holder is owed its seats x the Final leaves).
    function _settleAgreed(uint256 batchId, Stored storage b, uint256 settler, uint256 word) private {
        uint256 reward = b.reward;
        uint256 audit = _auditMaskOf(b);
        uint256 finalMask = audit & ~b.nonFinalMask;
        uint256 finals = _popcount(finalMask);
        uint256 unaudited = b.leafCount - _popcount(audit);
        uint256 finalizerShare = reward * _finalizerBps / _BPS;
        uint256 committeeShare = _committeeShare(b, reward, finalizerShare);
        uint256 pot = _potOf(b, finalMask);
        b.finalizedAfter = uint32(block.timestamp - b.postedAt) + 1; // + 1: never zero once finalized
        b.state = pot != 0 ? BatchState.Finalized : BatchState.Closed; // seats claim their pay (claimSeatPay)
        emit BatchFinalized(
            batchId, pot != 0 ? _finalVectorHashOf(batchId, b) : bytes32(0), finalMask, audit & ~finalMask, 0, msg.sender
        );
        _holders[batchId] = word | _AGREED | (settler + 1) << _SETTLER_SHIFT | finals << _FINALS_SHIFT
            | (finals + unaudited) << _PAID_SHIFT; // claimed after the window
        _refund(batchId, b, (_popcount(audit) - finals) * reward);
    }

    /// @inheritdoc ISettlementCoordinator
    function finalize(uint256, bytes32[][] calldata, uint256[] calldata) external {
        _delegate(); // SettlementFinalizer.finalize
    }

    /// @dev Runs this call's calldata on SettlementFinalizer (delegatecall: on this contract's state) and returns
    ///      or reverts with what it returned.
    function _delegate() private {
        address finalizer = _finalizer;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), finalizer, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    // ------------------------------------------------------------------ after settlement

    /// @inheritdoc ISettlementCoordinator
    function openResults(
        uint256 batchId,
        bytes32 salt,
        bytes calldata opening,
        bytes32[] calldata finalVector,
        bytes calldata cosignatures
    ) external {
        Stored storage b = _at(batchId, Phase.Finalized);
        if (block.timestamp >= _finalizedAt(b) + _openWindow) revert WrongPhase(batchId, Phase.Finalized);
        uint256 pot = _potOf(b, _finalMaskOf(b));
        uint256 paid = _payAttesters(batchId, b, salt, opening, finalVector, cosignatures);
        uint256 returned = pot - paid;
        b.state = BatchState.Closed;
        emit ResultsOpened(batchId, paid, returned);
        _refund(batchId, b, returned);
    }

    /// @dev Credits the attesters TicketVerifier.attesterPay finds owed (returns their total); it checks the opening
    ///      against the results commitment (ResultsMismatch) and the final vector against the batch's (VectorMismatch).
    function _payAttesters(
        uint256 batchId,
        Stored storage b,
        bytes32 salt,
        bytes calldata opening,
        bytes32[] calldata finalVector,
        bytes calldata cosignatures
    ) private returns (uint256 paid) {
        ITicketVerifier.OpenTerms memory terms = _openTerms(batchId, b);
        terms.finalMask &= ~_unpaidLeaves(batchId, b); // challenged leaves pay no attester
        terms.salt = salt;
        terms.commitment = b.resultsCommitment;
        terms.finalVectorHash = _finalVectorHashOf(batchId, b);
        address[] memory accounts;
        uint256[] memory amounts;
        (accounts, amounts, paid) = _tickets.attesterPay(terms, opening, finalVector, cosignatures);
        for (uint256 j; j < accounts.length; ++j) {
            _credit(batchId, accounts[j], amounts[j], _CREDIT_ATTESTER);
        }
    }

    /// @dev After the challenge window (ChallengeWindowOpen before, as IDisputeCourt.unpaidLeavesAfter): the
    ///      challenged leaves, asked of the court only when a challenge withheld seat pay (withholdSeatPay), none
    ///      otherwise (the court's call, ~8 k gas, saved).
    function _unpaidLeaves(uint256 batchId, Stored storage b) private view returns (uint256 unpaid) {
        _afterChallengeWindow(batchId, b);
        if (_challenged[batchId]) unpaid = _court.unpaidLeavesAfter(batchId, _finalizedAt(b)); // else none
    }

    function _afterChallengeWindow(uint256 batchId, Stored storage b) private view {
        uint256 end = _finalizedAt(b) + _challengeWindow;
        if (block.timestamp < end) revert IDisputeCourt.ChallengeWindowOpen(batchId, 0, end);
    }

    /// @inheritdoc ISettlementCoordinator
    function claimSeatPay(uint256[] calldata batchIds, uint256[][] calldata holders) external returns (uint256 amount) {
        if (holders.length != batchIds.length) revert HoldersMismatch(0);
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            Stored storage b = _existing(batchId);
            if (b.finalizedAfter == 0) revert WrongPhase(batchId, _phase(b)); // not settled
            _afterChallengeWindow(batchId, b);
            (uint256 h, uint256 word) = _holderIndex(batchId, holders[i], msg.sender);
            if (word & (1 << h) != 0) revert NothingToClaim(batchId, msg.sender); // claimed
            uint256 pay = _unitsOf(batchId, word, h, holders[i][h]) * _seatPay(b) + _finalizerPay(b, word, h);
            if (pay == 0) revert NothingToClaim(batchId, msg.sender);
            _holders[batchId] = word | (1 << h); // claimed (the court withholds nothing after the window)
            amount += pay;
            emit SeatPayClaimed(batchId, msg.sender, pay);
        }
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
    }

    /// @inheritdoc ISettlementCoordinator
    function withholdSeatPay(uint256, uint256, uint256[] calldata) external returns (uint256) {
        _delegate(); // SettlementFinalizer.withholdSeatPay
    }

    /// @inheritdoc ISettlementCoordinator
    function seatPayHeld(uint256 batchId, uint256[] calldata holders) external view returns (uint256 units) {
        Stored storage b = _batches[batchId];
        if (b.finalizedAfter == 0) return 0;
        uint256 word = _checkHolders(batchId, holders);
        uint256 finalizer;
        for (uint256 h; h < holders.length; ++h) {
            if (word & (1 << h) != 0) continue; // claimed
            units += _unitsOf(batchId, word, h, holders[h]);
            finalizer += _finalizerPay(b, word, h);
        }
        return units * _seatPay(b) + finalizer;
    }

    /// @inheritdoc ISettlementCoordinator
    function seatPayOf(uint256 batchId, address holder, uint256[] calldata holders) external view returns (uint256) {
        Stored storage b = _batches[batchId];
        if (b.finalizedAfter == 0) return 0;
        uint256 word = _checkHolders(batchId, holders);
        for (uint256 h; h < holders.length; ++h) {
            if (address(uint160(holders[h])) != holder || word & (1 << h) != 0) continue;
            return _unitsOf(batchId, word, h, holders[h]) * _seatPay(b) + _finalizerPay(b, word, h);
        }
        return 0;
    }


    /// @dev The attesters' terms of an opening.
    function _openTerms(uint256 batchId, Stored storage b) private view returns (ITicketVerifier.OpenTerms memory t) {
        uint256 reward = b.reward;
        uint256 finalizerShare = reward * _finalizerBps / _BPS;
        t.coordinator = address(this);
        t.batchId = batchId;
        t.gateway = b.gateway;
        t.root = b.root;
        t.leafCount = b.leafCount;
        t.finalMask = _finalMaskOf(b);
        t.auditMask = _auditMaskOf(b);
        t.finalPot = reward - finalizerShare - reward * _committeeBps / _BPS;
        t.unauditedPot = reward - finalizerShare;
        t.speed = reward * _speedBps / _BPS;
    }

    /// @inheritdoc ISettlementCoordinator
    function close(uint256 batchId) external {
        Stored storage b = _at(batchId, Phase.Finalized);
        if (b.resultsCommitment != 0 && block.timestamp < _finalizedAt(b) + _openWindow) {
            revert WrongPhase(batchId, Phase.Finalized); // attesters' results may still be opened
        }
        uint256 returned = _potOf(b, _finalMaskOf(b));
        b.state = BatchState.Closed;
        emit BatchClosed(batchId, returned);
        _refund(batchId, b, returned);
    }

    /// @inheritdoc ISettlementCoordinator
    function expire(uint256 batchId) external {
        Stored storage b = _at(batchId, Phase.AwaitingSeed);
        uint256 seatDeadline = uint256(b.postedAt) + _seatWindow;
        if (block.timestamp <= seatDeadline && _stakes.currentEpoch() <= uint256(b.epoch) + 1) {
            revert NotExpired(batchId, seatDeadline);
        }
        uint256 amount = uint256(b.reward) * b.leafCount;
        b.state = BatchState.Expired;
        emit BatchExpired(batchId, amount);
        _refund(batchId, b, amount);
    }

    /// @inheritdoc ISettlementCoordinator
    function withdraw() external {
        uint256 stored = _pending[msg.sender];
        if (stored <= 1) revert NothingToWithdraw(msg.sender);
        uint256 amount = stored - 1;
        _pending[msg.sender] = 1; // never back to zero: see _pending
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ISettlementCoordinator
    function getBatch(uint256 batchId) external view returns (Batch memory v) {
        Stored storage b = _existing(batchId);
        v.gateway = b.gateway;
        v.postedAt = b.postedAt;
        v.epoch = b.epoch;
        v.leafCount = b.leafCount;
        v.state = b.state;
        v.projectId = b.projectId;
        v.root = b.root;
        v.resultsCommitment = b.resultsCommitment;
        v.reward = b.reward;
        v.seedBlock = b.seedBlock;
        v.commitDeadline = b.commitDeadline;
        v.revealDeadline = b.commitDeadline == 0 ? 0 : uint40(b.commitDeadline + _revealWindow);
        if (b.projectId == bytes32(0)) v.payer = b.gateway;
        v.holderCount = b.holderCount;
        v.committedBits = b.committedBits;
        v.revealedBits = b.revealedBits;
        v.finalizedAt = b.finalizedAfter == 0 ? 0 : uint40(_finalizedAt(b));
        v.fastMask = b.fastMask;
        v.auditMask = b.holderCount == 0 ? 0 : _auditMaskOf(b);
        v.refundMask = _refundMaskOf(b);
        v.disputedMask = b.disputedMask;
        if (v.state != BatchState.Finalized && v.state != BatchState.Closed) return v; // summaries are not final yet
        v.finalMask = _finalMaskOf(b);
        uint256 pot = _potOf(b, v.finalMask);
        if (pot != 0) v.finalVectorHash = _finalVectorHashOf(batchId, b);
        if (v.state == BatchState.Finalized) v.attesterPot = uint96(pot);
    }

    /// @inheritdoc ISettlementCoordinator
    function phaseOf(uint256 batchId) external view returns (Phase) {
        return _phase(_batches[batchId]);
    }

    /// @inheritdoc ISettlementCoordinator
    function leafState(uint256 batchId, uint256 index) external view returns (LeafState) {
        Stored storage b = _batches[batchId];
        if (b.state == BatchState.None || index >= b.leafCount) return LeafState.None;
        if (b.state == BatchState.Posted || b.state == BatchState.Seated) return LeafState.Pending;
        if (b.state == BatchState.Expired) return LeafState.Refunded;
        if ((_finalMaskOf(b) >> index) & 1 == 1) return LeafState.Final;
        if ((b.disputedMask >> index) & 1 == 1) return LeafState.Disputed;
        if ((_refundMaskOf(b) >> index) & 1 == 1) return LeafState.Refunded;
        return LeafState.Unaudited;
    }

    /// @inheritdoc ISettlementCoordinator
    function checkHolders(uint256 batchId, uint256[] calldata holders) external view {
        _checkHolders(batchId, holders);
    }

    /// @inheritdoc ISettlementCoordinator
    function voteOf(uint256 batchId, uint256 index) external view returns (bytes32) {
        Stored storage b = _batches[batchId];
        if (index >= b.holderCount) return bytes32(0);
        return (b.revealedBits >> index) & 1 == 1 ? _voteOf(batchId, b, index) : _votes[batchId][index];
    }

    /// @inheritdoc ISettlementCoordinator
    function batchCount() external view returns (uint256) {
        return _batchCount;
    }

    /// @inheritdoc ISettlementCoordinator
    function pendingWithdrawal(address account) external view returns (uint256) {
        uint256 stored = _pending[account];
        return stored == 0 ? 0 : stored - 1;
    }

    /// @inheritdoc ISettlementCoordinator
    function burned() external view returns (uint256) {
        return _burned;
    }

    /// @inheritdoc ISettlementCoordinator
    function requestIdOf(address gateway, uint256 seq) external view returns (bytes32) {
        return _requestId(gateway, seq);
    }

    /// @inheritdoc ISettlementCoordinator
    function isSeqPosted(address gateway, uint256 seq) external view returns (bool) {
        if (seq >= _SINGLE_SEQ) {
            // a contract's single request: seq - 2^63 is its batch's id, a one-leaf batch with the caller as gateway
            Stored storage b = _batches[seq - _SINGLE_SEQ];
            return b.state != BatchState.None && b.gateway == gateway && b.projectId == bytes32(0);
        }
        return (_seqBits[gateway][seq >> 8] >> (seq & 255)) & 1 == 1;
    }

    /// @inheritdoc ISettlementCoordinator
    function commitmentFor(uint256 batchId, address worker, bytes32 vectorHash, bytes32 salt)
        external
        view
        returns (bytes32)
    {
        return _commitment(batchId, worker, vectorHash, salt);
    }

    /// @inheritdoc ISettlementCoordinator
    function court() external view returns (address) {
        return address(_court);
    }

    /// @inheritdoc ISettlementCoordinator
    function contracts() external view returns (address, address, address, address, address) {
        return (address(_functions), address(_stakes), address(_gateways), address(_beacon), address(_tickets));
    }

    /// @inheritdoc IProtocolParams
    function params() external view returns (Params memory) {
        return _params;
    }

    // ------------------------------------------------------------------ internals: posting

    /// @dev Checks the head and every posted leaf, marks its seq, builds the root, draws the rewards and stores
    ///      the batch.
    function _postMemory(PostArgs memory a, ITicketVerifier.BatchHead memory h, bytes memory leaves, bool fullAudit)
        private
        returns (uint256 batchId)
    {
        uint256 n = leaves.length / _POSTED_LEAF_BYTES;
        if (n == 0 || n > _maxLeaves || leaves.length % _POSTED_LEAF_BYTES != 0) {
            revert InvalidLeaves(leaves.length);
        }
        if (a.reward < _minReward) revert RewardTooLow(a.reward, _minReward);
        uint256 epoch = _stakes.currentEpoch();
        if (_stakes.epochInfo(epoch).totalStake == 0) revert NoActiveStake(epoch);
        {
            (bytes32 projectId, uint32 versions) = _functions.projectOf(h.functionId);
            if (a.projectId != bytes32(0) && projectId != a.projectId) {
                revert FunctionNotInProject(h.functionId, a.projectId);
            }
            if (h.version == 0 || h.version > versions) revert UnknownVersion(h.functionId, h.version);
        }

        ITicketVerifier.PostScan memory sc = _tickets.scanPosted(
            h, leaves, ITicketVerifier.PostTerms(a.gateway, _maxTicketLife, a.single, fullAudit)
        );
        _markSeqs(a.gateway, sc.seqRuns);

        uint256 total = uint256(a.reward) * n;
        if (a.projectId == bytes32(0)) {
            if (msg.value != total) revert WrongValue(msg.value, total);
        } else {
            _gateways.draw(a.projectId, a.gateway, total, sc.minIssuedAt, sc.maxIssuedAt, a.requireBond);
        }

        batchId = _store(a, n, epoch, sc.root, sc.fastMask);
    }

    function _store(PostArgs memory a, uint256 n, uint256 epoch, bytes32 root, uint256 fastMask)
        private
        returns (uint256 batchId)
    {
        batchId = ++_batchCount;
        Stored storage b = _batches[batchId];
        b.gateway = a.gateway;
        b.postedAt = uint40(block.timestamp);
        b.epoch = uint32(epoch);
        b.leafCount = uint16(n);
        b.state = BatchState.Posted;
        if (a.projectId != bytes32(0)) b.projectId = a.projectId;
        b.root = root;
        if (a.resultsCommitment != bytes32(0)) b.resultsCommitment = a.resultsCommitment;
        b.reward = a.reward;
        uint256 seedBlock = block.number + _beaconDelay;
        b.seedBlock = uint40(seedBlock);
        if (fastMask != 0) b.fastMask = fastMask;
        emit BatchPosted(
            batchId, a.gateway, a.projectId, root, a.resultsCommitment, a.engineProfile, a.reward, n, seedBlock
        );
    }

    /// @dev Sets the posted seqs' bits (TicketVerifier.scanPosted's pairs of word and bits) in the gateway's bitmap;
    ///      a seq already set reverts.
    function _markSeqs(address gateway, uint256[] memory runs) private {
        mapping(uint256 word => uint256 bits) storage bitmap = _seqBits[gateway];
        for (uint256 r; r < runs.length; r += 2) {
            uint256 word = runs[r];
            uint256 old = bitmap[word];
            uint256 twice = old & runs[r + 1];
            if (twice != 0) {
                uint256 bit;
                while ((twice >> bit) & 1 == 0) ++bit;
                revert SeqAlreadyPosted(gateway, (word << 8) | bit);
            }
            bitmap[word] = old | runs[r + 1];
        }
    }

    // ------------------------------------------------------------------ internals: misc

    /// @dev Expired: every leaf; settled: every audited leaf that is not Final; otherwise none.
    function _refundMaskOf(Stored storage b) private view returns (uint256) {
        BatchState s = b.state;
        if (s == BatchState.Expired) return _fullMask(b.leafCount);
        if (s != BatchState.Finalized && s != BatchState.Closed) return 0;
        return _auditMaskOf(b) & b.nonFinalMask & ~b.disputedMask;
    }

    /// @dev What attesters are owed once the batch settled with `finalMask`: a final leaf's remainder and an
    ///      unaudited leaf's (zero for a batch without attesters: every leaf is audited, seats take the rest).
    function _potOf(Stored storage b, uint256 finalMask) private view returns (uint256) {
        uint256 reward = b.reward;
        uint256 finalizerShare = reward * _finalizerBps / _BPS;
        uint256 unaudited = b.leafCount - _popcount(_auditMaskOf(b));
        return _popcount(finalMask) * (reward - finalizerShare - _committeeShare(b, reward, finalizerShare))
            + unaudited * (reward - finalizerShare);
    }

    /// @dev The Final leaves of a batch once it settled (Finalized or Closed; meaningless before).
    function _finalMaskOf(Stored storage b) private view returns (uint256) {
        return _auditMaskOf(b) & ~b.nonFinalMask;
    }

    /// @dev The final vector's hash: stored when it differs from the first full reveal's vector hash, else that
    ///      (a batch settled by finalize with attesters owed always stores it).
    function _finalVectorHashOf(uint256 batchId, Stored storage b) private view returns (bytes32 h) {
        h = b.finalVectorHash;
        if (h == bytes32(0)) h = _votes[batchId][b.firstFull - 1];
    }

    /// @dev Number of set bits (SWAR).
    function _popcount(uint256 x) private pure returns (uint256 c) {
        unchecked {
            x -= (x >> 1) & 0x5555555555555555555555555555555555555555555555555555555555555555;
            x = (x & 0x3333333333333333333333333333333333333333333333333333333333333333)
                + ((x >> 2) & 0x3333333333333333333333333333333333333333333333333333333333333333);
            x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f;
            x = (x & 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)
                + ((x >> 8) & 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff);
            c = (x * 0x0001000100010001000100010001000100010001000100010001000100010001) >> 240;
        }
    }

    function _finalizedAt(Stored storage b) private view returns (uint256) {
        return uint256(b.postedAt) + b.finalizedAfter - 1;
    }

    /// @dev `worker`'s index in the batch's holder list `holders` (checked against its hash) and the _holders word.
    function _holderIndex(uint256 batchId, uint256[] calldata holders, address worker)
        private
        view
        returns (uint256 h, uint256 word)
    {
        word = _checkHolders(batchId, holders);
        uint256 count = holders.length;
        while (h < count && address(uint160(holders[h])) != worker) ++h;
        if (h == count) revert NotSeated(batchId, worker);
    }

    function _commitment(uint256 batchId, address worker, bytes32 vectorHash, bytes32 salt)
        private
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(this), batchId, worker, vectorHash, salt));
    }

    function _vectorHash(bytes32[] calldata vector) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(vector));
    }

    function _requestId(address gateway, uint256 seq) private view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), gateway, seq));
    }
}
