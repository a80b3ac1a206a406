// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBeacon} from "./interfaces/IBeacon.sol";
import {IFunctionRegistry} from "./interfaces/IFunctionRegistry.sol";
import {IGatewayRegistry} from "./interfaces/IGatewayRegistry.sol";
import {IProtocolParams} from "./interfaces/IProtocolParams.sol";
import {ISettlementCoordinator} from "./interfaces/ISettlementCoordinator.sol";
import {IStakeRegistry} from "./interfaces/IStakeRegistry.sol";
import {ITicketVerifier} from "./interfaces/ITicketVerifier.sol";
import {SettlementStorage} from "./SettlementStorage.sol";

/// @title SettlementFinalizer
/// @notice SettlementCoordinator.finalize, run by the coordinator with delegatecall on its own state (deployed by
///         its constructor with the same registries): a batch whose holders did not all reveal one vector is tallied
///         leaf by leaf, seats and the finalizer credited, no-shows slashed and disputed leaves sent to the court.
///         Kept apart so the coordinator stays under EIP-170. Called directly, it sees no batch (UnknownBatch).
contract SettlementFinalizer is SettlementStorage {
    constructor(
        IProtocolParams.Params memory params_,
        IFunctionRegistry functions_,
        IStakeRegistry stakes_,
        IGatewayRegistry gateways_,
        IBeacon beacon_,
        ITicketVerifier tickets_
    ) SettlementStorage(params_, functions_, stakes_, gateways_, beacon_, tickets_) {}

    /// @notice ISettlementCoordinator.finalize (same selector and arguments).
    function finalize(uint256 batchId, bytes32[][] calldata vectors, uint256[] calldata holders) external {
        Stored storage b = _at(batchId, ISettlementCoordinator.Phase.Settle);
        _checkHolders(batchId, holders);
        (uint256[] memory list, bytes32[] memory votes) = _ballots(batchId, b, holders);
        _settle(batchId, b, vectors, list, votes);
    }

    /// @notice ISettlementCoordinator.withholdSeatPay (same selector and arguments).
    function withholdSeatPay(uint256 batchId, uint256 seats, uint256[] calldata holders)
        external
        returns (uint256 amount)
    {
        if (msg.sender != address(_court)) revert ISettlementCoordinator.NotCourt(msg.sender);
        Stored storage b = _existing(batchId);
        if (b.finalizedAfter == 0) revert ISettlementCoordinator.WrongPhase(batchId, _phase(b)); // the court checks the window
        uint256 word = _checkHolders(batchId, holders);
        _challenged[batchId] = true; // _unpaidLeaves asks the court which leaves
        uint256 units;
        for (uint256 h; h < holders.length; ++h) {
            uint256 n = (seats >> (16 * h)) & 0xffff;
            uint256 held = _unitsOf(batchId, word, h, holders[h]) - n; // withholding more than is held reverts
            units |= held << (16 * h);
            amount += n;
        }
        _seatUnits[batchId] = units;
        if (word & _UNITS_STORED == 0) _holders[batchId] = word | _UNITS_STORED;
        amount *= _seatPay(b);
        _court.holdDisputed{value: amount}(batchId);
    }

    /// @dev Tallies every audited leaf over the revealed vectors (TicketVerifier.tally), credits seats, the
    ///      finalizer and refunds, slashes no-shows and splits what was slashed. `vectors` must hold the vector of
    ///      every revealed holder; `holders` is the batch's holder list (checked).
    function _settle(
        uint256 batchId,
        Stored storage b,
        bytes32[][] calldata vectors,
        uint256[] memory holders,
        bytes32[] memory votes
    ) private {
        uint256 reward = b.reward;
        uint256 finalizerShare = reward * _finalizerBps / _BPS;
        uint256 audit = _auditMaskOf(b);
        ITicketVerifier.Tally memory t = _tickets.tally(
            ITicketVerifier.TallyTerms(
                b.leafCount,
                audit,
                _quorum,
                reward,
                finalizerShare,
                _committeeShare(b, reward, finalizerShare),
                _seats,
                batchId
            ),
            vectors,
            holders,
            votes
        );
        uint256 nonFinal = audit & ~t.finalMask; // may differ from the first full reveal's summary
        if (b.nonFinalMask != nonFinal) b.nonFinalMask = nonFinal;
        if (t.disputedMask != 0) b.disputedMask = t.disputedMask;
        b.finalizedAfter = uint32(block.timestamp - b.postedAt) + 1; // + 1: never zero once finalized
        bytes32 finalVectorHash;
        if (t.pot != 0) {
            finalVectorHash = t.finalVectorHash;
            b.finalVectorHash = finalVectorHash;
        }
        b.state = t.pot != 0 ? ISettlementCoordinator.BatchState.Finalized : ISettlementCoordinator.BatchState.Closed; // seats claim after the window
        // Disputed leaves are frozen; their rewards go to the DisputeCourt for the escalation tiers.
        for (uint256 i; i < t.majority.length; ++i) {
            if ((t.disputedMask >> i) & 1 == 1) emit ISettlementCoordinator.LeafDisputed(batchId, i, t.majority[i]);
        }
        emit ISettlementCoordinator.BatchFinalized(
            batchId, finalVectorHash, t.finalMask, audit & ~t.finalMask & ~t.disputedMask, t.disputedMask, msg.sender
        );
        _payAndSlash(batchId, b, holders, t);
        if (t.disputed > 0) _court.holdDisputed{value: t.disputed}(batchId);
    }

    /// @dev Each holder's word (address | seats << 160) and revealed vector hash (zero: none).
    function _ballots(uint256 batchId, Stored storage b, uint256[] calldata list)
        private
        view
        returns (uint256[] memory holders, bytes32[] memory votes)
    {
        uint256 n = list.length;
        holders = list;
        votes = new bytes32[](n);
        for (uint256 h; h < n; ++h) {
            if ((b.revealedBits >> h) & 1 == 1) votes[h] = _voteOf(batchId, b, h);
        }
    }

    /// @dev Credits seats, finalizer and refunds, then slashes no-shows and splits the slashed stake. Seats that
    ///      revealed another value than a Final leaf's are not slashed here: the DisputeCourt does it once the leaf's
    ///      challenge window has passed (`punish`) or its case closed, so a captured committee cannot get an honest
    ///      minority slashed before a challenge.
    function _payAndSlash(uint256 batchId, Stored storage b, uint256[] memory list, ITicketVerifier.Tally memory t)
        private
    {
        _credit(batchId, msg.sender, t.finalizerCredit, _CREDIT_FINALIZER);
        uint256[] memory groupOf = t.groupOf;
        uint256 holders = groupOf.length;
        uint256 honestSeats;
        uint256 slashSeats;
        uint256 units; // claimSeatPay
        for (uint256 h; h < holders; ++h) {
            uint256 g = groupOf[h];
            uint256 packed = list[h];
            if (g == type(uint256).max) {
                slashSeats += uint8(packed >> 160);
                continue;
            }
            honestSeats += uint8(packed >> 160);
            units |= (t.agreed[g] * uint8(packed >> 160)) << (16 * h);
        }
        if (units != 0) {
            _seatUnits[batchId] = units;
            _holders[batchId] |= _UNITS_STORED;
        }
        if (slashSeats == 0) return _refund(batchId, b, t.refund);

        // Interactions: the stake registry sends slashed ETH back through receive().
        uint256 slashed;
        for (uint256 h; h < holders; ++h) {
            if (groupOf[h] != type(uint256).max) continue;
            uint256 packed = list[h];
            address holder = address(uint160(packed));
            uint256 amount = _stakes.slash(holder, uint8(packed >> 160) * _seatSlash);
            slashed += amount;
            emit ISettlementCoordinator.SeatSlashed(batchId, holder, amount, _REASON_NO_SHOW);
        }
        uint256 toHonest;
        if (honestSeats > 0) {
            uint256 each = slashed * _honestSlashBps / _BPS / honestSeats;
            toHonest = each * honestSeats;
            for (uint256 h; h < holders && each > 0; ++h) {
                if (groupOf[h] == type(uint256).max) continue;
                uint256 packed = list[h];
                _credit(batchId, address(uint160(packed)), each * uint8(packed >> 160), _CREDIT_HONEST);
            }
        }
        uint256 toPayer = slashed * _projectSlashBps / _BPS;
        uint256 burnt = slashed - toHonest - toPayer;
        _burned += burnt;
        emit ISettlementCoordinator.SlashSplit(batchId, toHonest, toPayer, burnt);
        _refund(batchId, b, t.refund + toPayer);
    }
}
