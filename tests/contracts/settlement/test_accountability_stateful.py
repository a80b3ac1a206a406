"""Protocol v2 accountability as a Hypothesis state machine over the real contracts on the local chain.

The world: three honest workers and two adversary identities with equal stake (the adversary holds
p = 0.4 of the stake: honest workers hold a majority), a bonded gateway, a funded project, and one
honest challenger who is always online.

Moves: the gateway posts one-leaf batches attested by an honest worker, an honest attester with no
stake and the adversary; the committee settles them while the adversary's seats tell one lie, two different lies, withhold their
reveal, abstain or answer honestly (when the draw gives it Q seats it captures the committee); anyone
drives each leaf on — escalates a disputed leaf, seats a panel, votes (the adversary votes its lie in
every tier), decides, closes, punishes after the window — and the honest challenger (a staked worker,
or the unstaked attester on its own bond, by turns) challenges every standing lie; the adversary
spam-challenges true leaves; the gateway opens the attested results (too early: refused; after the
window: no attester of a challenged leaf is paid); anyone presents every attestation it has seen (the
adversary tries to harvest the honest attesters'); the project owner presents its own (colluding)
attester's lie; a seat opens data-availability challenges that the gateway answers or withholds; the
gateway equivocates and anyone presents it. Voters and the honest challenger are online while time
passes: before any time jump every open vote runs to its decision, all open cases together, so no
vote window lapses with its voters never asked.

Invariants after every step:

- no honest worker (seat, voter, attester or challenger) ever loses stake, and no honest challenger's
  bond is ever forfeited;
- a Final leaf has a value with >= Q agreeing seats;
- committee pay is never credited before the challenge window: settlement credits no seat;
- nobody keeps pay for an overturned leaf: a challenge takes the leaf's committee pay into its case,
  which credits none of it to a seat of the overturned value (it goes to the winners) and all of it
  to the seats of an upheld value; no attester of a challenged leaf is paid;
- a self-dealing owner presenting its own attester's lie gets back less than the attester lost;
- every closed case decided the truth, at tier 3 or with >= K + 1 panel seats or >= Q committee
  seats (a finalized leaf has >= Q agreeing seats or came from the final tier);
- DisputeCourt holds exactly its credits + burned + the rewards of unresolved disputed leaves +
  the bonds of open challenges; EvidenceCourt exactly its credits + burned + open data bonds;
- every challenge bond is settled (returned or forfeited) exactly once, when its case closes; every
  data bond exactly once (to the gateway that published, or back to the challenger).

CI runs ``PEERHOST_ACCOUNTABILITY_EXAMPLES`` (default 100) short sequences without shrinking; the long
run (both machines, across processes) is::

    python bench/campaign.py --sequences 10000 --procs 2

The chain is reached through ``leanchain`` (the same calls and transactions as through ape, one
JSON-RPC request per read); ``PEERHOST_STATEFUL_APE=1`` sends them through ape instead.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
import time
from typing import Any

import pytest
from ape.exceptions import ContractLogicError
from hypothesis import HealthCheck, settings
from hypothesis import Phase as HPhase
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from peerhost.deploy import ETHER
from peerhost.wire.batch import ABSTAIN, Leaf, merkle_proof, results_opening
from peerhost.wire.disputes import TIER_ALL, TIER_COMMITTEE, TIER_PANEL
from peerhost.wire.ticket import sign_attestation, sign_ticket, ticket_hash

from .conftest import (
    GOOD,
    KEY,
    L_DISPUTED,
    L_FINAL,
    LIE,
    LIE2,
    RESULT_SALT,
    S_FINALIZED,
    Posted,
)
from .courtkit import C_CLOSED, C_DECIDED, C_NONE, C_SEEDING, C_VOTING, Court
from .leanchain import LeanChain, lean_kit
from .stateful_report import first_failure, progress, report

CREDIT_SEAT = 0  # ISettlementCoordinator Credited reason
COURT_SEAT_PAY = 3  # IDisputeCourt Credited reason: an upheld challenged leaf's committee pay


def _holders_seats(k: Any, b: int) -> tuple[list[str], list[int]]:
    holders, seats = k.holders_of(b)
    return [str(h) for h in holders], [int(n) for n in seats]


def _seat_pay(k: Any, b: int) -> int:
    """A Final leaf's committee pay per agreeing seat of batch ``b``."""
    batch = k.coordinator.getBatch(b)
    r = int(batch.reward)
    fs = r * k.params.finalizer_bps // 10_000
    share = (
        r * k.params.committee_bps // 10_000
        if bytes(batch.resultsCommitment) != bytes(32)
        else r - fs
    )
    return share // k.params.seats


EXAMPLES = int(os.environ.get("PEERHOST_ACCOUNTABILITY_EXAMPLES", "100"))
STEPS = int(os.environ.get("PEERHOST_ACCOUNTABILITY_STEPS", "6"))
# The machine talks to the chain through leanchain's thin client (same calls, same transactions,
# one JSON-RPC request per read); PEERHOST_STATEFUL_APE=1 sends them through ape instead.
LEAN = os.environ.get("PEERHOST_STATEFUL_APE", "") in ("", "0")
PROFILE = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    phases=[HPhase.explicit, HPhase.reuse, HPhase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
STRATEGIES = ["honest", "one_lie", "two_lies", "withhold", "abstain"]
RUNS: dict[str, int] = {
    "sequences": 0,
    "steps": 0,
    "settled": 0,
    "disputed": 0,
    "driven": 0,
    "cases": 0,
    "closed": 0,
    "slashes": 0,
    "data": 0,
    "attester_challenges": 0,
    "overturned": 0,
    "seat_pay_withheld": 0,
    "opened": 0,
    "early_opens_refused": 0,
    "self_dealing": 0,
}
PROGRESS_EVERY = 100  # sequences between progress lines in long runs
STARTED = [0.0]  # monotonic time the run started (for the campaign's report)


def _recorded(fn: Any, counted: bool) -> Any:
    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        RUNS["steps"] += counted
        try:
            return fn(self, *args, **kwargs)
        except Exception as err:
            # Seats come from each block's prevrandao, so Hypothesis's replay of a failing sequence can
            # fail elsewhere (it then reports a flaky strategy): print the first failure as it happens.
            print(
                f"\naccountability stateful: {fn.__name__}{kwargs} failed: {err!r}", file=sys.stderr
            )
            first_failure("accountability", RUNS, STARTED[0], f"{fn.__name__}{kwargs}: {err!r}")
            raise

    return wrapper


def step(fn: Any) -> Any:
    """A move: counted (the campaign reports steps), its first failure printed as it happens."""
    return _recorded(fn, counted=True)


def checked(fn: Any) -> Any:
    """An invariant: its first failure printed as it happens."""
    return _recorded(fn, counted=False)


@dataclasses.dataclass
class Tracked:
    posted: Posted
    holders: list[str]
    votes: dict[str, bytes]  # revealed tier-1 values
    strategy: str
    seat_pay: dict[
        str, int
    ]  # committee pay each holder is owed for the leaf (credited after the window)
    opened: bool = False


class AccountabilityMachine(RuleBasedStateMachine):
    court: Court
    honest: list[Any]
    adversary: list[Any]
    stranger: Any
    attester: Any  # honest, never staked
    owner: Any  # the project owner
    everyone: list[Any]

    def __init__(self) -> None:
        super().__init__()
        self.kit = self.court.kit
        self.snap = self.kit.chain.snapshot()
        self.leaves: list[Tracked] = []
        self.honest_stake = {str(w.address): self._stake(w) for w in self.honest}
        self.bad = {str(w.address) for w in self.adversary}
        self.settled_bonds: set[tuple[int, int]] = set()
        self.open_data: set[int] = set()
        self._fetched = (-1, False)
        RUNS["sequences"] += 1
        if EXAMPLES >= 1000 and RUNS["sequences"] % PROGRESS_EVERY == 0:
            print(f"accountability stateful progress: {RUNS}", file=sys.stderr, flush=True)

    def teardown(self) -> None:
        self.kit.chain.restore(self.snap)
        progress("accountability", RUNS, STARTED[0])

    # ------------------------------------------------------------------ helpers

    def _stake(self, w: Any) -> int:
        s = self.kit.s.stakes.getStaker(w)
        return int(s.stake) + int(s.unbonding)

    def _lie_of(self, h: str, strategy: str) -> bytes:
        order = sorted(self.bad)
        return LIE2 if strategy == "two_lies" and h == order[-1] else LIE

    def _attestation(self, t: Tracked, signer: Any, result: bytes) -> tuple[Any, ...]:
        k = self.kit
        ticket = t.posted.tickets[0]
        sig = sign_attestation(
            signer.private_key,
            k.chain.chain_id,
            str(k.coordinator.address),
            ticket_hash(ticket),
            result,
        )
        b = k.coordinator.getBatch(t.posted.batch_id)
        fv = (
            [GOOD]
            if bytes(b.finalVectorHash) != bytes(32)
            and k.coordinator.leafState(t.posted.batch_id, 0) == L_FINAL
            else []
        )
        return (
            ticket.as_tuple(),
            result,
            sig,
            t.posted.batch_id,
            0,
            merkle_proof([Leaf.of(ticket).hash()], 0),
            fv,
        )

    def _standing(self, t: Tracked) -> bytes:
        """The tier-1 final value: the one with >= Q seats (seats, not holders, count)."""
        holders, seats = self.kit.holders_of(t.posted.batch_id)
        weight: dict[bytes, int] = {}
        for h, n in zip(holders, seats, strict=True):
            v = t.votes.get(str(h))
            if v is not None and v != ABSTAIN:
                weight[v] = weight.get(v, 0) + int(n)
        return next((v for v, w in weight.items() if w >= self.kit.params.quorum), ABSTAIN)

    def _vectors(self, t: Tracked) -> list[list[bytes]]:
        return [[v] for v in dict.fromkeys(t.votes.values())]

    # ------------------------------------------------------------------ moves

    @rule(strategy=st.sampled_from(STRATEGIES), drive=st.integers(0, 6))
    @step
    def committee_settles(self, strategy: str, drive: int) -> None:
        """A batch settles by its committee, then anyone drives its leaf ``drive`` steps on."""
        k, by = self.kit, self.court.by
        posted = k.post(1, attesters=[self.honest[0], self.attester, self.adversary[0]])
        b = posted.batch_id
        holders = k.seat(b)
        votes: dict[str, bytes] = {}
        for h in holders:
            if h in self.bad and strategy != "honest":
                v = ABSTAIN if strategy == "abstain" else self._lie_of(h, strategy)
            else:
                v = GOOD
            k.commit(b, by[h], [v])
            if not (h in self.bad and strategy == "withhold"):
                votes[h] = v
        tx = None
        for h, v in votes.items():
            tx = k.reveal(b, by[h], [v])
        if k.coordinator.phaseOf(b) not in (5, 6):
            self._pass_time(k.params.commit_window + k.params.reveal_window)
            tx = k.coordinator.finalize(
                b, [[v] for v in dict.fromkeys(votes.values())] or [], k.hl(b), sender=k.gateway
            )
        early = [
            e
            for e in (tx.events.filter(k.coordinator.Credited) if tx is not None else [])
            if int(e.reason) == CREDIT_SEAT
        ]
        assert early == [], "committee pay was credited before the challenge window"
        seat_pay: dict[str, int] = {}
        if int(k.coordinator.leafState(b, 0)) == L_FINAL:
            holders_seats = list(zip(*_holders_seats(k, b), strict=True))
            tally: dict[bytes, int] = {}
            for h, n in holders_seats:
                if votes.get(h, ABSTAIN) != ABSTAIN:
                    tally[votes[h]] = tally.get(votes[h], 0) + n
            [value] = [v for v, n in tally.items() if n >= k.params.quorum]
            each = _seat_pay(k, b)
            seat_pay = {h: each * n for h, n in holders_seats if votes.get(h) == value}
        self.leaves.append(Tracked(posted, holders, votes, strategy, seat_pay))
        RUNS["settled"] += 1
        RUNS["disputed"] += int(k.coordinator.leafState(b, 0)) == L_DISPUTED
        self._watch()
        for step in range(drive):
            if int(self.court.case(b, 0).state) == C_CLOSED:
                break
            if step == drive // 2 and drive % 2:
                self._open(self.leaves[-1])  # the gateway opens the results mid-way
            self._drive(self.leaves[-1], drive)
            self._watch()
        if drive % 2:
            self._open(self.leaves[-1])

    @rule(i=st.integers(0, 7), steps=st.integers(1, 6))
    @step
    def anyone_drives_a_leaf(self, i: int, steps: int) -> None:
        """Up to ``steps`` steps of a leaf's accountability, the honest challenger online."""
        court = self.court.c
        live = [t for t in self.leaves if int(court.caseOf(t.posted.batch_id, 0).state) != C_CLOSED]
        if not live:
            return
        t = live[-1 - i % len(live)]  # the newest first
        RUNS["driven"] += 1
        for _ in range(steps):
            if int(self.court.case(t.posted.batch_id, 0).state) == C_CLOSED:
                return
            self._drive(t, i)
            self._watch()

    def _drive(self, t: Tracked, i: int) -> None:
        court, k = self.court, self.kit
        b = t.posted.batch_id
        c = court.case(b, 0)
        state = int(c.state)
        leaf = int(k.coordinator.leafState(b, 0))
        if state == C_NONE and leaf == L_DISPUTED:
            court.c.escalate(b, 0, self._vectors(t), court.kit.hl(b), sender=self.stranger)
            RUNS["cases"] += 1
        elif state == C_NONE and leaf == L_FINAL:
            standing = self._standing(t)
            ends = int(k.coordinator.getBatch(b).finalizedAt) + int(court.params.challengeWindow)
            if standing != GOOD and k.now() < ends:
                self._challenge(t, i)
            else:
                if k.now() < ends:
                    self._pass_time(ends - k.now())
                    self._watch()
                    if int(court.case(b, 0).state) != C_NONE:
                        return
                self._closed(
                    b, court.c.punish(b, 0, self._vectors(t), court.kit.hl(b), sender=self.stranger)
                )
        elif state in (C_SEEDING, C_VOTING):
            self._vote_round()
        elif state == C_DECIDED:
            if bytes(c.value) != GOOD:
                self._challenge(t, i)
            else:
                self._pass_time(int(court.params.challengeWindow))
                self._watch()
                self._closed(b, court.c.close(b, 0, sender=self.stranger))

    def _choose(self, t: Tracked) -> Any:
        """Each voter's value in ``t``'s case: the adversary votes its lie in every tier."""
        return lambda w: (
            self._lie_of(w, t.strategy) if w in self.bad and t.strategy != "honest" else GOOD
        )

    def _voting(self) -> list[Tracked]:
        return [
            t
            for t in self.leaves
            if int(self.court.case(t.posted.batch_id, 0).state) in (C_SEEDING, C_VOTING)
        ]

    def _vote_round(self) -> None:
        """Every case in its vote windows runs its current tier, all together (voters are online in
        every case at once: one case's windows must not let another's lapse unasked)."""
        voting = {(t.posted.batch_id, 0): self._choose(t) for t in self._voting()}
        for (b, _), tx in self.court.vote_together(voting).items():
            if int(self.court.case(b, 0).state) == C_CLOSED:
                self._closed(b, tx)

    def _pass_time(self, seconds: int) -> None:
        """A time jump. Voters and the honest challenger are online while time passes: every open vote
        runs to its decision (a lie decided is challenged, and that tier voted too) before time moves."""
        for _ in range(
            4
        ):  # tier 2, its challenge, tier 3: every open case closes within these rounds
            if not self._voting():
                break
            self._vote_round()
            self._watch()
        assert not self._voting(), "a case still votes before a time jump"
        self.kit.chain.mine(deltatime=seconds)

    def _watch(self) -> None:
        """The honest challenger, always online: challenges every standing lie while its window is open."""
        court, k = self.court, self.kit
        self._prefetch(everything=False)
        for n, t in enumerate(self.leaves):
            b = t.posted.batch_id
            c = court.case(b, 0)
            state = int(c.state)
            if state == C_NONE and int(k.coordinator.leafState(b, 0)) == L_FINAL:
                standing = self._standing(t)
                ends = int(k.coordinator.getBatch(b).finalizedAt) + int(
                    court.params.challengeWindow
                )
                if standing != GOOD and k.now() < ends:
                    self._challenge(t, n)
            elif state == C_DECIDED and bytes(c.value) != GOOD:
                assert k.now() < int(c.decidedAt) + int(court.params.challengeWindow)
                self._challenge(t, n)

    def _challenge(self, t: Tracked, n: int) -> None:
        """The honest challenger challenges a standing lie: by turns a staked worker, or the unstaked
        attester on its own bond with its attestation of the truth."""
        court, k = self.court, self.kit
        b = t.posted.batch_id
        first = int(court.case(b, 0).state) == C_NONE
        vectors = self._vectors(t) if first else []
        tier = TIER_PANEL if first else int(court.case(b, 0).tier) + 1
        bond = int(court.params.challengeBond) * (tier - 1)
        if n % 2:
            ticket = t.posted.tickets[0]
            sig = sign_attestation(
                self.attester.private_key,
                k.chain.chain_id,
                str(k.coordinator.address),
                ticket_hash(ticket),
                GOOD,
            )
            proof = (ticket.as_tuple(), GOOD, sig, merkle_proof([Leaf.of(ticket).hash()], 0))
            court.c.challengeAsAttester(
                b, 0, vectors, court.kit.hl(b), proof, value=bond, sender=self.attester
            )
            RUNS["attester_challenges"] += 1
        else:
            court.challenge(b, 0, self.honest[n % len(self.honest)], vectors)
        RUNS["cases"] += 1

    def _closed(self, b: int, tx: Any) -> None:
        RUNS["closed"] += 1
        honest = {str(w.address) for w in self.honest} | {str(self.attester.address)}
        for e in tx.events.filter(self.court.c.BondSettled):
            key = (b, int(e.tier))
            assert key not in self.settled_bonds, f"bond {key} settled twice"
            self.settled_bonds.add(key)
            assert not (e.forfeited and str(e.challenger) in honest), "an honest bond was forfeited"
        t = next(x for x in self.leaves if x.posted.batch_id == b)
        c = self.court.case(b, 0)
        standing = bytes(self.court.c.challengeOf(b, 0, TIER_PANEL).against)
        seat_credits: dict[str, int] = {}
        for e in tx.events.filter(self.court.c.Credited):
            if int(e.reason) == COURT_SEAT_PAY:
                seat_credits[str(e.account)] = seat_credits.get(str(e.account), 0) + int(e.amount)
        if (
            c.wasFinal and standing != ABSTAIN
        ):  # a challenged Final leaf: its committee pay was the case's
            RUNS["seat_pay_withheld"] += 1
            if standing == bytes(c.value):
                assert seat_credits == t.seat_pay, "an upheld leaf's seats were not paid their pay"
            else:
                RUNS["overturned"] += int(bytes(c.value) != ABSTAIN)
                assert seat_credits == {}, f"{seat_credits} kept pay for an overturned leaf"
        for tier in (TIER_PANEL, TIER_ALL):
            ch = self.court.c.challengeOf(b, 0, tier)
            if int(ch.bond):
                assert (b, tier) in self.settled_bonds, f"bond {(b, tier)} never settled"
        RUNS["slashes"] += len(list(tx.events.filter(self.court.c.VoterSlashed)))

    @rule(i=st.integers(0, 7))
    @step
    def adversary_spam_challenges(self, i: int) -> None:
        if not self.leaves:
            return
        t = self.leaves[i % len(self.leaves)]
        b = t.posted.batch_id
        court, k = self.court, self.kit
        spammer = self.adversary[i % 2]
        c = court.case(b, 0)
        if int(c.state) != C_NONE or int(k.coordinator.leafState(b, 0)) != L_FINAL:
            return
        ends = int(k.coordinator.getBatch(b).finalizedAt) + int(court.params.challengeWindow)
        if k.now() >= ends or self._stake(spammer) < k.params.min_stake:
            return
        if any(v != GOOD for v in t.votes.values()):
            return  # only true leaves: spam
        court.challenge(b, 0, spammer, self._vectors(t))

    @rule(i=st.integers(0, 7))
    @step
    def anyone_presents_attestations(self, i: int) -> None:
        """Everyone presents both attestations of a leaf (the adversary tries to harvest the honest one)."""
        if not self.leaves:
            return
        t = self.leaves[i % len(self.leaves)]
        ev = self.kit.s.evidence
        for signer, result in (
            (self.honest[0], GOOD),
            (self.attester, GOOD),
            (self.adversary[0], LIE),
        ):
            try:
                tx = ev.slashAttestation(
                    self._attestation(t, signer, result), sender=self.adversary[1]
                )
            except ContractLogicError:
                continue  # not settled, not contradicting, already slashed, voided, ...
            assert signer in self.adversary, "an honest attestation was slashed"
            assert tx.events.filter(ev.AttestationSlashed)

    @rule(publish=st.booleans())
    @step
    def seat_challenges_data(self, publish: bool) -> None:
        k, court, ev = self.kit, self.court, self.kit.s.evidence
        posted = k.post(1)
        b = posted.batch_id
        holders = k.seat(b)
        leaf = Leaf.of(posted.tickets[0])
        bond = int(court.params.dataBond)
        ev.openDataChallenge(
            b, 0, leaf.encode(), [], k.hl(b), value=bond, sender=court.by[holders[0]]
        )
        RUNS["data"] += 1
        if publish:
            tx = ev.publishInput(b, 0, posted.tickets[0].seq.to_bytes(8, "big"), sender=k.gateway)
        else:
            self._pass_time(int(court.params.dataWindow))
            self._watch()
            tx = ev.voidTicket(b, 0, sender=self.stranger)
        bonds = [e for e in tx.events.filter(ev.Credited) if int(e.reason) in (1, 2)]
        assert [(str(e.account), int(e.amount)) for e in bonds] == [
            (str(k.gateway.address) if publish else holders[0], bond)
        ], "a data bond did not end exactly once"
        for again in (
            lambda: ev.voidTicket(b, 0, sender=self.stranger),
            lambda: ev.publishInput(
                b, 0, posted.tickets[0].seq.to_bytes(8, "big"), sender=k.gateway
            ),
        ):
            try:
                again()
            except ContractLogicError:
                continue
            raise AssertionError("a data bond ended twice")
        if not publish and int(k.s.gateways.bondOf(k.gateway).amount) < k.params.min_gateway_bond:
            k.s.gateways.bond(value=2 * ETHER, sender=k.gateway)

    @rule(i=st.integers(0, 7))
    @step
    def gateway_opens_results(self, i: int) -> None:
        """The gateway opens a batch's attested results: refused inside the challenge window; after
        it, no attester of a challenged leaf is paid (its share goes back to the payer)."""
        k = self.kit
        ready = [
            t
            for t in self.leaves
            if not t.opened and int(k.coordinator.getBatch(t.posted.batch_id).state) == S_FINALIZED
        ]
        if not ready:
            return
        self._open(ready[i % len(ready)])

    def _open(self, t: Tracked) -> None:
        k = self.kit
        b = t.posted.batch_id
        batch = k.coordinator.getBatch(b)
        if t.opened or int(batch.state) != S_FINALIZED:
            return
        if k.now() >= int(batch.finalizedAt) + k.params.open_window:
            return
        # Opening waits out the batch's challenge window (a time jump): a tier of any case still in
        # its vote windows would lapse with the honest voters never asked. Open once no case votes.
        for x in self.leaves:
            if int(self.court.case(x.posted.batch_id, 0).state) in (C_SEEDING, C_VOTING):
                return
        final = [self._standing(t) if int(batch.finalMask) & 1 else ABSTAIN]  # the tier-1 vector
        window_end = int(batch.finalizedAt) + int(self.court.params.challengeWindow)
        if k.now() < window_end:
            try:
                k.coordinator.openResults(
                    b,
                    RESULT_SALT,
                    results_opening(t.posted.results),
                    final,
                    k.cosignatures(t.posted.batch_id, t.posted.tickets, t.posted.results),
                    sender=k.gateway,
                )
            except ContractLogicError:
                RUNS["early_opens_refused"] += 1
            else:
                raise AssertionError("attesters were paid inside the challenge window")
            self._watch()  # the honest challenger acts before the window closes
        tx = k.open(t.posted, final)
        t.opened = True
        RUNS["opened"] += 1
        paid = [e for e in tx.events.filter(k.coordinator.Credited) if int(e.reason) == 2]
        if int(self.court.c.unpaidLeaves(b)) & 1:
            assert int(self.court.c.challengeOf(b, 0, TIER_PANEL).bond) > 0
            assert paid == [], "an attester of a challenged leaf was paid on its tier-1 value"
        elif final == [GOOD]:  # the attested result stood unchallenged: its attesters are paid
            assert {str(e.account) for e in paid} == set(t.posted.results[0].attesters)
        self._watch()

    @rule()
    @step
    def owner_presents_its_own_attesters_lie(self) -> None:
        """A self-dealing owner presents its own (colluding) attester's lie: it gets back the presenter's
        share and the ticket's reward, less than the attester loses."""
        settled = [
            t
            for t in self.leaves
            if int(self.kit.coordinator.leafState(t.posted.batch_id, 0)) == L_FINAL
        ]
        if not settled:
            return
        ev = self.kit.s.evidence
        try:
            tx = ev.slashAttestation(
                self._attestation(settled[-1], self.adversary[0], LIE), sender=self.owner
            )
        except ContractLogicError:
            return  # not settled yet, already slashed in the batch, voided, equivocated, ...
        [slash] = tx.events.filter(ev.AttestationSlashed)
        [split] = tx.events.filter(ev.EvidenceSplit)
        gained = int(split.toPresenter) + int(split.toProject)
        assert gained < int(slash.amount), "a self-dealing owner profited from its attester's lie"
        RUNS["self_dealing"] += 1

    @rule()
    @step
    def gateway_equivocates(self) -> None:
        if not self.leaves:
            return
        k = self.kit
        t = self.leaves[-1].posted.tickets[0]
        if k.s.evidence.isEquivocated(t.gateway, t.seq):
            return
        twin = dataclasses.replace(t, input_hash=b"\x07" * 32)
        coordinator = str(k.coordinator.address)
        sa = sign_ticket(k.gateway.private_key, k.chain.chain_id, coordinator, t)
        sb = sign_ticket(k.gateway.private_key, k.chain.chain_id, coordinator, twin)
        k.s.evidence.proveEquivocation(t.as_tuple(), sa, twin.as_tuple(), sb, sender=self.stranger)
        k.s.gateways.bond(value=2 * ETHER, sender=k.gateway)  # a new bond to keep posting

    # ------------------------------------------------------------------ invariants

    def _prefetch(self, everything: bool = True) -> None:
        """Harness speed only (the lean client): what the invariants (or, without ``everything``, the
        honest challenger's watch) read next, fetched in one round trip and kept until the state
        changes. The checks themselves read through the same calls as ever."""
        chain = self.kit.chain
        if not isinstance(chain, LeanChain) or self._fetched == (chain.generation, everything):
            return
        self._fetched = (chain.generation, everything)
        co, court, ev = self.kit.coordinator, self.court.c, self.kit.s.evidence
        calls: list[tuple[Any, tuple[Any, ...]]] = [(court.courtParams, ())]
        for t in self.leaves:
            b = t.posted.batch_id
            calls += [(court.caseOf, (b, 0)), (co.leafState, (b, 0)), (co.getBatch, (b,))]
            if everything:
                calls += [(court.challengeOf, (b, 0, tier)) for tier in (TIER_PANEL, TIER_ALL)]
        if everything:
            calls += [(c.pendingWithdrawal, (a,)) for c in (court, ev) for a in self.everyone]
            calls += [(court.burned, ()), (ev.burned, ())]
            calls += [(self.kit.s.stakes.getStaker, (w,)) for w in self.honest]
        chain.prefetch(calls, balances=[court, ev] if everything else [])

    @invariant()
    @checked
    def no_honest_worker_slashed(self) -> None:
        self._prefetch()
        for w in self.honest:
            assert self._stake(w) == self.honest_stake[str(w.address)], f"{w.address} was slashed"

    @invariant()
    @checked
    def closed_cases_decided_the_truth_by_a_quorum_or_the_final_tier(self) -> None:
        self._prefetch()
        court, p = self.court, self.kit.params
        for t in self.leaves:
            c = court.case(t.posted.batch_id, 0)
            if int(c.state) != C_CLOSED:
                continue
            assert bytes(c.value) == GOOD, "a forgery stood"
            tier = int(c.tier)
            if tier == TIER_PANEL:
                assert int(c.bestWeight) >= p.seats + 1 and bytes(c.best) == GOOD
            elif tier == TIER_COMMITTEE:
                assert self._standing(t) == GOOD
                assert int(self.kit.coordinator.leafState(t.posted.batch_id, 0)) == L_FINAL

    @invariant()
    @checked
    def final_leaves_have_a_quorum(self) -> None:
        self._prefetch()
        for t in self.leaves:
            if int(self.kit.coordinator.leafState(t.posted.batch_id, 0)) == L_FINAL:
                assert self._standing(t) != ABSTAIN, "a leaf finalized without Q agreeing seats"

    @invariant()
    @checked
    def courts_solvent_to_the_wei(self) -> None:
        self._prefetch()
        k, court = self.kit, self.court.c
        held = 0
        for t in self.leaves:
            b = t.posted.batch_id
            c = court.caseOf(b, 0)
            if int(c.state) == C_CLOSED:
                continue
            if int(c.state) == C_NONE:
                if int(k.coordinator.leafState(b, 0)) == L_DISPUTED:
                    held += int(t.posted.tickets[0].reward)
                continue
            held += int(c.escrow)
            if c.wasFinal:  # a challenged Final leaf: its committee pay waits in the case
                held += sum(t.seat_pay.values())
            held += sum(int(court.challengeOf(b, 0, tier).bond) for tier in (TIER_PANEL, TIER_ALL))
        pending = sum(int(court.pendingWithdrawal(a)) for a in self.everyone)
        balance = k.chain.provider.get_balance(court.address)
        assert balance == pending + int(court.burned()) + held, (
            "DisputeCourt is not solvent to the wei"
        )
        ev = k.s.evidence
        ev_pending = sum(int(ev.pendingWithdrawal(a)) for a in self.everyone)
        assert k.chain.provider.get_balance(ev.address) == ev_pending + int(ev.burned())


def _world(
    kit: Any,
    workers: Any,
    accounts: Any,
    stranger: Any,
    requester: Any,
    developer: Any,
    accounts_by_address: Any,
) -> None:
    """The machine's world: three honest workers, two adversary identities, a funded project."""
    kit.stake(workers[:3], 2 * ETHER)
    for a in workers[3:5]:
        kit.s.stakes.register(KEY, value=2 * ETHER, sender=a)
    kit.advance_epoch()
    kit.open_project(reserve=5 * ETHER)
    AccountabilityMachine.court = Court(lean_kit(kit) if LEAN else kit, accounts_by_address)
    AccountabilityMachine.honest = list(workers[:3])
    AccountabilityMachine.adversary = list(workers[3:5])
    AccountabilityMachine.stranger = stranger
    AccountabilityMachine.attester = requester
    AccountabilityMachine.owner = developer
    AccountabilityMachine.everyone = [accounts[i] for i in range(10)]
    RUNS.update(dict.fromkeys(RUNS, 0))
    # Chain time moves one second per block and by explicit jumps only, never with the wall clock: on a
    # busy machine a slow test must not see a vote window pass between two of its own transactions.
    kit.request("anvil_setBlockTimestampInterval", [1])


def _check(machine: AccountabilityMachine) -> None:
    machine.no_honest_worker_slashed()
    machine.closed_cases_decided_the_truth_by_a_quorum_or_the_final_tier()
    machine.final_leaves_have_a_quorum()
    machine.courts_solvent_to_the_wei()


def test_accountability__data_window_jump_during_a_tier3_vote__voters_vote_first_and_truth_stands(
    kit, workers, accounts, stranger, requester, developer, accounts_by_address
):
    """Campaign seed 1101: a data challenge's time jump (dataWindow = the court's commitWindow) let an
    open tier-3 vote lapse with no voter asked; driving the leaf then called commitVote in Decide
    (WrongCasePhase). Online voters act in every open window before the harness moves time."""
    _world(kit, workers, accounts, stranger, requester, developer, accounts_by_address)
    m = AccountabilityMachine()
    try:
        m.committee_settles(strategy="honest", drive=0)  # a true leaf, Final at tier 1
        t = m.leaves[-1]
        b = t.posted.batch_id
        m.court.challenge(b, 0, m.adversary[0], m._vectors(t))  # spam: tier 2
        m.anyone_drives_a_leaf(i=0, steps=1)  # the panel decides the truth
        assert int(m.court.case(b, 0).state) == C_DECIDED
        m.court.challenge(b, 0, m.adversary[1])  # spam again: tier 3 opens its vote windows
        assert int(m.court.case(b, 0).state) == C_VOTING
        assert int(m.court.case(b, 0).tier) == TIER_ALL
        m.seat_challenges_data(publish=False)  # the gateway withholds: dataWindow passes
        _check(m)
        m.anyone_drives_a_leaf(i=0, steps=1)
        c = m.court.case(b, 0)
        assert int(c.state) == C_CLOSED and bytes(c.value) == GOOD
        _check(m)
    finally:
        m.teardown()
        kit.request("anvil_removeBlockTimestampInterval", [])


def test_accountability__two_tier3_votes_open_at_once__driving_one_lapses_neither(
    kit, workers, accounts, stranger, requester, developer, accounts_by_address
):
    """One case's vote windows (its commit and reveal time) must not let another open case's lapse."""
    _world(kit, workers, accounts, stranger, requester, developer, accounts_by_address)
    m = AccountabilityMachine()
    try:
        for _ in range(2):
            m.committee_settles(strategy="honest", drive=0)
        cases = [t.posted.batch_id for t in m.leaves]
        for b, t in zip(cases, m.leaves, strict=True):
            m.court.challenge(b, 0, m.adversary[0], m._vectors(t))  # spam: tier 2
        for b in cases:  # the panels decide the truth, one case after the other
            m.court.vote(b, 0, lambda w: GOOD)
        assert [int(m.court.case(b, 0).state) for b in cases] == [C_DECIDED, C_DECIDED]
        for b in cases:
            m.court.challenge(b, 0, m.adversary[1])  # spam again: two tier-3 votes open at once
        for _ in range(2):
            m.anyone_drives_a_leaf(i=0, steps=1)  # the newest live case
        for b in cases:
            c = m.court.case(b, 0)
            assert int(c.state) == C_CLOSED and bytes(c.value) == GOOD
        _check(m)
    finally:
        m.teardown()
        kit.request("anvil_removeBlockTimestampInterval", [])


@pytest.mark.slow
def test_accountability__random_sequences__invariants_hold(
    kit, workers, accounts, stranger, requester, developer, accounts_by_address, capsys
):
    _world(kit, workers, accounts, stranger, requester, developer, accounts_by_address)
    started = STARTED[0] = time.monotonic()
    failure = None
    try:
        run_state_machine_as_test(AccountabilityMachine, settings=PROFILE)
    except Exception as err:  # not KeyboardInterrupt: the campaign stops a chunk with SIGINT
        failure = f"{type(err).__name__}: {err}"[:4000]
        raise
    finally:
        report("accountability", RUNS, started, failure=failure, done=True)
        kit.request("anvil_removeBlockTimestampInterval", [])
        with capsys.disabled():
            print(f"\naccountability stateful: {RUNS} in {time.monotonic() - started:.1f} s")
    assert RUNS["sequences"] >= EXAMPLES
