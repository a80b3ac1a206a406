"""Drives DisputeCourt cases on the test chain: escalate, seat the panel, vote, decide, challenge, close,
with every commitment computed by ``peerhost.wire.disputes``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from peerhost.chain.headers import header_of
from peerhost.wire.disputes import TIER_ALL, TIER_PANEL, vote_commitment

from .conftest import GOOD, LIE, LIE2, Kit, distinct, seat_until

# IDisputeCourt.CaseState / CasePhase
C_NONE, C_SEEDING, C_VOTING, C_DECIDED, C_CLOSED = range(5)
CP_NONE, CP_SEEDING, CP_COMMIT, CP_REVEAL, CP_DECIDE, CP_DECIDED, CP_CLOSABLE, CP_CLOSED = range(8)


@dataclass
class Court:
    kit: Kit
    by: Mapping[str, Any]

    @property
    def c(self) -> Any:
        return self.kit.s.court

    @property
    def params(self) -> Any:
        return self.c.courtParams()

    def salt(self, worker: Any) -> bytes:
        return keccak(b"vote" + bytes.fromhex(str(worker)[2:]))

    def case(self, b: int, i: int) -> Any:
        return self.c.caseOf(b, i)

    def phase(self, b: int, i: int) -> int:
        return int(self.c.phaseOf(b, i))

    def escalated_leaf(self, n: int | None = 1) -> tuple[Any, int]:
        """(posted, batch id) of a batch of ``n`` leaves (the seating's own default when None)
        whose three distinct seats revealed three different values, finalized, leaf 0
        escalated to tier 2 (its panel not seated yet)."""
        sizes = {} if n is None else {"n": n}
        posted, holders = seat_until(self.kit, distinct(3), **sizes)
        b = posted.batch_id
        vectors = [[GOOD], [LIE], [LIE2]]
        for h, v in zip(holders, vectors, strict=True):
            self.kit.commit(b, self.by[h], v)
        for h, v in zip(holders, vectors, strict=True):
            self.kit.reveal(b, self.by[h], v)
        if self.kit.coordinator.phaseOf(b) == 4:  # Settle
            self.kit.coordinator.finalize(b, vectors, self.kit.hl(b), sender=self.by[holders[0]])
        self.c.escalate(b, 0, vectors, self.kit.hl(b), sender=self.kit.gateway)
        return posted, b

    def seat_panel(self, b: int, i: int) -> list[str]:
        seed_block = int(self.case(b, i).seedBlock)
        head = int(self.kit.chain.blocks.head.number)
        if head <= seed_block:
            self.kit.chain.mine(seed_block - head + 1)
        self.c.seatPanel(b, i, header_of(self.kit.request, seed_block), sender=self.kit.gateway)
        return [str(v.worker) for v in self.c.votersOf(b, i, TIER_PANEL)]

    def member_index(self, worker: str) -> int:
        stakes = self.kit.s.stakes
        epoch = int(self.case_epoch)
        for j in range(int(stakes.epochInfo(epoch).members)):
            if str(stakes.entryAt(epoch, j)[0]) == worker:
                return j
        raise LookupError(worker)

    case_epoch: int = 0

    def commit(self, b: int, i: int, worker: str, value: bytes) -> Any:
        tier = int(self.case(b, i).tier)
        commitment = vote_commitment(
            self.kit.chain.chain_id,
            str(self.c.address),
            b,
            i,
            tier,
            worker,
            value,
            self.salt(worker),
        )
        self.case_epoch = int(self.case(b, i).epoch)
        index = self.member_index(worker) if tier == TIER_ALL else 0
        return self.c.commitVote(b, i, commitment, index, sender=self.by[worker])

    def reveal(self, b: int, i: int, worker: str, value: bytes) -> Any:
        return self.c.revealVote(b, i, value, self.salt(worker), sender=self.by[worker])

    def vote(self, b: int, i: int, choose: Callable[[str], bytes | None]) -> Any:
        """Runs the current tier: every voter ``choose`` gives a value commits and reveals it (None: stays
        away); then decides. Tier 2's voters are its seats, tier 3's every member of the case's epoch."""
        tier = int(self.case(b, i).tier)
        if tier == TIER_PANEL:
            if self.phase(b, i) == CP_SEEDING:
                self.seat_panel(b, i)
            voters = [str(v.worker) for v in self.c.votersOf(b, i, TIER_PANEL)]
        else:
            stakes = self.kit.s.stakes
            epoch = int(self.case(b, i).epoch)
            voters = [
                str(stakes.entryAt(epoch, j)[0])
                for j in range(int(stakes.epochInfo(epoch).members))
            ]
        chosen = {w: choose(w) for w in voters}
        for w, v in chosen.items():
            if v is not None:
                self.commit(b, i, w, v)
        if self.phase(b, i) == CP_COMMIT:
            self.kit.chain.mine(deltatime=int(self.params.commitWindow))
        for w, v in chosen.items():
            if v is not None:
                self.reveal(b, i, w, v)
        if self.phase(b, i) == CP_REVEAL:
            self.kit.chain.mine(deltatime=int(self.params.revealWindow))
        return self.c.decide(b, i, sender=self.kit.gateway)

    def _eligible(self, b: int, i: int) -> list[str]:
        """The current tier's voters: tier 2's seats, tier 3's every member of the case's epoch."""
        if int(self.case(b, i).tier) == TIER_PANEL:
            return [str(v.worker) for v in self.c.votersOf(b, i, TIER_PANEL)]
        stakes, epoch = self.kit.s.stakes, int(self.case(b, i).epoch)
        return [
            str(stakes.entryAt(epoch, j)[0]) for j in range(int(stakes.epochInfo(epoch).members))
        ]

    def _statuses(self, b: int, i: int) -> dict[str, int]:
        """Each voter of the current tier who has a slot: 0 seated, 1 committed, 2 revealed."""
        tier = int(self.case(b, i).tier)
        return {str(v.worker): int(v.status) for v in self.c.votersOf(b, i, tier)}

    def act(self, b: int, i: int, choose: Callable[[str], bytes | None]) -> Any | None:
        """What voters who are online do in a case's phase now, without moving time: seat the panel,
        commit, reveal (``choose`` gives each voter's value; None: stays away), decide once the
        windows allow. Returns the decide transaction, or None while a window still runs."""
        if self.phase(b, i) == CP_SEEDING:
            self.seat_panel(b, i)
        if self.phase(b, i) == CP_COMMIT:
            status = self._statuses(b, i)
            for w in self._eligible(b, i):
                v = choose(w)
                if v is not None and status.get(w, 0) == 0:
                    self.commit(b, i, w, v)
        if self.phase(b, i) == CP_REVEAL:
            for w, s in self._statuses(b, i).items():
                v = choose(w)
                if s == 1 and v is not None:
                    self.reveal(b, i, w, v)
        if self.phase(b, i) == CP_DECIDE:
            return self.c.decide(b, i, sender=self.kit.gateway)
        return None

    def vote_together(
        self, cases: Mapping[tuple[int, int], Callable[[str], bytes | None]]
    ) -> dict[tuple[int, int], Any]:
        """Runs the current tier of every case in ``cases`` together, as voters who are all online do:
        everyone acts in each case's window before time moves on to the nearest deadline, so one
        case's time never lets another's window lapse unasked. Returns each case's decide transaction.
        """
        decided: dict[tuple[int, int], Any] = {}
        for _ in range(
            4 * len(cases) + 4
        ):  # each case decides within its commit and reveal windows
            deadlines: list[int] = []
            for (b, i), choose in cases.items():
                if (b, i) in decided:
                    continue
                tx = self.act(b, i, choose)
                if tx is not None:
                    decided[(b, i)] = tx
                    continue
                c = self.case(b, i)
                commit = self.phase(b, i) == CP_COMMIT
                deadlines.append(int(c.commitDeadline if commit else c.revealDeadline))
            if not deadlines:
                return decided
            self.kit.chain.mine(deltatime=max(1, min(deadlines) - self.kit.now()))
        raise AssertionError(f"cases {sorted(cases)} did not decide")

    def challenge(
        self, b: int, i: int, challenger: Any, vectors: list[list[bytes]] | None = None
    ) -> Any:
        tier = int(self.case(b, i).tier) + 1 if int(self.case(b, i).state) else TIER_PANEL
        bond = int(self.params.challengeBond) * (tier - 1)
        return self.c.challenge(b, i, vectors or [], self.kit.hl(b), value=bond, sender=challenger)

    def close_after_window(self, b: int, i: int) -> Any:
        self.kit.chain.mine(deltatime=int(self.params.challengeWindow))
        return self.c.close(b, i, sender=self.kit.gateway)


def resolve(
    court: Court,
    b: int,
    i: int,
    *,
    truth: bytes,
    lie: bytes,
    adversary: set[str],
    challenger: Any,
    vectors: list[list[bytes]] | None = None,
) -> None:
    """Drives a case to Closed: honest voters say ``truth``, the adversary's say ``lie``; whenever a tier
    decides a value other than the truth, the honest ``challenger`` challenges it."""

    def choose(w: str) -> bytes:
        return lie if w in adversary else truth

    for _ in range(8):
        state = int(court.case(b, i).state)
        if state == C_CLOSED:
            return
        if state == C_NONE:
            court.challenge(b, i, challenger, vectors)
        elif state in (C_SEEDING, C_VOTING):
            court.vote(b, i, choose)
        elif bytes(court.case(b, i).value) != truth:
            court.challenge(b, i, challenger)
        else:
            court.close_after_window(b, i)
    raise AssertionError("the case did not close")
