// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBeacon} from "./interfaces/IBeacon.sol";
import {ICourtParams} from "./interfaces/ICourtParams.sol";
import {IDisputeCourt} from "./interfaces/IDisputeCourt.sol";
import {IGatewayRegistry} from "./interfaces/IGatewayRegistry.sol";
import {IProtocolParams} from "./interfaces/IProtocolParams.sol";
import {ISettlementCoordinator} from "./interfaces/ISettlementCoordinator.sol";
import {IStakeRegistry} from "./interfaces/IStakeRegistry.sol";
import {ITicketVerifier} from "./interfaces/ITicketVerifier.sol";
import {CourtParamsLib} from "./libraries/CourtParamsLib.sol";

/// @title DisputeCourt
/// @notice Bounded escalation (committee, 2K+1 panel, whole active set) and the challenge window, per leaf.
contract DisputeCourt is IDisputeCourt {
    uint8 private constant _TIER_COMMITTEE = 1;
    uint8 private constant _TIER_PANEL = 2;
    uint8 private constant _TIER_ALL = 3;
    uint8 private constant _LEAF_FINAL = 2; // ISettlementCoordinator.LeafState
    uint8 private constant _LEAF_DISPUTED = 5;
    uint8 private constant _SEATED = 0;
    uint8 private constant _COMMITTED = 1;
    uint8 private constant _REVEALED = 2;
    uint8 private constant _SLASH_WRONG = 0;
    uint8 private constant _SLASH_NO_SHOW = 1;
    uint8 private constant _CREDIT_WINNER = 0;
    uint8 private constant _CREDIT_BOND = 1;
    uint8 private constant _CREDIT_REFUND = 2;
    uint8 private constant _CREDIT_SEAT_PAY = 3;
    uint256 private constant _BPS = 10_000;
    uint256 private constant _SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    CourtParams private _params;
    IProtocolParams.Params private _protocol;
    ISettlementCoordinator private immutable _settlement;
    IStakeRegistry private immutable _stakes;
    IGatewayRegistry private immutable _gateways;
    IBeacon private immutable _beacon;
    ITicketVerifier private immutable _tickets;

    uint256 private _burned;
    mapping(uint256 caseKey => Case) private _cases;
    mapping(uint256 caseKey => mapping(uint256 tier => Voter[])) private _voters;
    mapping(uint256 caseKey => mapping(uint256 tier => mapping(address worker => uint256 slot))) private _slots;
    mapping(uint256 caseKey => mapping(uint256 tier => mapping(bytes32 value => uint256 weight))) private _tally;
    mapping(uint256 caseKey => mapping(uint256 tier => Challenge)) private _challenges;
    mapping(address account => uint256 amount) private _pending;
    mapping(uint256 batchId => uint256 mask) private _challenged;

    /// @dev What closing a case adds up. Winners' weights are in wei of stake: a tier-1 or tier-2 seat weighs
    ///      minStake, a winning challenger K seats, a tier-3 voter its epoch stake.
    struct Outcome {
        uint256 slashed;
        uint256 forfeited;
        uint256 winWeight;
        uint256 pot;
        uint256 each; // pot per seat: pot * minStake / winWeight
        uint256 distributed;
        uint256 seatPay; // an upheld Final leaf's committee pay per tier-1 seat of its value, credited at close
        uint256 withheld; // an overturned (or undecided) Final leaf's committee pay: to the pot (or the payer)
    }

    constructor(CourtParams memory params_, ISettlementCoordinator settlement_) {
        CourtParamsLib.validate(params_);
        _protocol = settlement_.params();
        if (params_.challengeWindow >= _protocol.openWindow) revert InvalidCourtParams("challengeWindow: < openWindow");
        _params = params_;
        _settlement = settlement_;
        (, address stakes, address gateways, address beacon, address tickets) = settlement_.contracts();
        _tickets = ITicketVerifier(tickets);
        _stakes = IStakeRegistry(stakes);
        _gateways = IGatewayRegistry(gateways);
        _beacon = IBeacon(beacon);
    }

    /// @dev Slashed stake arrives from the stake registry only.
    receive() external payable {
        if (msg.sender != address(_stakes)) revert NotSettlement(msg.sender);
    }

    /// @inheritdoc IDisputeCourt
    function holdDisputed(uint256 batchId) external payable {
        if (msg.sender != address(_settlement)) revert NotSettlement(msg.sender);
        emit DisputedHeld(batchId, msg.value);
    }

    /// @inheritdoc IDisputeCourt
    function escalate(uint256 batchId, uint256 index, bytes32[][] calldata vectors, uint256[] calldata holders)
        external
    {
        uint256 key = _key(batchId, index);
        Case storage c = _cases[key];
        if (c.state != CaseState.None) revert WrongCasePhase(batchId, index, _phase(c));
        uint8 state = uint8(_settlement.leafState(batchId, index));
        if (state != _LEAF_DISPUTED) revert WrongLeafState(batchId, index, state);
        _loadCommittee(key, batchId, index, vectors, holders);
        c.escrow = _settlement.getBatch(batchId).reward;
        _openTier(key, batchId, index, c, _TIER_PANEL, bytes32(0));
    }

    /// @inheritdoc IDisputeCourt
    function challenge(uint256 batchId, uint256 index, bytes32[][] calldata vectors, uint256[] calldata holders)
        external
        payable
    {
        IStakeRegistry.Staker memory s = _stakes.getStaker(msg.sender);
        if (s.stake < _protocol.minStake) revert NotStaked(msg.sender);
        _challenge(batchId, index, vectors, holders);
    }

    /// @inheritdoc IDisputeCourt
    function challengeAsAttester(
        uint256 batchId,
        uint256 index,
        bytes32[][] calldata vectors,
        uint256[] calldata holders,
        AttesterProof calldata a
    ) external payable {
        bytes32 against = _challenge(batchId, index, vectors, holders);
        if (a.resultHash == bytes32(0) || a.resultHash == against || !_attested(batchId, index, a)) {
            revert NotAContradictedAttester(batchId, index, msg.sender);
        }
    }

    /// @inheritdoc IDisputeCourt
    function unpaidLeaves(uint256 batchId) external view returns (uint256) {
        return _unpaidLeaves(batchId, _settlement.getBatch(batchId).finalizedAt);
    }

    /// @inheritdoc IDisputeCourt
    function unpaidLeavesAfter(uint256 batchId, uint256 finalizedAt) external view returns (uint256) {
        return _unpaidLeaves(batchId, finalizedAt);
    }

    function _unpaidLeaves(uint256 batchId, uint256 finalizedAt) private view returns (uint256) {
        uint256 end = finalizedAt + _params.challengeWindow;
        if (block.timestamp < end) revert ChallengeWindowOpen(batchId, 0, end);
        return _challenged[batchId];
    }

    /// @dev Opens the next tier against the leaf's standing value (returned) with msg.value as bond.
    function _challenge(uint256 batchId, uint256 index, bytes32[][] calldata vectors, uint256[] calldata holders)
        private
        returns (bytes32)
    {
        uint256 key = _key(batchId, index);
        Case storage c = _cases[key];
        uint8 tier;
        if (c.state == CaseState.None) {
            uint8 state = uint8(_settlement.leafState(batchId, index));
            if (state != _LEAF_FINAL) revert WrongLeafState(batchId, index, state);
            uint256 end = uint256(_settlement.getBatch(batchId).finalizedAt) + _params.challengeWindow;
            if (block.timestamp >= end) revert ChallengeWindowOver(batchId, index, end);
            uint256 lanes;
            (c.value, lanes) = _loadCommittee(key, batchId, index, vectors, holders);
            c.wasFinal = true;
            _challenged[batchId] |= uint256(1) << index;
            uint256 held = _settlement.withholdSeatPay(batchId, lanes, holders); // arrives through holdDisputed
            emit SeatPayWithheld(batchId, index, _tally[key][_TIER_COMMITTEE][c.value], held);
            tier = _TIER_PANEL;
        } else {
            if (c.state == CaseState.Closed) revert NoFurtherTier(batchId, index);
            if (c.state != CaseState.Decided) revert WrongCasePhase(batchId, index, _phase(c));
            uint256 end = uint256(c.decidedAt) + _params.challengeWindow;
            if (block.timestamp >= end) revert ChallengeWindowOver(batchId, index, end);
            tier = _TIER_ALL;
        }
        uint256 bond = uint256(_params.challengeBond) * (tier - 1);
        if (msg.value != bond) revert WrongBond(msg.value, bond);
        _challenges[key][tier] = Challenge(msg.sender, uint96(bond), c.value);
        _openTier(key, batchId, index, c, tier, c.value);
        return c.value;
    }

    /// @dev Whether `a` is the caller's attestation of leaf `index`'s ticket.
    function _attested(uint256 batchId, uint256 index, AttesterProof calldata a) private view returns (bool) {
        ISettlementCoordinator.Batch memory b = _settlement.getBatch(batchId);
        ITicketVerifier.Ticket calldata t = a.ticket;
        if (t.gateway != b.gateway || !_tickets.verifyLeaf(b.root, b.leafCount, index, _leafHash(t), a.proof)) {
            return false;
        }
        bytes32 digest = _tickets.attestationDigest(address(_settlement), _tickets.ticketHash(t), a.resultHash);
        bytes calldata sig = a.signature;
        if (sig.length != 65 || uint256(bytes32(sig[32:64])) > _SECP256K1_HALF_N) return false;
        address signer = ecrecover(digest, uint8(sig[64]), bytes32(sig[0:32]), bytes32(sig[32:64]));
        return signer != address(0) && signer == msg.sender;
    }

    function _leafHash(ITicketVerifier.Ticket calldata t) private pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                t.seq, t.functionId, t.version, t.inputHash, t.reward, t.issuedAt, t.deadline, t.mode, t.secretsVersion
            )
        );
    }

    /// @inheritdoc IDisputeCourt
    function punish(uint256 batchId, uint256 index, bytes32[][] calldata vectors, uint256[] calldata holders)
        external
    {
        uint256 key = _key(batchId, index);
        Case storage c = _cases[key];
        if (c.state != CaseState.None) revert WrongCasePhase(batchId, index, _phase(c));
        uint8 state = uint8(_settlement.leafState(batchId, index));
        if (state != _LEAF_FINAL) revert WrongLeafState(batchId, index, state);
        uint256 end = uint256(_settlement.getBatch(batchId).finalizedAt) + _params.challengeWindow;
        if (block.timestamp < end) revert ChallengeWindowOpen(batchId, index, end);
        (c.value,) = _loadCommittee(key, batchId, index, vectors, holders);
        c.wasFinal = true;
        c.tier = _TIER_COMMITTEE;
        c.decidedAt = uint40(block.timestamp);
        _close(key, batchId, index, c);
    }

    /// @inheritdoc IDisputeCourt
    function seatPanel(uint256 batchId, uint256 index, bytes calldata proof) external {
        uint256 key = _key(batchId, index);
        Case storage c = _cases[key];
        if (c.state != CaseState.Seeding) revert WrongCasePhase(batchId, index, _phase(c));
        if (block.number <= c.seedBlock) revert SeedNotReady(batchId, index, c.seedBlock);
        if (blockhash(c.seedBlock) == bytes32(0)) {
            c.seedBlock = uint64(block.number + _protocol.beaconDelay);
            emit PanelReseeded(batchId, index, c.seedBlock);
            return;
        }
        bytes32 seed = keccak256(abi.encode(_beacon.valueOf(c.seedBlock, proof), batchId, index, _TIER_PANEL));
        uint256 epoch = _stakes.currentEpoch();
        address[] memory seats = _stakes.drawSeats(epoch, seed, 2 * uint256(_protocol.seats) + 1);
        Voter[] storage list = _voters[key][_TIER_PANEL];
        mapping(address => uint256) storage slots = _slots[key][_TIER_PANEL];
        for (uint256 j; j < seats.length; ++j) {
            uint256 slot = slots[seats[j]];
            if (slot != 0) {
                ++list[slot - 1].weight;
                continue;
            }
            list.push(Voter(seats[j], 1, _SEATED, bytes32(0)));
            slots[seats[j]] = list.length;
        }
        c.voters = uint16(list.length);
        c.epoch = uint32(epoch);
        c.state = CaseState.Voting;
        _setDeadlines(c);
        emit PanelSeated(batchId, index, seats);
    }

    /// @inheritdoc IDisputeCourt
    function commitVote(uint256 batchId, uint256 index, bytes32 commitment, uint256 memberIndex) external {
        uint256 key = _key(batchId, index);
        Case storage c = _cases[key];
        CasePhase p = _phase(c);
        if (p != CasePhase.Commit) revert WrongCasePhase(batchId, index, p);
        if (commitment == bytes32(0)) revert BadCommit(batchId, index, msg.sender);
        uint8 tier = c.tier;
        uint256 slot = _slots[key][tier][msg.sender];
        if (tier == _TIER_ALL) {
            if (slot != 0) revert BadCommit(batchId, index, msg.sender);
            uint256 weight = _memberStake(batchId, index, c.epoch, memberIndex);
            _voters[key][tier].push(Voter(msg.sender, uint96(weight), _SEATED, bytes32(0)));
            slot = _voters[key][tier].length;
            _slots[key][tier][msg.sender] = slot;
            c.voters = uint16(slot);
        } else if (slot == 0) {
            revert NotAVoter(batchId, index, msg.sender);
        }
        Voter storage v = _voters[key][tier][slot - 1];
        if (v.status != _SEATED) revert BadCommit(batchId, index, msg.sender);
        v.status = _COMMITTED;
        v.vote = commitment;
        ++c.committed;
        emit VoteCommitted(batchId, index, tier, msg.sender);
    }

    /// @inheritdoc IDisputeCourt
    function revealVote(uint256 batchId, uint256 index, bytes32 value, bytes32 salt) external {
        uint256 key = _key(batchId, index);
        Case storage c = _cases[key];
        CasePhase p = _phase(c);
        if (p != CasePhase.Reveal) revert WrongCasePhase(batchId, index, p);
        uint8 tier = c.tier;
        uint256 slot = _slots[key][tier][msg.sender];
        if (slot == 0) revert BadReveal(batchId, index, msg.sender);
        Voter storage v = _voters[key][tier][slot - 1];
        if (v.status != _COMMITTED || v.vote != _voteCommitment(batchId, index, tier, msg.sender, value, salt)) {
            revert BadReveal(batchId, index, msg.sender);
        }
        v.status = _REVEALED;
        v.vote = value;
        ++c.revealed;
        emit VoteRevealed(batchId, index, tier, msg.sender, value);
        if (value != bytes32(0)) _count(key, c, tier, value, v.weight);
    }

    /// @inheritdoc IDisputeCourt
    function decide(uint256 batchId, uint256 index) external {
        uint256 key = _key(batchId, index);
        Case storage c = _cases[key];
        CasePhase p = _phase(c);
        if (p != CasePhase.Decide) revert WrongCasePhase(batchId, index, p);
        if (c.tier == _TIER_PANEL) {
            if (c.tied || c.bestWeight < uint256(_protocol.seats) + 1) {
                return _openTier(key, batchId, index, c, _TIER_ALL, c.value);
            }
            c.value = c.best;
            c.state = CaseState.Decided;
            c.decidedAt = uint40(block.timestamp);
            emit TierDecided(batchId, index, _TIER_PANEL, c.value);
            return;
        }
        c.value = c.tied ? bytes32(0) : c.best;
        c.decidedAt = uint40(block.timestamp);
        emit TierDecided(batchId, index, _TIER_ALL, c.value);
        _close(key, batchId, index, c);
    }

    /// @inheritdoc IDisputeCourt
    function close(uint256 batchId, uint256 index) external {
        uint256 key = _key(batchId, index);
        Case storage c = _cases[key];
        CasePhase p = _phase(c);
        if (p != CasePhase.Closable) revert WrongCasePhase(batchId, index, p);
        _close(key, batchId, index, c);
    }

    /// @inheritdoc IDisputeCourt
    function withdraw() external {
        uint256 amount = _pending[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _pending[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDisputeCourt
    function caseOf(uint256 batchId, uint256 index) external view returns (Case memory) {
        return _cases[_key(batchId, index)];
    }

    /// @inheritdoc IDisputeCourt
    function phaseOf(uint256 batchId, uint256 index) external view returns (CasePhase) {
        return _phase(_cases[_key(batchId, index)]);
    }

    /// @inheritdoc IDisputeCourt
    function votersOf(uint256 batchId, uint256 index, uint8 tier) external view returns (Voter[] memory) {
        return _voters[_key(batchId, index)][tier];
    }

    /// @inheritdoc IDisputeCourt
    function challengeOf(uint256 batchId, uint256 index, uint8 tier) external view returns (Challenge memory) {
        return _challenges[_key(batchId, index)][tier];
    }

    /// @inheritdoc IDisputeCourt
    function settledValue(uint256 batchId, uint256 index, bytes32 tier1Value) external view returns (bool, bytes32) {
        Case storage c = _cases[_key(batchId, index)];
        if (c.state == CaseState.Closed) return (true, c.value);
        if (c.state != CaseState.None) return (false, bytes32(0));
        if (uint8(_settlement.leafState(batchId, index)) != _LEAF_FINAL) return (false, bytes32(0));
        uint256 end = uint256(_settlement.getBatch(batchId).finalizedAt) + _params.challengeWindow;
        return block.timestamp >= end ? (true, tier1Value) : (false, bytes32(0));
    }

    /// @inheritdoc IDisputeCourt
    function voteCommitment(uint256 batchId, uint256 index, uint8 tier, address worker, bytes32 value, bytes32 salt)
        external
        view
        returns (bytes32)
    {
        return _voteCommitment(batchId, index, tier, worker, value, salt);
    }

    /// @inheritdoc IDisputeCourt
    function pendingWithdrawal(address account) external view returns (uint256) {
        return _pending[account];
    }

    /// @inheritdoc IDisputeCourt
    function burned() external view returns (uint256) {
        return _burned;
    }

    /// @inheritdoc ICourtParams
    function courtParams() external view returns (CourtParams memory) {
        return _params;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Records every revealed tier-1 holder's value on leaf `index` and returns the value with >= Q seats
    ///      (zero when none) and, per holder index h in bits [16h, 16h + 16), the seats of the holders that voted it.
    ///      `holders` is the batch's holder list (ISettlementCoordinator.commit; HoldersMismatch when it is not).
    function _loadCommittee(
        uint256 key,
        uint256 batchId,
        uint256 index,
        bytes32[][] calldata vectors,
        uint256[] calldata holders
    ) private returns (bytes32 standing, uint256 lanes) {
        _settlement.checkHolders(batchId, holders);
        (bytes32[] memory values, uint256 revealed) = _tier1Values(batchId, index, holders, vectors);
        for (uint256 h; h < holders.length; ++h) {
            uint256 seats = uint8(holders[h] >> 160);
            if ((revealed >> h) & 1 == 1 && _record(key, address(uint160(holders[h])), seats, values[h])) {
                standing = values[h];
            }
        }
        for (uint256 h; h < holders.length && standing != bytes32(0); ++h) {
            if (values[h] == standing) lanes |= uint256(uint8(holders[h] >> 160)) << (16 * h);
        }
    }

    /// @dev Each tier-1 holder's revealed value on leaf `index` (zero if it did not reveal) and the revealed bits.
    function _tier1Values(uint256 batchId, uint256 index, uint256[] calldata holders, bytes32[][] calldata vectors)
        private
        view
        returns (bytes32[] memory values, uint256 revealed)
    {
        ISettlementCoordinator.Batch memory b = _settlement.getBatch(batchId);
        bytes32[] memory hashes = _hashes(batchId, b.leafCount, vectors);
        revealed = b.revealedBits;
        values = new bytes32[](holders.length);
        for (uint256 h; h < holders.length; ++h) {
            if ((revealed >> h) & 1 == 0) continue;
            bytes32 vote = _settlement.voteOf(batchId, h);
            uint256 g;
            while (g < hashes.length && hashes[g] != vote) ++g;
            if (g == hashes.length) revert BadVectors(batchId, address(uint160(holders[h])));
            values[h] = vectors[g][index];
        }
    }

    function _hashes(uint256 batchId, uint256 leafCount, bytes32[][] calldata vectors)
        private
        pure
        returns (bytes32[] memory hashes)
    {
        hashes = new bytes32[](vectors.length);
        for (uint256 g; g < vectors.length; ++g) {
            if (vectors[g].length != leafCount) revert BadVectors(batchId, address(0));
            hashes[g] = keccak256(abi.encodePacked(vectors[g]));
        }
    }

    /// @dev Adds a tier-1 voter; true when its value now has a quorum of seats.
    function _record(uint256 key, address holder, uint256 seats, bytes32 value) private returns (bool) {
        _voters[key][_TIER_COMMITTEE].push(Voter(holder, uint96(seats), _REVEALED, value));
        if (value == bytes32(0)) return false;
        uint256 weight = _tally[key][_TIER_COMMITTEE][value] + seats;
        _tally[key][_TIER_COMMITTEE][value] = weight;
        return weight >= _protocol.quorum;
    }

    /// @dev Moves the case to `tier`: a panel waits for its seed block; the whole-set vote opens at once.
    function _openTier(uint256 key, uint256 batchId, uint256 index, Case storage c, uint8 tier, bytes32 against)
        private
    {
        c.tier = tier;
        c.voters = 0;
        c.committed = 0;
        c.revealed = 0;
        c.best = bytes32(0);
        c.bestWeight = 0;
        c.tied = false;
        if (tier == _TIER_PANEL) {
            c.state = CaseState.Seeding;
            c.seedBlock = uint64(block.number + _protocol.beaconDelay);
        } else {
            c.state = CaseState.Voting;
            c.epoch = uint32(_stakes.currentEpoch());
            _setDeadlines(c);
        }
        emit Escalated(batchId, index, tier, _challenges[key][tier].challenger, against);
    }

    function _setDeadlines(Case storage c) private {
        c.commitDeadline = uint40(block.timestamp + _params.commitWindow);
        c.revealDeadline = uint40(block.timestamp + _params.commitWindow + _params.revealWindow);
    }

    /// @dev The stake of the epoch's member at `memberIndex`, which must be msg.sender.
    function _memberStake(uint256 batchId, uint256 index, uint256 epoch, uint256 memberIndex)
        private
        view
        returns (uint256)
    {
        (address member, uint256 cumulative) = _stakes.entryAt(epoch, memberIndex);
        if (member != msg.sender) revert NotAVoter(batchId, index, msg.sender);
        if (memberIndex == 0) return cumulative;
        (, uint256 before) = _stakes.entryAt(epoch, memberIndex - 1);
        return cumulative - before;
    }

    /// @dev Adds `weight` to `value` in the current tier and keeps the leader (ties noted).
    function _count(uint256 key, Case storage c, uint8 tier, bytes32 value, uint256 weight) private {
        uint256 total = _tally[key][tier][value] + weight;
        _tally[key][tier][value] = total;
        if (value == c.best) {
            c.bestWeight = uint96(total);
            c.tied = false;
        } else if (total > c.bestWeight) {
            (c.best, c.bestWeight, c.tied) = (value, uint96(total), false);
        } else if (total == c.bestWeight) {
            c.tied = true;
        }
    }

    /// @dev Final: slashes wrong voters and no-shows of every tier, settles the bonds, pays the winners,
    ///      refunds the payer and burns the rest.
    function _close(uint256 key, uint256 batchId, uint256 index, Case storage c) private {
        c.state = CaseState.Closed;
        bytes32 value = c.value;
        Outcome memory o;
        if (c.wasFinal && c.tier != _TIER_COMMITTEE) {
            // A challenged Final leaf: its committee pay came here at the challenge (withholdSeatPay).
            bytes32 standing = _challenges[key][_TIER_PANEL].against;
            uint256 seatPay = _seatPay(batchId);
            if (value == standing) o.seatPay = seatPay; // upheld: its tier-1 seats are paid (_slashTier)
            else o.withheld = _tally[key][_TIER_COMMITTEE][standing] * seatPay;
        }
        for (uint8 t = _TIER_COMMITTEE; t <= c.tier; ++t) {
            _slashTier(key, batchId, index, t, value, o);
        }
        uint256 committee = _protocol.seats;
        uint256 minStake = _protocol.minStake;
        for (uint8 t = _TIER_PANEL; t <= c.tier; ++t) {
            Challenge storage ch = _challenges[key][t];
            if (ch.challenger == address(0)) continue;
            bool lost = value != bytes32(0) && value == ch.against;
            emit BondSettled(batchId, index, t, ch.challenger, lost);
            if (lost) {
                o.forfeited += ch.bond;
            } else {
                _credit(batchId, index, ch.challenger, ch.bond, _CREDIT_BOND);
                if (value != bytes32(0)) o.winWeight += committee * minStake;
            }
        }
        uint256 escrow = c.escrow;
        uint256 pot = o.slashed * _protocol.honestSlashBps / _BPS + o.forfeited + o.withheld;
        uint256 toPayer = o.slashed * _protocol.projectSlashBps / _BPS;
        if (value != bytes32(0)) pot += escrow;
        else toPayer += escrow;
        if (o.winWeight == 0) {
            toPayer += pot;
            pot = 0;
        }
        if (c.tier == _TIER_COMMITTEE) pot = 0; // punish: unchallenged, so nobody showed the majority right: burned
        if (pot > 0) {
            o.pot = pot;
            o.each = pot * minStake / o.winWeight;
            for (uint8 t = _TIER_COMMITTEE; t <= c.tier; ++t) {
                _payTier(key, batchId, index, t, value, o);
            }
            for (uint8 t = _TIER_PANEL; t <= c.tier; ++t) {
                Challenge storage ch = _challenges[key][t];
                if (ch.challenger == address(0) || ch.against == value) continue;
                _credit(batchId, index, ch.challenger, o.each * committee, _CREDIT_WINNER);
                o.distributed += o.each * committee;
            }
        }
        _burned += o.slashed + o.forfeited + o.withheld + escrow - o.distributed - toPayer;
        emit CaseClosed(batchId, index, value, o.slashed, o.distributed);
        _refund(batchId, index, toPayer);
    }

    /// @dev Slashes tier `t`'s voters of another value (when a value was decided) and its no-shows; adds up
    ///      the winners' weight (in wei of stake). Tiers 1-2: seatSlash per seat, a seat weighs minStake.
    ///      Tier 3: seatSlash * stake / minStake rounded up, a voter weighs its stake; so splitting a stake over
    ///      more identities never lowers its slash (nor, with the pay rounded down, raises its pay).
    function _slashTier(uint256 key, uint256 batchId, uint256 index, uint8 t, bytes32 value, Outcome memory o)
        private
    {
        Voter[] storage list = _voters[key][t];
        (uint256 seatSlash, uint256 minStake) = (_protocol.seatSlash, _protocol.minStake);
        for (uint256 i; i < list.length; ++i) {
            Voter storage v = list[i];
            uint8 reason;
            if (v.status == _REVEALED) {
                if (v.vote == bytes32(0) || value == bytes32(0)) continue;
                if (v.vote == value) {
                    o.winWeight += t == _TIER_ALL ? v.weight : v.weight * minStake;
                    if (t == _TIER_COMMITTEE) _credit(batchId, index, v.worker, o.seatPay * v.weight, _CREDIT_SEAT_PAY);
                    continue;
                }
                reason = _SLASH_WRONG;
            } else {
                reason = _SLASH_NO_SHOW;
            }
            uint256 due = t == _TIER_ALL ? (v.weight * seatSlash + minStake - 1) / minStake : v.weight * seatSlash;
            uint256 amount = _stakes.slash(v.worker, due);
            o.slashed += amount;
            emit VoterSlashed(batchId, index, t, v.worker, amount, reason);
        }
    }

    /// @dev A Final leaf's committee pay per agreeing seat in `batchId`: committee share / K.
    function _seatPay(uint256 batchId) private view returns (uint256) {
        ISettlementCoordinator.Batch memory b = _settlement.getBatch(batchId);
        uint256 reward = b.reward;
        uint256 share = b.resultsCommitment == bytes32(0)
            ? reward - reward * _protocol.finalizerBps / _BPS
            : reward * _protocol.committeeBps / _BPS;
        return share / _protocol.seats;
    }

    /// @dev Credits tier `t`'s voters of the final value: `each` per seat (tiers 1-2), pot * stake / winWeight
    ///      rounded down (tier 3). The sum never exceeds the pot; the dust is burned.
    function _payTier(uint256 key, uint256 batchId, uint256 index, uint8 t, bytes32 value, Outcome memory o) private {
        Voter[] storage list = _voters[key][t];
        for (uint256 i; i < list.length; ++i) {
            Voter storage v = list[i];
            if (v.status != _REVEALED || v.vote != value) continue;
            uint256 amount = t == _TIER_ALL ? o.pot * v.weight / o.winWeight : o.each * v.weight;
            o.distributed += amount;
            _credit(batchId, index, v.worker, amount, _CREDIT_WINNER);
        }
    }

    /// @dev Sends `amount` to the batch's payer: the project reserve, or the poster's credits here.
    function _refund(uint256 batchId, uint256 index, uint256 amount) private {
        if (amount == 0) return;
        ISettlementCoordinator.Batch memory b = _settlement.getBatch(batchId);
        if (b.projectId == bytes32(0)) return _credit(batchId, index, b.payer, amount, _CREDIT_REFUND);
        _gateways.refund{value: amount}(b.projectId);
    }

    function _credit(uint256 batchId, uint256 index, address account, uint256 amount, uint8 reason) private {
        if (amount == 0) return;
        _pending[account] += amount;
        emit Credited(batchId, index, account, amount, reason);
    }

    function _phase(Case storage c) private view returns (CasePhase) {
        CaseState s = c.state;
        if (s == CaseState.None) return CasePhase.None;
        if (s == CaseState.Seeding) return CasePhase.Seeding;
        if (s == CaseState.Closed) return CasePhase.Closed;
        if (s == CaseState.Decided) {
            return block.timestamp < uint256(c.decidedAt) + _params.challengeWindow
                ? CasePhase.Decided
                : CasePhase.Closable;
        }
        bool allIn = c.tier == _TIER_PANEL && c.committed == c.voters;
        if (block.timestamp < c.commitDeadline && !allIn) return CasePhase.Commit;
        if (block.timestamp < c.revealDeadline && c.revealed < c.committed) return CasePhase.Reveal;
        return CasePhase.Decide;
    }

    function _voteCommitment(uint256 batchId, uint256 index, uint8 tier, address worker, bytes32 value, bytes32 salt)
        private
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(this), batchId, index, tier, worker, value, salt));
    }

    function _key(uint256 batchId, uint256 index) private pure returns (uint256) {
        return batchId << 8 | index;
    }
}
