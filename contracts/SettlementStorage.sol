// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDisputeCourt} from "./interfaces/IDisputeCourt.sol";
import {IFunctionRegistry} from "./interfaces/IFunctionRegistry.sol";
import {IGatewayRegistry} from "./interfaces/IGatewayRegistry.sol";
import {IProtocolParams} from "./interfaces/IProtocolParams.sol";
import {ISettlementCoordinator} from "./interfaces/ISettlementCoordinator.sol";
import {IStakeRegistry} from "./interfaces/IStakeRegistry.sol";
import {ITicketVerifier} from "./interfaces/ITicketVerifier.sol";
import {IBeacon} from "./interfaces/IBeacon.sol";

/// @title SettlementStorage
/// @notice What SettlementCoordinator and SettlementFinalizer share: the coordinator's state (one layout: the
///         finalizer runs on it by delegatecall) and the helpers both use (phases, credits, refunds, masks).
abstract contract SettlementStorage {
    uint256 internal constant _POSTED_LEAF_BYTES = 51; // peerhost/wire/batch.py

    uint256 internal constant _BPS = 10_000;
    uint64 internal constant _SINGLE_SEQ = uint64(1) << 63; // contract requests use the upper half of the seq space
    uint8 internal constant _REASON_NO_SHOW = 1;
    // The low 64 bits of a batch's _holders word.
    uint256 internal constant _CLAIMED_BITS = 0xffff; // holder h claimed its pay (bit h)
    uint256 internal constant _AGREED = 1 << 16; // settled by _settleAgreed: holder h is owed seats(h) x Final leaves
    uint256 internal constant _UNITS_STORED = 1 << 17; // the units are in _seatUnits
    uint256 internal constant _SETTLER_SHIFT = 18; // 5 bits: 1 + the settling holder's index (0: none)
    uint256 internal constant _FINALS_SHIFT = 24; // 16 bits: Final leaves (_AGREED)
    uint256 internal constant _PAID_SHIFT = 40; // 16 bits: leaves the settler is paid a finalizer's share for
    uint8 internal constant _CREDIT_SEAT = 0;
    uint8 internal constant _CREDIT_FINALIZER = 1;
    uint8 internal constant _CREDIT_ATTESTER = 2;
    uint8 internal constant _CREDIT_HONEST = 3;
    uint8 internal constant _CREDIT_REFUND = 4;
    uint8 internal constant _CREDIT_ORPHAN = 5;

    IProtocolParams.Params internal _params; // as deployed, for params(); the code reads the immutables below
    // The parameters the coordinator's transactions read, as immutables: no storage read per transaction.
    uint8 internal immutable _seats;
    uint8 internal immutable _quorum;
    uint8 internal immutable _beaconDelay;
    uint16 internal immutable _maxLeaves;
    uint16 internal immutable _auditBps;
    uint16 internal immutable _committeeBps;
    uint16 internal immutable _speedBps;
    uint16 internal immutable _finalizerBps;
    uint16 internal immutable _honestSlashBps;
    uint16 internal immutable _projectSlashBps;
    uint32 internal immutable _seatWindow;
    uint32 internal immutable _commitWindow;
    uint32 internal immutable _revealWindow;
    uint32 internal immutable _openWindow;
    uint32 internal immutable _maxTicketLife;
    uint96 internal immutable _seatSlash;
    uint96 internal immutable _minReward;
    uint96 internal immutable _orphanRefund;
    uint32 internal immutable _orphanDelay;
    IFunctionRegistry internal immutable _functions;
    IStakeRegistry internal immutable _stakes;
    IGatewayRegistry internal immutable _gateways;
    IBeacon internal immutable _beacon;
    ITicketVerifier internal immutable _tickets;
    IDisputeCourt internal _court;
    uint32 internal _challengeWindow; // the court's (fixed when it was deployed), read once by setCourt

    uint256 internal _batchCount;
    uint256 internal _burned;
    mapping(uint256 batchId => Stored) internal _batches;
    /// @dev A batch's holders as one word, written once at seating: from bit 64 the top 192 bits of the hash of
    ///      its holder list (_holdersHash: one word per distinct holder, its address in the low 160 bits and its seat
    ///      count in the next 8, in first-seat order), which every holder's call passes back in calldata
    ///      (_checkHolders); below bit 64 what settlement and the claims record (_CLAIMED_BITS ... _PAID_SHIFT).
    mapping(uint256 batchId => uint256) internal _holders;
    /// @dev The seats' committee pay, when it is not every holder's seats x the Final leaves (a batch settled by
    ///      finalize, or a challenge withheld some): holder h's units (seats x Final leaves it agreed on) in bits
    ///      [16h, 16h + 16), flagged by _UNITS_STORED in _holders.
    mapping(uint256 batchId => uint256) internal _seatUnits;
    /// @dev A holder's commitment, then its revealed vector hash; a revealed holder that agrees with the first full
    ///      reveal leaves zero (clearing the word refunds part of its fresh write at commit): read it with _voteOf.
    ///      Keyed by the holder's index in the batch's holder list.
    mapping(uint256 batchId => mapping(uint256 holder => bytes32 vote)) internal _votes;
    mapping(address gateway => mapping(uint256 word => uint256 bits)) internal _seqBits;
    /// @dev Batches with a challenged leaf (the court withheld seat pay): only these ask the court which leaves.
    mapping(uint256 batchId => bool challenged) internal _challenged;
    /// @dev 1 + what `account` may withdraw, once it was ever credited (0: never). A withdrawal leaves 1, so a
    ///      paid account's next credit updates a live word (5 k gas) instead of writing a fresh one (22.1 k).
    mapping(address account => uint256 onePlusAmount) internal _pending;

    /// @dev A batch as stored (ISettlementCoordinator.Batch adds the derived fields).
    struct Stored {
        address gateway;
        uint40 postedAt;
        uint32 epoch;
        uint16 leafCount;
        ISettlementCoordinator.BatchState state;
        bytes32 projectId;
        bytes32 root;
        bytes32 resultsCommitment;
        uint96 reward;
        uint40 seedBlock;
        uint40 commitDeadline;
        uint8 holderCount;
        uint8 firstFull; // 1 + index of the first holder that revealed its vector in full (0: none yet)
        uint16 committedBits;
        uint16 revealedBits;
        uint32 finalizedAfter; // seconds from postedAt to finalization
        uint256 fastMask;
        uint256 sampledMask; // fast leaves the seed sampled for audit
        uint256 nonFinalMask; // audited leaves that are not Final (the first full reveal's abstentions, then the
        // settlement's): zero, and never written, when every audited leaf is Final (_finalMaskOf)
        uint256 disputedMask;
        bytes32 finalVectorHash; // the final vector's hash (every leaf not Final zeroed) when it is not the first full
        // reveal's vector hash (_finalVectorHashOf)
    }

    constructor(
        IProtocolParams.Params memory p,
        IFunctionRegistry functions_,
        IStakeRegistry stakes_,
        IGatewayRegistry gateways_,
        IBeacon beacon_,
        ITicketVerifier tickets_
    ) {
        _functions = functions_;
        _stakes = stakes_;
        _gateways = gateways_;
        _beacon = beacon_;
        _tickets = tickets_;
        _seats = p.seats;
        _quorum = p.quorum;
        _beaconDelay = p.beaconDelay;
        _maxLeaves = p.maxLeaves;
        _auditBps = p.auditBps;
        _committeeBps = p.committeeBps;
        _speedBps = p.speedBps;
        _finalizerBps = p.finalizerBps;
        _honestSlashBps = p.honestSlashBps;
        _projectSlashBps = p.projectSlashBps;
        _seatWindow = p.seatWindow;
        _commitWindow = p.commitWindow;
        _revealWindow = p.revealWindow;
        _openWindow = p.openWindow;
        _maxTicketLife = p.maxTicketLife;
        _seatSlash = p.seatSlash;
        _minReward = p.minReward;
        _orphanRefund = p.orphanRefund;
        _orphanDelay = p.orphanDelay;
    }

    /// @dev Sends `amount` back to the batch's payer: the project reserve, or the poster's credits.
    function _refund(uint256 batchId, Stored storage b, uint256 amount) internal {
        if (amount == 0) return;
        if (b.projectId == bytes32(0)) return _credit(batchId, b.gateway, amount, _CREDIT_REFUND); // the requester
        _gateways.refund{value: amount}(b.projectId);
    }

    function _credit(uint256 batchId, address account, uint256 amount, uint8 reason) internal {
        if (amount == 0) return;
        uint256 stored = _pending[account];
        _pending[account] = (stored == 0 ? 1 : stored) + amount; // 1 + amount: see _pending
        emit ISettlementCoordinator.Credited(batchId, account, amount, reason);
    }

    /// @dev The vector hash a revealed holder voted (zero in _votes: the first full reveal's).
    function _voteOf(uint256 batchId, Stored storage b, uint256 h) internal view returns (bytes32 v) {
        v = _votes[batchId][h];
        if (v == bytes32(0)) v = _votes[batchId][b.firstFull - 1];
    }

    /// @dev The hash a holder list is kept as (its top 192 bits, from bit 64 of _holders).
    function _holdersHash(uint256[] memory holders) internal pure returns (uint256) {
        return uint256(keccak256(abi.encodePacked(holders))) >> 64 << 64;
    }

    /// @dev The batch's _holders word, once `holders` is its seated holder list (else HoldersMismatch).
    function _checkHolders(uint256 batchId, uint256[] calldata holders) internal view returns (uint256 word) {
        word = _holders[batchId];
        if (word >> 64 == 0 || word >> 64 != uint256(keccak256(abi.encodePacked(holders))) >> 64) {
            revert ISettlementCoordinator.HoldersMismatch(batchId);
        }
    }

    function _phase(Stored storage b) internal view returns (ISettlementCoordinator.Phase) {
        ISettlementCoordinator.BatchState s = b.state;
        if (s == ISettlementCoordinator.BatchState.None) return ISettlementCoordinator.Phase.None;
        if (s == ISettlementCoordinator.BatchState.Posted) return ISettlementCoordinator.Phase.AwaitingSeed;
        if (s == ISettlementCoordinator.BatchState.Finalized) return ISettlementCoordinator.Phase.Finalized;
        if (s == ISettlementCoordinator.BatchState.Closed) return ISettlementCoordinator.Phase.Closed;
        if (s == ISettlementCoordinator.BatchState.Expired) return ISettlementCoordinator.Phase.Expired;
        uint256 all = (uint256(1) << b.holderCount) - 1;
        uint256 committed = b.committedBits;
        if (committed != all && block.timestamp < b.commitDeadline) return ISettlementCoordinator.Phase.Commit;
        if (
            committed == 0 || b.revealedBits == committed
                || block.timestamp >= uint256(b.commitDeadline) + _revealWindow
        ) return ISettlementCoordinator.Phase.Settle;
        return ISettlementCoordinator.Phase.Reveal;
    }

    /// @dev The audited leaves: every leaf but the fast ones the seed did not sample (sampledMask, never written
    ///      without fast leaves, is not read then: a cold word less for every batch without fast leaves).
    function _auditMaskOf(Stored storage b) internal view returns (uint256) {
        uint256 fast = b.fastMask;
        if (fast == 0) return _fullMask(b.leafCount);
        return (_fullMask(b.leafCount) & ~fast) | b.sampledMask;
    }

    /// @dev A final leaf's committee share: what is left after the finalizer's when the batch has no attesters.
    function _committeeShare(Stored storage b, uint256 reward, uint256 finalizerShare) internal view returns (uint256) {
        return b.resultsCommitment == bytes32(0) ? reward - finalizerShare : reward * _committeeBps / _BPS;
    }

    /// @dev The finalizer's share holder h is owed (see _holders): when its reveal settled the batch, a finalizer's
    ///      share per paid leaf and the committee dust (what a K-way split leaves) per Final leaf.
    function _finalizerPay(Stored storage b, uint256 word, uint256 h) internal view returns (uint256) {
        if ((word >> _SETTLER_SHIFT) & 0x1f != h + 1) return 0; // not the settling holder
        uint256 reward = b.reward;
        uint256 finalizerShare = reward * _finalizerBps / _BPS;
        uint256 committeeShare = _committeeShare(b, reward, finalizerShare);
        uint256 dust = committeeShare - committeeShare / _seats * _seats;
        return uint16(word >> _PAID_SHIFT) * finalizerShare + uint16(word >> _FINALS_SHIFT) * dust;
    }

    /// @dev A Final leaf's committee pay per agreeing seat: a K-th of its committee share.
    function _seatPay(Stored storage b) internal view returns (uint256) {
        uint256 reward = b.reward;
        return _committeeShare(b, reward, reward * _finalizerBps / _BPS) / _seats;
    }
    /// @dev Holder h's committee pay units: seats x the Final leaves it agreed on.
    function _unitsOf(uint256 batchId, uint256 word, uint256 h, uint256 packed) internal view returns (uint256) {
        if (word & _UNITS_STORED != 0) return uint16(_seatUnits[batchId] >> (16 * h));
        if (word & _AGREED != 0) return uint16(word >> _FINALS_SHIFT) * uint8(packed >> 160);
        return 0;
    }

    function _fullMask(uint256 n) internal pure returns (uint256) {
        return n == 256 ? type(uint256).max : (uint256(1) << n) - 1;
    }

    /// @dev The batch, which must exist and be in phase `want`.
    function _at(uint256 batchId, ISettlementCoordinator.Phase want) internal view returns (Stored storage b) {
        b = _existing(batchId);
        ISettlementCoordinator.Phase p = _phase(b);
        if (p != want) revert ISettlementCoordinator.WrongPhase(batchId, p);
    }

    function _existing(uint256 batchId) internal view returns (Stored storage b) {
        b = _batches[batchId];
        if (b.state == ISettlementCoordinator.BatchState.None) revert ISettlementCoordinator.UnknownBatch(batchId);
    }
}
