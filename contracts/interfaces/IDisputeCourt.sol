// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICourtParams} from "./ICourtParams.sol";
import {ITicketVerifier} from "./ITicketVerifier.sol";

/// @title IDisputeCourt
/// @notice Protocol v2 bounded escalation and the challenge window, per leaf (a case; docs/protocol.md).
/// @dev Tier 1 is the batch's K-seat committee (SettlementCoordinator). A leaf without Q agreeing seats is
///      Disputed: its reward is held here and anyone escalates it to tier 2, a panel of 2K+1 seats drawn by
///      stake from the current epoch with a fresh beacon seed. A panel value with K+1 seats decides tier 2;
///      otherwise the case goes on to tier 3, a stake-weighted vote of the whole active set (the value with
///      the most revealed stake; a tie or no vote decides "no result"). There is no tier 4.
///      Challenge window: for `challengeWindow` after a leaf finalizes at tier 1, or after tier 2 decides,
///      any staked worker may challenge with a bond (challengeBond for tier 2, twice that for tier 3); the
///      case moves to the next tier. An attester whose attestation the standing value contradicts may
///      challenge on its own bond, staked or not (`challengeAsAttester`).
///      Pay of a challengeable leaf: its attesters are paid only after its batch's challenge window
///      (`unpaidLeavesAfter` gates the coordinator's openResults) and never on the tier-1 value of a challenged
///      leaf. Its committee pay is deferred too: the coordinator credits it after the window, and a challenge of
///      a Final leaf takes that leaf's committee pay (committee share / K per seat that agreed on it) from the
///      coordinator into the case (`withholdSeatPay`): when the case upholds the value, those seats are credited
///      it at close; when it is overturned it goes into the winners' pot (to the payer when no value is
///      decided). Nothing is credited before the window, so nothing is clawed back. A case closes when its window passes unchallenged or tier 3 decides:
///      then every seat or voter of every tier that revealed a value other than the final one, and every
///      tier-2 seat or tier-3 committer that did not reveal, is slashed: seatSlash per seat in tiers 1-2,
///      ceil(seatSlash * stake / minStake) in tier 3 (stake = the voter's weight in the case's epoch);
///      a challenger whose challenged value stood forfeits its bond to the winners; a challenger who was
///      right gets its bond back and shares the winners' pot with the weight of a full committee.
///      Pot = honestSlashBps of the slashes + forfeited bonds + the held reward (when a value was decided);
///      the payer gets projectSlashBps of the slashes (and the held reward when none was); the rest burns.
///      A case closed by `punish` (tier 1 only, unchallenged) has no pot: the majority is paid nothing.
///      The pot is shared by weight in wei of stake: W = minStake per winning seat (tiers 1-2) + K * minStake
///      per winning challenger + the stake of each winning tier-3 voter. A seat gets floor(pot * minStake / W),
///      a tier-3 voter floor(pot * stake / W); the dust is burned. Tier 3 is thus Sybil-neutral: a stake
///      split over n identities is paid at most what it would be paid whole (at most n - 1 wei less) and
///      slashed at least as much (at most n - 1 wei more), within each identity's stake.
///      A dispute freezes only its leaf. Tier 1 no-shows are the coordinator's; abstaining is never slashed.
///      Tier-1 seats that contradicted a Final leaf are slashed only here: when its case closes, or, if nobody
///      challenged, by `punish` after the window (a captured committee cannot slash an honest minority first).
///      caseKey = batchId << 8 | index. Vote commitment (tiers 2 and 3):
///      keccak256(abi.encode(chainId, court, batchId, index, tier, worker, value, salt)).
interface IDisputeCourt is ICourtParams {
    /// @notice A case's stored state.
    enum CaseState {
        None,
        Seeding, // tier 2 waits for its seed block
        Voting, // commit, then reveal
        Decided, // tier 2 decided; challengeable until decidedAt + challengeWindow
        Closed // final: paid and slashed
    }

    /// @notice A case's phase now.
    enum CasePhase {
        None,
        Seeding,
        Commit,
        Reveal,
        Decide, // anyone may decide
        Decided,
        Closable, // anyone may close
        Closed
    }

    /// @notice A leaf's case.
    struct Case {
        CaseState state;
        uint8 tier; // tier voting now, or that decided
        bool wasFinal; // the leaf had finalized at tier 1 (challenged) rather than been disputed
        uint16 voters; // tier 2: seat holders; tier 3: committers
        uint16 committed;
        uint16 revealed;
        uint32 epoch; // the epoch seats or voters come from
        uint64 seedBlock;
        uint40 commitDeadline;
        uint40 revealDeadline;
        uint40 decidedAt;
        uint96 escrow; // the disputed leaf's reward, held
        bytes32 value; // the standing value (ABSTAIN: no result)
        bytes32 best; // the current tier's leading value
        uint96 bestWeight;
        bool tied;
    }

    /// @notice A voter of one tier: seat holder (weight = seats) or tier-3 member (weight = stake).
    struct Voter {
        address worker;
        uint96 weight;
        uint8 status; // 0 seated, 1 committed, 2 revealed
        bytes32 vote; // commitment, then the revealed value
    }

    /// @notice What an attester shows to challenge a leaf that contradicts its attestation.
    struct AttesterProof {
        ITicketVerifier.Ticket ticket; // the leaf's ticket
        bytes32 resultHash; // what the caller attested
        bytes signature; // the caller's EIP-712 attestation of (ticket hash, resultHash), 65 bytes
        bytes32[] proof; // Merkle proof of the ticket's leaf at `index` in its batch
    }

    /// @notice A challenge that opened `tier`.
    struct Challenge {
        address challenger;
        uint96 bond;
        bytes32 against; // the value challenged
    }

    /// @notice Thrown when a caller other than the settlement coordinator hands over disputed rewards.
    error NotSettlement(address caller);
    /// @notice Thrown when a leaf is not in the state the call needs (`state` is its ISettlementCoordinator.LeafState).
    error WrongLeafState(uint256 batchId, uint256 index, uint8 state);
    /// @notice Thrown when a call does not fit the case's phase.
    error WrongCasePhase(uint256 batchId, uint256 index, CasePhase phase);
    /// @notice Thrown when the tier-1 vectors do not cover every revealed holder or do not hash as committed.
    error BadVectors(uint256 batchId, address holder);
    /// @notice Thrown when a challenge comes after its window.
    error ChallengeWindowOver(uint256 batchId, uint256 index, uint256 endedAt);
    /// @notice Thrown when a Final leaf is punished while its challenge window still runs.
    error ChallengeWindowOpen(uint256 batchId, uint256 index, uint256 endsAt);
    /// @notice Thrown when tier 3 decided: there is no further tier.
    error NoFurtherTier(uint256 batchId, uint256 index);
    /// @notice Thrown when a challenger has less than the minimum stake.
    error NotStaked(address account);
    /// @notice Thrown when an attester's challenge does not prove an attestation of the leaf's ticket by the caller
    ///         that the standing value contradicts (other ticket or signer, bad proof, ABSTAIN, or agreeing).
    error NotAContradictedAttester(uint256 batchId, uint256 index, address account);
    /// @notice Thrown when a bond is not exactly what the tier costs.
    error WrongBond(uint256 value, uint256 bond);
    /// @notice Thrown when the seed block is not out yet.
    error SeedNotReady(uint256 batchId, uint256 index, uint256 seedBlock);
    /// @notice Thrown when someone without a seat (tier 2) or not in the epoch's set at `memberIndex` (tier 3) votes.
    error NotAVoter(uint256 batchId, uint256 index, address worker);
    /// @notice Thrown when a voter commits twice or sends a zero commitment.
    error BadCommit(uint256 batchId, uint256 index, address worker);
    /// @notice Thrown when a reveal does not open the voter's commitment (or it has none, or revealed).
    error BadReveal(uint256 batchId, uint256 index, address worker);
    /// @notice Thrown when there is nothing to withdraw.
    error NothingToWithdraw(address account);
    /// @notice Thrown when an ETH transfer fails.
    error TransferFailed(address to, uint256 amount);

    /// @notice Emitted when the coordinator hands over the rewards of a batch's disputed leaves, or the committee
    ///         pay of a challenged Final leaf (SeatPayWithheld names it).
    event DisputedHeld(uint256 indexed batchId, uint256 amount);
    /// @notice Emitted when a case moves to `tier` (2 or 3); `challenger` is zero when no Q/K+1 forced it.
    event Escalated(uint256 indexed batchId, uint256 indexed index, uint8 tier, address challenger, bytes32 against);
    /// @notice Emitted when a tier-2 panel's seed block is moved (its hash was gone).
    event PanelReseeded(uint256 indexed batchId, uint256 indexed index, uint256 seedBlock);
    /// @notice Emitted when a tier-2 panel is drawn: `seats[j]` holds seat j.
    event PanelSeated(uint256 indexed batchId, uint256 indexed index, address[] seats);
    /// @notice Emitted when a voter commits.
    event VoteCommitted(uint256 indexed batchId, uint256 indexed index, uint8 tier, address indexed worker);
    /// @notice Emitted when a voter reveals `value`.
    event VoteRevealed(uint256 indexed batchId, uint256 indexed index, uint8 tier, address indexed worker, bytes32 value);
    /// @notice Emitted when a tier decides `value`.
    event TierDecided(uint256 indexed batchId, uint256 indexed index, uint8 tier, bytes32 value);
    /// @notice Emitted when a case closes with `value`.
    event CaseClosed(uint256 indexed batchId, uint256 indexed index, bytes32 value, uint256 slashed, uint256 pot);
    /// @notice Emitted when a challenge takes a Final leaf's committee pay (`amount`, over `seats` agreeing seats)
    ///         from the coordinator into the case.
    event SeatPayWithheld(uint256 indexed batchId, uint256 indexed index, uint256 seats, uint256 amount);
    /// @notice Emitted when a voter is slashed (reason 0 wrong value, 1 no-show).
    event VoterSlashed(uint256 indexed batchId, uint256 indexed index, uint8 tier, address indexed worker, uint256 amount, uint8 reason);
    /// @notice Emitted when a challenge bond is returned (`won`) or forfeited.
    event BondSettled(uint256 indexed batchId, uint256 indexed index, uint8 tier, address indexed challenger, bool forfeited);
    /// @notice Emitted when `account` is credited (reason 0 winner, 1 bond back, 2 refund, 3 committee pay of an
    ///         upheld challenged leaf).
    event Credited(uint256 indexed batchId, uint256 indexed index, address indexed account, uint256 amount, uint8 reason);
    /// @notice Emitted when `account` withdraws.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice Takes the held rewards of a batch's disputed leaves, or a challenged Final leaf's committee pay
    ///         (ISettlementCoordinator.withholdSeatPay). Settlement coordinator only.
    function holdDisputed(uint256 batchId) external payable;

    /// @notice Opens tier 2 for a Disputed leaf (anyone). `vectors` holds every distinct tier-1 vector revealed;
    ///         `holders` the batch's holder list (ISettlementCoordinator.commit), as every call that loads tier 1 takes it.
    function escalate(uint256 batchId, uint256 index, bytes32[][] calldata vectors, uint256[] calldata holders)
        external;

    /// @notice Challenges a leaf's standing value with msg.value as bond: a tier-1 Final leaf within the window
    ///         after its batch finalized (`vectors`: every distinct tier-1 vector revealed), or a tier-2 decision
    ///         within the window after it (`vectors` ignored). Staked workers only (attesters are staked workers).
    function challenge(uint256 batchId, uint256 index, bytes32[][] calldata vectors, uint256[] calldata holders)
        external
        payable;

    /// @notice Challenges like `challenge`, by an attester on its own bond (no stake needed): `a` proves that the
    ///         caller attested a result of the leaf's ticket that is neither ABSTAIN nor the standing value.
    function challengeAsAttester(
        uint256 batchId,
        uint256 index,
        bytes32[][] calldata vectors,
        uint256[] calldata holders,
        AttesterProof calldata a
    )
        external
        payable;

    /// @notice The leaves of a batch whose attesters are not paid on their tier-1 value (a mask: the leaves
    ///         challenged in the window). Reverts ChallengeWindowOpen until the batch's challenge window passed:
    ///         the coordinator's openResults and close call it, so no attester or seat is paid while its leaf can
    ///         still be challenged (a challenged leaf's committee pay was taken into its case at the challenge).
    function unpaidLeaves(uint256 batchId) external view returns (uint256);

    /// @notice unpaidLeaves for a batch that finalized at `finalizedAt` (what the coordinator's openResults and close
    ///         call: the coordinator knows the time, so the court does not read the batch back, ~27 k gas less). The
    ///         answer holds only for the batch's true finalization time; anyone else should call unpaidLeaves.
    function unpaidLeavesAfter(uint256 batchId, uint256 finalizedAt) external view returns (uint256);

    /// @notice After an unchallenged Final leaf's window (anyone): closes it as a tier-1 case, slashing the seats
    ///         that revealed another value (`vectors`: every distinct tier-1 vector revealed). Nobody challenged, so
    ///         nothing shows the majority right: the agreeing seats are paid nothing from the slash (a captured
    ///         majority must not profit from out-voting an honest minority); the payer gets `projectSlashBps` of
    ///         it and the rest is burned.
    function punish(uint256 batchId, uint256 index, bytes32[][] calldata vectors, uint256[] calldata holders) external;

    /// @notice Draws the tier-2 panel from the beacon value of the case's seed block (anyone); when that block's
    ///         hash is gone, moves the seed block instead.
    function seatPanel(uint256 batchId, uint256 index, bytes calldata proof) external;

    /// @notice Commits the caller's vote on the case's current tier. `memberIndex`: the caller's entry in the
    ///         epoch's array (tier 3; ignored in tier 2).
    function commitVote(uint256 batchId, uint256 index, bytes32 commitment, uint256 memberIndex) external;

    /// @notice Opens the caller's vote commitment (ABSTAIN is a valid value, never slashed).
    function revealVote(uint256 batchId, uint256 index, bytes32 value, bytes32 salt) external;

    /// @notice Tallies the current tier once its votes are in (anyone): tier 2 decides or goes on to tier 3;
    ///         tier 3 decides and closes the case.
    function decide(uint256 batchId, uint256 index) external;

    /// @notice Closes a tier-2 decision whose challenge window passed (anyone): slashes, pays, refunds.
    function close(uint256 batchId, uint256 index) external;

    /// @notice Pays out the caller's credits.
    function withdraw() external;

    /// @notice A leaf's case.
    function caseOf(uint256 batchId, uint256 index) external view returns (Case memory);

    /// @notice A case's phase now.
    function phaseOf(uint256 batchId, uint256 index) external view returns (CasePhase);

    /// @notice The voters of one tier of a case.
    function votersOf(uint256 batchId, uint256 index, uint8 tier) external view returns (Voter[] memory);

    /// @notice The challenge that opened `tier` (zero challenger: none).
    function challengeOf(uint256 batchId, uint256 index, uint8 tier) external view returns (Challenge memory);

    /// @notice Whether a leaf's result is final, and the final value: a case that closed, or a tier-1 Final leaf
    ///         with no case whose window passed (`tier1Value`, read by the caller from the final vector).
    function settledValue(uint256 batchId, uint256 index, bytes32 tier1Value) external view returns (bool, bytes32);

    /// @notice The commitment a voter sends.
    function voteCommitment(uint256 batchId, uint256 index, uint8 tier, address worker, bytes32 value, bytes32 salt)
        external
        view
        returns (bytes32);

    /// @notice Credits waiting for `account`.
    function pendingWithdrawal(address account) external view returns (uint256);

    /// @notice Slashed stake burned here (no function moves it).
    function burned() external view returns (uint256);
}
