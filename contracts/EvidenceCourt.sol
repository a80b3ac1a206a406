// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICourtParams} from "./interfaces/ICourtParams.sol";
import {IDisputeCourt} from "./interfaces/IDisputeCourt.sol";
import {IEvidenceCourt} from "./interfaces/IEvidenceCourt.sol";
import {IGatewayRegistry} from "./interfaces/IGatewayRegistry.sol";
import {ISettlementCoordinator} from "./interfaces/ISettlementCoordinator.sol";
import {IStakeRegistry} from "./interfaces/IStakeRegistry.sol";
import {ITicketVerifier} from "./interfaces/ITicketVerifier.sol";
import {CourtParamsLib} from "./libraries/CourtParamsLib.sol";

/// @title EvidenceCourt
/// @notice Slashable attestations, gateway equivocation and data-availability challenges.
contract EvidenceCourt is IEvidenceCourt {
    uint256 private constant _BPS = 10_000;
    uint256 private constant _LEAF_BYTES = 103;
    uint256 private constant _SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    uint8 private constant _DATA_OPEN = 1;
    uint8 private constant _DATA_PUBLISHED = 2;
    uint8 private constant _DATA_VOIDED = 3;
    uint8 private constant _BATCH_SEATED = 2; // ISettlementCoordinator.BatchState
    uint8 private constant _CASE_VOTING = 2; // IDisputeCourt.CaseState
    uint8 private constant _TIER_PANEL = 2;
    uint8 private constant _CREDIT_PRESENTER = 0;
    uint8 private constant _CREDIT_DATA_BOND = 1;
    uint8 private constant _CREDIT_BOND_BACK = 2;
    uint8 private constant _CREDIT_REFUND = 3;

    CourtParams private _params;
    ISettlementCoordinator private immutable _settlement;
    IDisputeCourt private immutable _court;
    IStakeRegistry private immutable _stakes;
    IGatewayRegistry private immutable _gateways;
    ITicketVerifier private immutable _tickets;

    uint256 private _burned;
    mapping(uint256 batchId => mapping(address worker => bool)) private _slashedIn;
    mapping(bytes32 ticketHash => mapping(address worker => bool)) private _slashedFor;
    mapping(address gateway => mapping(uint256 seq => bool)) private _equivocated;
    mapping(uint256 caseKey => DataChallenge) private _data;
    mapping(address account => uint256 amount) private _pending;

    constructor(CourtParams memory params_, ISettlementCoordinator settlement_, IDisputeCourt court_) {
        CourtParamsLib.validate(params_);
        _params = params_;
        _settlement = settlement_;
        _court = court_;
        (, address stakes, address gateways,, address tickets) = settlement_.contracts();
        _stakes = IStakeRegistry(stakes);
        _gateways = IGatewayRegistry(gateways);
        _tickets = ITicketVerifier(tickets);
    }

    /// @dev Slashed stake and charged bonds arrive from the registries only.
    receive() external payable {
        if (msg.sender != address(_stakes) && msg.sender != address(_gateways)) revert UnexpectedPayment(msg.sender);
    }

    /// @inheritdoc IEvidenceCourt
    function slashAttestation(AttestationEvidence calldata e) external {
        ISettlementCoordinator.Batch memory b = _settlement.getBatch(e.batchId);
        _checkTicket(b, e);
        bytes32 finalValue = _finalValue(b, e.batchId, e.index, e.finalVector);
        if (e.resultHash == bytes32(0) || e.resultHash == finalValue) revert NotContradicting(e.resultHash, finalValue);
        bytes32 th = _tickets.ticketHash(e.ticket);
        address worker = _recover(_tickets.attestationDigest(address(_settlement), th, e.resultHash), e.signature);
        if (_slashedIn[e.batchId][worker]) revert AlreadySlashed(e.batchId, worker);
        _slashedIn[e.batchId][worker] = true;
        _slashedFor[th][worker] = true;
        uint256 slashed = _slashStake(worker);
        emit AttestationSlashed(e.batchId, e.index, worker, th, slashed, msg.sender);
        uint256 toPresenter = slashed * _params.presenterBps / _BPS;
        uint256 rest = slashed - toPresenter;
        uint256 toProject = e.ticket.reward < rest ? e.ticket.reward : rest;
        _burned += rest - toProject;
        emit EvidenceSplit(toPresenter, toProject, rest - toProject);
        _credit(msg.sender, toPresenter, _CREDIT_PRESENTER);
        _refund(b, toProject);
    }

    /// @dev The ticket is leaf `index` of the batch, of its gateway, neither equivocated nor voided.
    function _checkTicket(ISettlementCoordinator.Batch memory b, AttestationEvidence calldata e) private view {
        ITicketVerifier.Ticket calldata t = e.ticket;
        if (t.gateway != b.gateway || !_tickets.verifyLeaf(b.root, b.leafCount, e.index, _leafHash(t), e.proof)) {
            revert NotInBatch(e.batchId, e.index);
        }
        if (_equivocated[t.gateway][t.seq]) revert TicketEquivocated(t.gateway, t.seq);
        if (_data[_key(e.batchId, e.index)].state == _DATA_VOIDED) revert TicketVoided(e.batchId, e.index);
    }

    /// @dev Slashes attestationSlashBps of the worker's stake (bonded and unbonding).
    function _slashStake(address worker) private returns (uint256) {
        IStakeRegistry.Staker memory s = _stakes.getStaker(worker);
        uint256 amount = (uint256(s.stake) + s.unbonding) * _params.attestationSlashBps / _BPS;
        if (amount == 0) revert NothingToSlash(worker);
        return _stakes.slash(worker, amount);
    }

    /// @inheritdoc IEvidenceCourt
    function proveEquivocation(
        ITicketVerifier.Ticket calldata a,
        bytes calldata signatureA,
        ITicketVerifier.Ticket calldata b,
        bytes calldata signatureB
    ) external {
        bytes32 hashA = _tickets.ticketHash(a);
        bytes32 hashB = _tickets.ticketHash(b);
        if (a.gateway != b.gateway || a.seq != b.seq || hashA == hashB) revert NotEquivocation();
        if (_tickets.ticketSigner(address(_settlement), a, signatureA) != a.gateway) revert NotEquivocation();
        if (_tickets.ticketSigner(address(_settlement), b, signatureB) != a.gateway) revert NotEquivocation();
        if (_equivocated[a.gateway][a.seq]) revert AlreadyProven(a.gateway, a.seq);
        _equivocated[a.gateway][a.seq] = true;
        uint256 charged = _gateways.chargeBond(a.gateway, type(uint256).max);
        emit EquivocationProven(a.gateway, a.seq, hashA, hashB, charged);
        uint256 toPresenter = charged * _params.presenterBps / _BPS;
        _burned += charged - toPresenter;
        emit EvidenceSplit(toPresenter, 0, charged - toPresenter);
        _credit(msg.sender, toPresenter, _CREDIT_PRESENTER);
    }

    /// @inheritdoc IEvidenceCourt
    function openDataChallenge(
        uint256 batchId,
        uint256 index,
        bytes calldata leaf,
        bytes32[] calldata proof,
        uint256[] calldata holders
    ) external payable {
        if (msg.value != _params.dataBond) revert WrongBond(msg.value, _params.dataBond);
        ISettlementCoordinator.Batch memory b = _settlement.getBatch(batchId);
        if (leaf.length != _LEAF_BYTES || !_tickets.verifyLeaf(b.root, b.leafCount, index, keccak256(leaf), proof)) {
            revert NotInBatch(batchId, index);
        }
        if (!_mayChallengeData(b, batchId, index, holders)) revert CannotChallengeData(batchId, index, msg.sender);
        DataChallenge storage d = _data[_key(batchId, index)];
        if (d.state != 0) revert WrongDataState(batchId, index, d.state);
        bytes32 inputHash = bytes32(leaf[44:76]);
        uint256 deadline = block.timestamp + _params.dataWindow;
        _data[_key(batchId, index)] = DataChallenge(msg.sender, uint40(deadline), _DATA_OPEN, inputHash);
        emit DataChallenged(batchId, index, msg.sender, inputHash, deadline);
    }

    /// @inheritdoc IEvidenceCourt
    function publishInput(uint256 batchId, uint256 index, bytes calldata input) external {
        DataChallenge storage d = _data[_key(batchId, index)];
        if (d.state != _DATA_OPEN || block.timestamp >= d.deadline) revert WrongDataState(batchId, index, d.state);
        bytes32 got = keccak256(input);
        if (got != d.inputHash) revert InputMismatch(d.inputHash, got);
        d.state = _DATA_PUBLISHED;
        emit InputPublished(batchId, index, input);
        _credit(_settlement.getBatch(batchId).gateway, _params.dataBond, _CREDIT_DATA_BOND);
    }

    /// @inheritdoc IEvidenceCourt
    function voidTicket(uint256 batchId, uint256 index) external {
        DataChallenge storage d = _data[_key(batchId, index)];
        if (d.state != _DATA_OPEN || block.timestamp < d.deadline) revert WrongDataState(batchId, index, d.state);
        d.state = _DATA_VOIDED;
        ISettlementCoordinator.Batch memory b = _settlement.getBatch(batchId);
        uint256 charged = _gateways.chargeBond(b.gateway, uint256(b.reward) + _params.dataSlash);
        uint256 refunded = charged < b.reward ? charged : b.reward;
        _burned += charged - refunded;
        emit TicketVoidedForData(batchId, index, charged, refunded);
        _credit(d.challenger, _params.dataBond, _CREDIT_BOND_BACK);
        _refund(b, refunded);
    }

    /// @inheritdoc IEvidenceCourt
    function withdraw() external {
        uint256 amount = _pending[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _pending[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
    }

    /// @inheritdoc IEvidenceCourt
    function dataChallengeOf(uint256 batchId, uint256 index) external view returns (DataChallenge memory) {
        return _data[_key(batchId, index)];
    }

    /// @inheritdoc IEvidenceCourt
    function isSlashedIn(uint256 batchId, address worker) external view returns (bool) {
        return _slashedIn[batchId][worker];
    }

    /// @inheritdoc IEvidenceCourt
    function isSlashedFor(bytes32 ticketHash, address worker) external view returns (bool) {
        return _slashedFor[ticketHash][worker];
    }

    /// @inheritdoc IEvidenceCourt
    function isEquivocated(address gateway, uint256 seq) external view returns (bool) {
        return _equivocated[gateway][seq];
    }

    /// @inheritdoc IEvidenceCourt
    function pendingWithdrawal(address account) external view returns (uint256) {
        return _pending[account];
    }

    /// @inheritdoc IEvidenceCourt
    function burned() external view returns (uint256) {
        return _burned;
    }

    /// @inheritdoc ICourtParams
    function courtParams() external view returns (CourtParams memory) {
        return _params;
    }

    // ------------------------------------------------------------------ internals

    /// @dev The leaf's settled final value (reverts when not settled or none).
    function _finalValue(ISettlementCoordinator.Batch memory b, uint256 batchId, uint256 index, bytes32[] calldata fv)
        private
        view
        returns (bytes32 value)
    {
        bytes32 tier1;
        if (fv.length != 0) {
            if (fv.length != b.leafCount || keccak256(abi.encodePacked(fv)) != b.finalVectorHash) {
                revert FinalVectorMismatch(batchId);
            }
            tier1 = fv[index];
        }
        bool settled;
        (settled, value) = _court.settledValue(batchId, index, tier1);
        if (!settled) revert NotSettled(batchId, index);
        if (value == bytes32(0)) revert NoFinalResult(batchId, index);
    }

    /// @dev A seat of the seated batch's committee, or of the leaf's voting tier-2 panel.
    function _mayChallengeData(
        ISettlementCoordinator.Batch memory b,
        uint256 batchId,
        uint256 index,
        uint256[] calldata holders
    ) private view returns (bool) {
        if (uint8(b.state) == _BATCH_SEATED) {
            _settlement.checkHolders(batchId, holders);
            for (uint256 h; h < holders.length; ++h) {
                if (address(uint160(holders[h])) == msg.sender) return true;
            }
            return false;
        }
        IDisputeCourt.Case memory c = _court.caseOf(batchId, index);
        if (uint8(c.state) != _CASE_VOTING || c.tier != _TIER_PANEL) return false;
        IDisputeCourt.Voter[] memory panel = _court.votersOf(batchId, index, _TIER_PANEL);
        for (uint256 i; i < panel.length; ++i) {
            if (panel[i].worker == msg.sender) return true;
        }
        return false;
    }

    function _leafHash(ITicketVerifier.Ticket calldata t) private pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                t.seq, t.functionId, t.version, t.inputHash, t.reward, t.issuedAt, t.deadline, t.mode, t.secretsVersion
            )
        );
    }

    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        if (signature.length != 65) revert BadSignature();
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > _SECP256K1_HALF_N) revert BadSignature();
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert BadSignature();
    }

    /// @dev Sends `amount` to the batch's payer: the project reserve, or the requester's credits here.
    function _refund(ISettlementCoordinator.Batch memory b, uint256 amount) private {
        if (amount == 0) return;
        if (b.projectId == bytes32(0)) return _credit(b.payer, amount, _CREDIT_REFUND);
        _gateways.refund{value: amount}(b.projectId);
    }

    function _credit(address account, uint256 amount, uint8 reason) private {
        if (amount == 0) return;
        _pending[account] += amount;
        emit Credited(account, amount, reason);
    }

    function _key(uint256 batchId, uint256 index) private pure returns (uint256) {
        return batchId << 8 | index;
    }
}
