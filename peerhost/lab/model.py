"""The fast event-level model: a batch's whole life in Python, wei for wei as the contracts do it.

Per batch: the gateway asks attesters (round-robin over the epoch's members), K seats are drawn by
stake with replacement from the epoch's cumulative array (``peerhost.wire.batch.draw_seats``, the
contract's own draw), holders commit and reveal per their strategies, the batch settles (quorum Q,
seat and finalizer shares: an agreeing seat earns a K-th of the committee share, the other seats'
part goes back to the payer; no-show slashes and their split), the attested results are opened;
then each Final leaf's challenge window (an honest seat or attester challenges a wrong value that
contradicts its own, as the production worker does, unless it crashed; an online third-party
watcher any wrong value; a spam challenger a right one), the escalation tiers (a 2K+1 panel
deciding with K+1 seats, then a stake-weighted vote of the whole set), slashes when a case
closes, ``punish`` of unchallenged minorities (paying the majority nothing from it), and
attestation slashes. Stake epochs advance
every ``batches_per_epoch`` batches and slashed identities sit the next epoch out.

Every division rounds as the contracts round, so a run fed the chain's seeds gives the chain's
numbers (``tests/lab``). Fed random seeds it runs thousands of batches in seconds.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_utils import keccak

from peerhost.lab.gateways import abstain_on, equivocates, opening_reserve, withheld
from peerhost.lab.params import BPS, LabParams
from peerhost.lab.report import BURNED, GATEWAY, PROJECT, Report
from peerhost.lab.scenario import Scenario
from peerhost.lab.strategies import Ballot, CaseView, LeafView, SeatView, truth_of
from peerhost.wire.batch import ABSTAIN, is_audited, seat_random

TIER_COMMITTEE, TIER_PANEL, TIER_ALL = 1, 2, 3


class Seeds:
    """Where committee and panel seeds come from: random bytes (fast runs) or the chain's."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random(0)

    def batch(self, batch: int) -> bytes:
        return self.rng.randbytes(32)

    def panel(self, batch: int, index: int) -> bytes:
        return self.rng.randbytes(32)


class RecordedSeeds(Seeds):
    """Seeds a chain run recorded (batch id -> seed, (batch id, leaf) -> panel seed)."""

    def __init__(self, batches: dict[int, bytes], panels: dict[tuple[int, int], bytes]) -> None:
        super().__init__()
        self.batches = batches
        self.panels = panels

    def batch(self, batch: int) -> bytes:
        return self.batches[batch]

    def panel(self, batch: int, index: int) -> bytes:
        return self.panels[(batch, index)]


@dataclass
class Epoch:
    number: int
    members: list[str]
    cumulative: list[int]

    def stake_of(self, k: int) -> int:
        return self.cumulative[k] - (self.cumulative[k - 1] if k else 0)

    def draw(self, seed: bytes, k: int) -> list[str]:
        total = self.cumulative[-1]
        return [
            self.members[bisect.bisect_right(self.cumulative, seat_random(seed, j) % total)]
            for j in range(k)
        ]


def holders_of(seats: Sequence[str]) -> tuple[list[str], dict[str, int]]:
    """Distinct holders in order of first seat, and their seat counts (as the contracts store)."""
    holders: list[str] = []
    count: dict[str, int] = {}
    for s in seats:
        if s not in count:
            holders.append(s)
            count[s] = 0
        count[s] += 1
    return holders, count


def attesters_for(epoch: Epoch, batch_id: int, index: int, a: int) -> list[str]:
    """The gateway's choice of ``a`` attesters for a leaf: drawn by stake with replacement (an
    identity drawn twice is listed twice and paid twice), from a hash of (batch, leaf), so the
    choice is deterministic and splitting stake over identities changes nothing."""
    seed = keccak(b"attesters|%d|%d" % (batch_id, index))
    return epoch.draw(seed, a) if epoch.members else []


def trace_entry(
    batch_id: int,
    holders: Sequence[str],
    seats: dict[str, int],
    revealed: Sequence[str],
    finals: set[int],
    disputed: set[int],
) -> dict[str, object]:
    """What both simulators record per batch, to find the first one where they part."""
    return {
        "batch": batch_id,
        "holders": [(h, seats[h]) for h in holders],
        "revealed": list(revealed),
        "final": sorted(finals),
        "disputed": sorted(disputed),
    }


def opinions_of(
    i: int, revealed: Sequence[str], ballots: dict[str, Ballot], signed: dict[str, bytes]
) -> dict[str, bytes]:
    """Identity -> what it said on leaf ``i``: its tier-1 reveal, else its attestation (what the
    production worker defends with a challenge, ``peerhost.worker.accountability``)."""
    said = dict(signed)
    said.update({h: ballots[h].vector[i] for h in revealed if ballots[h].vector[i] != ABSTAIN})
    return said


@dataclass
class Voter:
    worker: str
    weight: int
    revealed: bool
    vote: bytes


@dataclass
class Case:
    """One leaf's escalation, as the DisputeCourt keeps it."""

    value: bytes
    escrow: int
    tier: int = TIER_COMMITTEE
    voters: dict[int, list[Voter]] = field(default_factory=dict)
    challenges: dict[int, tuple[str, int, bytes]] = field(default_factory=dict)
    #: A Final leaf's committee pay per agreeing seat.
    seat_pay: int = 0
    #: A challenged Final leaf's committee pay, taken from its agreeing seats into the case at the
    #: challenge (deferred pay: never credited before the window): paid back to them when the case
    #: upholds the value, into the winners' pot when it is overturned (to the payer when undecided).
    withheld: int = 0
    #: What each seat revealed, else each attester attested, on the leaf (:func:`opinions_of`).
    said: dict[str, bytes] = field(default_factory=dict)


class Model:
    """Runs a :class:`Scenario` with :class:`LabParams`; see the module docstring."""

    def __init__(
        self, scenario: Scenario, params: LabParams | None = None, seeds: Seeds | None = None
    ) -> None:
        self.s = scenario
        self.p = params or LabParams()
        self.seeds = seeds or Seeds()
        self.by = {i.name: i for i in scenario.identities}
        self.order = [i.name for i in scenario.identities]
        self.stake = {i.name: i.stake for i in scenario.identities}
        self.jailed_until = dict.fromkeys(self.order, 0)
        self.epoch = Epoch(0, [], [])
        self.report = Report()
        self.report.owners = scenario.owners
        self.report.strategies = {i.name: i.strategy.name for i in scenario.identities}
        self.finalizer_credits: dict[str, int] = {}
        # the gateway's side (peerhost.lab.gateways): its bond, the reserve it opened with, and the
        # presenter credits the project took outside its reserve
        self.bond = scenario.gateway_bond
        self.opening_reserve: int | None = None
        self.presented = 0

    # ------------------------------------------------------------------ money

    def credit(self, who: str, amount: int) -> None:
        if amount:
            self.report.add(who, amount)

    def slash(self, who: str, amount: int, kind: str = "seat_slashes") -> int:
        took = min(amount, self.stake[who])
        if took == 0:
            return 0
        self.stake[who] -= took
        self.jailed_until[who] = max(
            self.jailed_until[who], self.epoch.number + self.p.protocol.jail_epochs
        )
        self.report.add(who, -took)
        self.report.slashed[who] += took
        self.report.count(kind)
        return took

    # ------------------------------------------------------------------ epochs

    def advance_epoch(self) -> None:
        nxt = self.epoch.number + 1
        members, cumulative, total = [], [], 0
        for name in self.order:
            if self.stake[name] < self.p.protocol.min_stake or self.jailed_until[name] >= nxt:
                continue
            total += self.stake[name]
            members.append(name)
            cumulative.append(total)
        self.epoch = Epoch(nxt, members, cumulative)

    # ------------------------------------------------------------------ a run

    def run(self) -> Report:
        self.advance_epoch()
        for b in range(self.s.batches):
            if b and b % self.s.batches_per_epoch == 0:
                self.advance_epoch()
            if self.epoch.members:  # else nobody is eligible: postBatch would revert NoActiveStake
                self.batch(b)
        return self.report

    def batch(self, number: int) -> None:
        """One batch's whole life."""
        p, s = self.p.protocol, self.s
        batch_id = number + 1  # batch ids of a fresh deployment count from 1
        n = s.leaves
        reward = s.reward if s.reward is not None else p.min_reward
        truths = tuple(truth_of(batch_id, i) for i in range(n))
        self.report.count("batches")
        self.report.count("leaves", n)
        self.draw(reward * n)

        # attestations: who signed what, and the gateway's opening (first attester's result)
        signed: list[dict[str, bytes]] = []
        opening: list[tuple[bytes, list[str]]] = []
        for i in range(n):
            chosen = attesters_for(self.epoch, batch_id, i, s.attesters)
            said: dict[str, bytes] = {}
            for a in dict.fromkeys(chosen):
                ident = self.by[a]
                v = ident.strategy.attest(LeafView(a, ident.owner, batch_id, i, truths[i]))
                if v is not None:
                    said[a] = v
                    self.cost(a)
            signed.append(said)
            first = next(iter(said.values()), ABSTAIN)
            opening.append((first, [a for a in chosen if a in said and said[a] == first]))
        if equivocates(s.gateway, s.gateway_rate, batch_id):
            self.equivocation()
        with_results = s.attesters > 0
        orphaned = s.gateway == "withholding-batches"
        if orphaned:  # a worker posts them; the gateway's bond pays it orphanRefund per ticket
            refund = p.orphan_refund * n
            self.credit(self.order[0], refund)
            self.credit(GATEWAY, -refund)

        # committee
        seed = self.seeds.batch(batch_id)
        drawn = self.epoch.draw(seed, p.seats)
        holders, seats = holders_of(drawn)
        full = (
            not with_results or orphaned
        )  # a batch without results, or of orphans, is audited in full
        audited = tuple(is_audited(seed, i, 2 if full else s.mode, p.audit_bps) for i in range(n))
        owner_seats: dict[str, int] = {}
        for h in holders:
            o = self.by[h].owner
            owner_seats[o] = owner_seats.get(o, 0) + seats[h]
        ballots: dict[str, Ballot] = {}
        for h in holders:
            ident = self.by[h]
            ballots[h] = ident.strategy.ballot(
                SeatView(
                    h,
                    ident.owner,
                    batch_id,
                    truths,
                    audited,
                    seats[h],
                    owner_seats[ident.owner],
                    p.seats,
                    p.quorum,
                )
            )
        gone = [
            i for i in range(n) if audited[i] and withheld(s.gateway, s.gateway_rate, batch_id, i)
        ]
        if gone:  # nobody can run a leaf whose input the gateway withholds: every seat abstains
            ballots = {h: abstain_on(b, gone) for h, b in ballots.items()}
        revealed = [h for h in holders if ballots[h].commit and ballots[h].reveal]
        for h in revealed:
            self.cost(h, sum(audited))
        equal = len(revealed) == len(holders) and len({ballots[h].vector for h in revealed}) == 1
        # reveal order: the holder of the last seat reveals last (and settles equal vectors)
        finalizer = drawn[-1] if equal else GATEWAY

        final_values, finals, disputed, pot = self.settle(
            holders, seats, revealed, ballots, audited, reward, with_results, finalizer
        )
        self.report.trace.append(trace_entry(batch_id, holders, seats, revealed, finals, disputed))

        # the challenge window of every Final leaf
        settled: dict[int, bytes] = {i: final_values[i] for i in finals}
        cases: dict[int, Case] = {}
        challenged: set[int] = set()
        fs = reward * p.finalizer_bps // BPS
        committee_share = reward * p.committee_bps // BPS if with_results else reward - fs
        for i in sorted(finals):
            case = Case(final_values[i], 0)
            case.voters[TIER_COMMITTEE] = self.committee_voters(
                i, holders, seats, revealed, ballots
            )
            case.seat_pay = committee_share // p.seats
            case.said = opinions_of(i, revealed, ballots, signed[i])
            who = self.challenger(batch_id, i, TIER_PANEL, truths[i], final_values[i], case.said)
            if who is not None:
                self.challenge(case, who, TIER_PANEL)
                if self.p.court_pay_rules:  # SettlementCoordinator.withholdSeatPay
                    for voter in case.voters[TIER_COMMITTEE]:
                        if voter.revealed and voter.vote == case.value:
                            self.credit(voter.worker, -case.seat_pay * voter.weight)
                            case.withheld += case.seat_pay * voter.weight
                cases[i] = case
                challenged.add(i)
            elif any(v.vote not in (ABSTAIN, case.value) for v in case.voters[TIER_COMMITTEE]):
                cases[i] = case  # closed by punish after the window

        # after the window, the attested results are opened: a challenged leaf pays no attester
        if pot:
            paid = 0
            if s.open_results:
                paid_leaves = finals - challenged if self.p.court_pay_rules else finals
                paid = self.open(opening, final_values, paid_leaves, audited, reward)
            self.credit(PROJECT, pot - paid)

        # each case in leaf order, then punish
        for i in sorted(disputed):
            case = Case(ABSTAIN, reward)
            case.voters[TIER_COMMITTEE] = self.committee_voters(
                i, holders, seats, revealed, ballots
            )
            case.said = opinions_of(i, revealed, ballots, signed[i])
            cases[i] = case
        for i in sorted(cases):
            case = cases[i]
            if TIER_PANEL in case.challenges or i in disputed:
                self.report.count("escalations")
                settled[i] = self.escalate(batch_id, i, case, truths[i])
                if i in finals and settled[i] != final_values[i]:
                    self.report.count("overturned")
        for i in sorted(cases):
            if i in finals and TIER_PANEL not in cases[i].challenges:
                self.close(cases[i])
        for i in finals:
            if final_values[i] != truths[i]:
                self.report.count("forged_final")
        for i, value in settled.items():
            if value not in (ABSTAIN, truths[i]):
                self.report.count("finalized_wrong")
        if s.present_attestations:
            if equivocates(s.gateway, s.gateway_rate, batch_id):
                settled.pop(0, None)  # the court refuses evidence on an equivocated ticket
            self.attestation_slashes(signed, settled, reward)
        for _ in gone:
            self.void(reward)

    # ------------------------------------------------------------------ the gateway's bond

    def draw(self, total: int) -> None:
        """``GatewayRegistry.draw``: a batch's rewards from the project's reserve, the shortfall
        from the gateway's bond (an over-issuing gateway)."""
        s = self.s
        if self.opening_reserve is None:
            self.opening_reserve = opening_reserve(s.gateway, s.gateway_rate, total * s.batches)
        # every project credit but a presenter's goes back to the reserve
        reserve = self.opening_reserve + self.report.profit[PROJECT] - self.presented
        from_bond = max(0, total - max(0, reserve))
        self.report.add(PROJECT, -(total - from_bond))
        if from_bond:
            self.bond -= from_bond
            self.report.add(GATEWAY, -from_bond)
            self.report.count("over_issued")

    def equivocation(self) -> None:
        """``EvidenceCourt.proveEquivocation`` by the first identity: the whole bond is charged,
        the presenter takes ``presenterBps`` and the rest is burned; the gateway bonds again."""
        charged = self.bond
        to_presenter = charged * self.p.court.presenter_bps // BPS
        self.credit(GATEWAY, -charged)
        self.credit(self.order[0], to_presenter)
        self.credit(BURNED, charged - to_presenter)
        self.bond = self.s.gateway_bond
        self.report.count("equivocations")

    def void(self, reward: int) -> None:
        """``EvidenceCourt.voidTicket``: the input was never published; the bond pays the reward
        back to the reserve and ``dataSlash`` burned (the challenger's bond is returned)."""
        charged = min(self.bond, reward + self.p.court.data_slash)
        refunded = min(charged, reward)
        self.bond -= charged
        self.credit(GATEWAY, -charged)
        self.credit(PROJECT, refunded)
        self.credit(BURNED, charged - refunded)
        self.report.count("voided")

    def cost(self, who: str, leaves: int = 1) -> None:
        if self.p.execution_cost and self.by[who].strategy.executes:
            self.report.add(who, -self.p.execution_cost * leaves)
            self.report.add(BURNED, self.p.execution_cost * leaves)

    # ------------------------------------------------------------------ tier 1

    def settle(
        self,
        holders: list[str],
        seats: dict[str, int],
        revealed: list[str],
        ballots: dict[str, Ballot],
        audited: tuple[bool, ...],
        reward: int,
        with_results: bool,
        finalizer: str,
    ) -> tuple[list[bytes], set[int], set[int], int]:
        """``SettlementCoordinator._settle``: final values, Final and Disputed leaves, attester pot."""
        p = self.p.protocol
        groups: list[tuple[bytes, ...]] = []
        group_seats: list[int] = []
        group_of: dict[str, int] = {}
        for h in revealed:
            v = ballots[h].vector
            if v not in groups:
                groups.append(v)
                group_seats.append(0)
            g = groups.index(v)
            group_of[h] = g
            group_seats[g] += seats[h]
        fs = reward * p.finalizer_bps // BPS
        cs = reward * p.committee_bps // BPS if with_results else reward - fs
        per_seat = [0] * len(groups)
        finals: set[int] = set()
        disputed: set[int] = set()
        values = [ABSTAIN] * len(audited)
        finalizer_credit = pot = refund = 0
        for i, is_audited_ in enumerate(audited):
            if not is_audited_:
                finalizer_credit += fs
                pot += reward - fs
                self.report.count("unaudited")
                continue
            best, best_seats, speaking = ABSTAIN, 0, 0
            if len(groups) == 1:
                best = groups[0][i]
                if best != ABSTAIN:
                    best_seats = speaking = group_seats[0]
            else:
                for g, gvec in enumerate(groups):
                    val = gvec[i]
                    if val == ABSTAIN or group_seats[g] == 0:
                        continue
                    speaking += group_seats[g]
                    agree = sum(group_seats[k] for k, w in enumerate(groups) if w[i] == val)
                    if agree > best_seats:
                        best, best_seats = val, agree
            if best_seats >= p.quorum:
                finals.add(i)
                values[i] = best
                each = cs // p.seats  # per agreeing seat; the other seats' part goes back
                finalizer_credit += fs + cs - each * p.seats
                refund += each * (p.seats - best_seats)
                pot += reward - fs - cs
                for g, vec in enumerate(groups):
                    if vec[i] == best:
                        per_seat[g] += each
                self.report.count("final")
            elif speaking == 0:
                refund += reward
                self.report.count("refunded")
            else:
                disputed.add(i)
                self.report.count("disputed")
        self.credit(finalizer, finalizer_credit)
        self.finalizer_credits[finalizer] = (
            self.finalizer_credits.get(finalizer, 0) + finalizer_credit
        )
        honest_seats = 0
        no_shows = []
        for h in holders:
            if h in group_of:
                honest_seats += seats[h]
                self.credit(h, per_seat[group_of[h]] * seats[h])
            else:
                no_shows.append(h)
        if no_shows:
            slashed = sum(self.slash(h, seats[h] * p.seat_slash) for h in no_shows)
            to_honest = 0
            if honest_seats:
                each = slashed * p.honest_slash_bps // BPS // honest_seats
                to_honest = each * honest_seats
                for h in holders:
                    if h in group_of:
                        self.credit(h, each * seats[h])
            to_payer = slashed * p.project_slash_bps // BPS
            self.credit(BURNED, slashed - to_honest - to_payer)
            refund += to_payer
        self.credit(PROJECT, refund)
        return values, finals, disputed, pot

    def open(
        self,
        opening: list[tuple[bytes, list[str]]],
        final_values: list[bytes],
        finals: set[int],
        audited: tuple[bool, ...],
        reward: int,
    ) -> int:
        """``openResults``: attesters whose result stood are paid; returns what was paid."""
        p = self.p.protocol
        fs = reward * p.finalizer_bps // BPS
        final_pot = reward - fs - reward * p.committee_bps // BPS
        speed = reward * p.speed_bps // BPS
        paid = 0
        for i, (result, attesters) in enumerate(opening):
            if i in finals:
                leaf = final_pot if result == final_values[i] else 0
            elif not audited[i]:
                leaf = reward - fs
            else:
                leaf = 0
            if leaf == 0 or not attesters:
                continue
            first = min(speed, leaf)
            each = (leaf - first) // len(attesters)
            first += leaf - first - each * len(attesters)
            for k, a in enumerate(attesters):
                self.credit(a, first + each if k == 0 else each)
            paid += leaf
        return paid

    # ------------------------------------------------------------------ after tier 1

    def committee_voters(
        self,
        i: int,
        holders: list[str],
        seats: dict[str, int],
        revealed: list[str],
        ballots: dict[str, Ballot],
    ) -> list[Voter]:
        return [Voter(h, seats[h], True, ballots[h].vector[i]) for h in holders if h in revealed]

    def challenger(
        self,
        batch_id: int,
        i: int,
        tier: int,
        truth: bytes,
        standing: bytes,
        said: dict[str, bytes],
    ) -> str | None:
        """The first staked identity (registration order) whose strategy challenges ``standing``
        (``said``: what each identity said on the leaf, :func:`opinions_of`)."""
        for name in self.order:
            if self.stake[name] < self.p.protocol.min_stake:
                continue
            ident = self.by[name]
            view = CaseView(
                name,
                ident.owner,
                batch_id,
                i,
                tier,
                truth,
                standing,
                self.s.watcher_online,
                said.get(name),
                self.s.crash_rate,
            )
            if ident.strategy.challenges(view):
                return name
        return None

    def challenge(self, case: Case, who: str, tier: int) -> None:
        bond = self.p.court.challenge_bond * (tier - 1)
        self.report.add(who, -bond)
        case.challenges[tier] = (who, bond, case.value)
        self.report.count("challenges")

    def escalate(self, batch_id: int, i: int, case: Case, truth: bytes) -> bytes:
        """Runs tier 2, and tier 3 when tier 2 does not decide or is challenged; closes the case
        and returns its final value."""
        case.tier = TIER_PANEL
        holders, count = holders_of(
            self.epoch.draw(self.seeds.panel(batch_id, i), self.p.panel_seats)
        )
        panel = [Voter(h, count[h], False, ABSTAIN) for h in holders]
        case.voters[TIER_PANEL] = panel
        best, weight, tied = self.vote(batch_id, i, case, panel, truth)
        if not tied and weight >= self.p.panel_quorum:
            case.value = best
            who = self.challenger(batch_id, i, TIER_ALL, truth, best, case.said)
            if who is None:
                return self.close(case)
            self.challenge(case, who, TIER_ALL)
        case.tier = TIER_ALL
        self.report.count("tier3")
        members = self.epoch.members
        everyone = [Voter(m, self.epoch.stake_of(k), False, ABSTAIN) for k, m in enumerate(members)]
        best, _, tied = self.vote(batch_id, i, case, everyone, truth)
        case.voters[TIER_ALL] = [v for v in everyone if v.revealed]
        case.value = ABSTAIN if tied else best
        return self.close(case)

    def vote(
        self, batch_id: int, i: int, case: Case, voters: list[Voter], truth: bytes
    ) -> tuple[bytes, int, bool]:
        """Commit and reveal of one tier, tallied in voter order as ``DisputeCourt._count`` does."""
        tally: dict[bytes, int] = {}
        best, best_weight, tied = ABSTAIN, 0, False
        for v in voters:
            ident = self.by[v.worker]
            choice = ident.strategy.tier_vote(
                CaseView(
                    v.worker,
                    ident.owner,
                    batch_id,
                    i,
                    case.tier,
                    truth,
                    case.value,
                    self.s.watcher_online,
                )
            )
            if choice is None:
                continue
            v.revealed, v.vote = True, choice
            if choice == ABSTAIN:
                continue
            total = tally.get(choice, 0) + v.weight
            tally[choice] = total
            if choice == best:
                best_weight, tied = total, False
            elif total > best_weight:
                best, best_weight, tied = choice, total, False
            elif total == best_weight:
                tied = True
        return best, best_weight, tied

    def close(self, case: Case) -> bytes:
        """``DisputeCourt._close``: slashes, bonds, the winners' pot, the payer, the burn.

        Winners' weights are in wei of stake: a tier-1 or tier-2 seat weighs ``min_stake``, a
        winning challenger K seats, a tier-3 voter its epoch stake. A seat is paid
        ``pot * min_stake // W``, a tier-3 voter ``pot * stake // W``; a tier-3 loser is slashed
        ``ceil(seat_slash * stake / min_stake)``: splitting a stake never pays more nor costs less.
        """
        p, value = self.p.protocol, case.value
        m = p.min_stake
        slashed = forfeited = win_weight = distributed = withheld = 0
        standing = case.challenges[TIER_PANEL][2] if TIER_PANEL in case.challenges else ABSTAIN
        upheld = case.withheld and value == standing
        if (
            case.withheld and not upheld
        ):  # the overturned value's committee pay: to the pot (or payer)
            withheld = case.withheld
        for t in range(TIER_COMMITTEE, case.tier + 1):
            for v in case.voters.get(t, []):
                if v.revealed:
                    if v.vote == ABSTAIN or value == ABSTAIN:
                        continue
                    if v.vote == value:
                        win_weight += v.weight if t == TIER_ALL else v.weight * m
                        if t == TIER_COMMITTEE and upheld:
                            self.credit(v.worker, case.seat_pay * v.weight)
                        continue
                due = -(-v.weight * p.seat_slash // m) if t == TIER_ALL else v.weight * p.seat_slash
                slashed += self.slash(v.worker, due)
        committee = p.seats
        for t in range(TIER_PANEL, case.tier + 1):
            if t not in case.challenges:
                continue
            who, bond, against = case.challenges[t]
            if value != ABSTAIN and value == against:
                forfeited += bond
            else:
                self.credit(who, bond)
                if value != ABSTAIN:
                    win_weight += committee * m
        pot = slashed * p.honest_slash_bps // BPS + forfeited + withheld
        to_payer = slashed * p.project_slash_bps // BPS
        if value != ABSTAIN:
            pot += case.escrow
        else:
            to_payer += case.escrow
        if win_weight == 0:
            to_payer += pot
            pot = 0
        if case.tier == TIER_COMMITTEE:
            pot = 0  # punish: nobody challenged, so nobody can tell the majority was right: burned
        if pot:
            each = pot * m // win_weight
            for t in range(TIER_COMMITTEE, case.tier + 1):
                for v in case.voters.get(t, []):
                    if v.revealed and v.vote == value:
                        amount = pot * v.weight // win_weight if t == TIER_ALL else each * v.weight
                        self.credit(v.worker, amount)
                        distributed += amount
            for t in range(TIER_PANEL, case.tier + 1):
                if t in case.challenges and case.challenges[t][2] != value:
                    self.credit(case.challenges[t][0], each * committee)
                    distributed += each * committee
        self.credit(BURNED, slashed + forfeited + withheld + case.escrow - distributed - to_payer)
        self.credit(PROJECT, to_payer)
        return value

    # ------------------------------------------------------------------ evidence

    def attestation_slashes(
        self, signed: list[dict[str, bytes]], settled: dict[int, bytes], reward: int
    ) -> None:
        """Every attestation contradicting a settled value, once per batch per worker."""
        c = self.p.court
        done: set[str] = set()
        for i, said in enumerate(signed):
            final = settled.get(i)
            if final is None or final == ABSTAIN:
                continue
            for worker, value in said.items():
                if value in (ABSTAIN, final) or worker in done:
                    continue
                amount = self.stake[worker] * c.attestation_slash_bps // BPS
                if amount == 0:
                    continue
                done.add(worker)
                took = self.slash(worker, amount, "attestation_slashes")
                to_presenter = took * c.presenter_bps // BPS
                rest = took - to_presenter
                to_project = min(reward, rest)
                self.credit(PROJECT, to_presenter + to_project)
                self.presented += to_presenter
                self.credit(BURNED, rest - to_project)


def simulate(scenario: Scenario, params: LabParams | None = None, seed: int = 0) -> Report:
    """Runs ``scenario`` in the fast model with random seeds from ``seed``."""
    return Model(scenario, params, Seeds(random.Random(seed))).run()


__all__ = [
    "Model",
    "RecordedSeeds",
    "Seeds",
    "attesters_for",
    "holders_of",
    "opinions_of",
    "simulate",
]
