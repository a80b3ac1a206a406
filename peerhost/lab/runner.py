"""The scenario runner on the real contracts: a population with strategies, N batches on a chain.

Each batch lives its whole life through transactions (post, seat from a proven header, commits,
reveals, finalize, open, challenges, escalation tiers, punish, attestation slashes), with every
decision taken by the same strategy objects and in the same order as the fast model
(:mod:`peerhost.lab.model`). The report measures each identity's wei before and after (balance,
credits in every contract, stake) with the gas it paid added back, and reports the gas apart;
the seeds the chain drew are kept, so the model can replay the run and be compared to the wei.

Reached only through :mod:`peerhost.lab.adapter`. Used by ``ape run simulate`` and the console.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peerhost.deploy import CourtParams, SettlementParams
from peerhost.lab.adapter import (
    CASE_CLOSED,
    CASE_DECIDED,
    LEAF_DISPUTED,
    LEAF_FINAL,
    TIER_ALL,
    TIER_PANEL,
    Contracts,
    Posted,
)
from peerhost.lab.gateways import (
    TimingPosts,
    abstain_on,
    equivocates,
    opening_reserve,
    withheld,
)
from peerhost.lab.model import Epoch, RecordedSeeds, attesters_for, opinions_of, trace_entry
from peerhost.lab.params import LabParams
from peerhost.lab.report import BURNED, GATEWAY, PROJECT, Report
from peerhost.lab.scenario import Scenario
from peerhost.lab.strategies import Ballot, CaseView, LeafView, SeatView, truth_of
from peerhost.wire.batch import ABSTAIN


class NotEnoughAccounts(ValueError):
    def __init__(self, need: int, have: int) -> None:
        super().__init__(
            f"The scenario needs {need} worker accounts and 2 more (gateway, project owner); "
            f"{have} are available. Use fewer identities or more test accounts."
        )


@dataclass
class ChainRun:
    """A chain run's report, the seeds it drew and the parameters it ran with."""

    report: Report
    seeds: RecordedSeeds
    params: LabParams
    gas_by_step: dict[str, int] = field(default_factory=dict)


class Runner:
    """Runs one :class:`Scenario` on a fresh deployment.

    Args:
        project: ape project; chain: ape chain manager.
        accounts: Funded accounts: the first deploys and acts as the gateway, the second owns
            the project, the rest become the scenario's identities in order.
    """

    def __init__(
        self,
        project: Any,
        chain: Any,
        accounts: list[Any],
        scenario: Scenario,
        params: SettlementParams | None = None,
        court_params: CourtParams | None = None,
    ) -> None:
        need = len(scenario.identities)
        if len(accounts) < need + 2:
            raise NotEnoughAccounts(need, len(accounts) - 2)
        self.s = scenario
        self.c = Contracts(project, chain, accounts[0], accounts[1], params, court_params)
        self.params = LabParams.from_contracts(self.c.s.coordinator, self.c.s.court)
        self.account = {i.name: accounts[k + 2] for k, i in enumerate(scenario.identities)}
        self.name_of = {str(a.address): n for n, a in self.account.items()}
        self.by = {i.name: i for i in scenario.identities}
        self.order = [i.name for i in scenario.identities]
        self.seeds = RecordedSeeds({}, {})
        self.counts: dict[str, int] = dict.fromkeys(Report().counts, 0)
        self._seen = 0  # receipts already counted for slashes
        self.trace: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ a run

    def run(self) -> ChainRun:
        s, c = self.s, self.c
        reward = s.reward if s.reward is not None else self.params.protocol.min_reward
        for i in s.identities:
            c.register(self.account[i.name], i.stake)
        need = reward * s.leaves * s.batches
        c.open_project(
            reserve=opening_reserve(s.gateway, s.gateway_rate, need), bond=s.gateway_bond
        )
        c.advance_epoch()
        before = self.snapshot()
        c.receipts.clear()
        for b in range(s.batches):
            if b and b % s.batches_per_epoch == 0:
                c.advance_epoch()
            if c.members():  # else nobody is eligible: postBatch would revert NoActiveStake
                self.batch(b, reward)
        after = self.snapshot()
        gas = c.gas_by_sender()
        report = Report()
        report.owners = s.owners
        report.strategies = {i.name: i.strategy.name for i in s.identities}
        for who, value in after.items():
            paid = sum(g for a, g in gas.items() if self.party(a) == who) if who != BURNED else 0
            delta = value - before[who] + paid
            if delta:
                report.profit[who] = delta
            if paid:
                report.gas[who] = paid
        for name in self.order:
            lost = before[f"stake:{name}"] - after[f"stake:{name}"]
            if lost:
                report.slashed[name] = lost
        for k in ("stake:" + n for n in self.order):
            report.profit.pop(k, None)
        report.counts = self.counts
        report.trace = self.trace
        return ChainRun(report, self.seeds, self.params)

    def party(self, address: str) -> str:
        if address == str(self.c.gateway.address):
            return GATEWAY
        if address == str(self.c.developer.address):
            return PROJECT
        return self.name_of.get(address, address)

    def snapshot(self) -> dict[str, int]:
        c = self.c
        out = {name: c.holdings(str(a.address)) for name, a in self.account.items()}
        out.update(
            {f"stake:{name}": c.stake_of(str(a.address)) for name, a in self.account.items()}
        )
        out[PROJECT] = c.holdings(str(c.developer.address)) + c.reserve()
        out[GATEWAY] = c.holdings(str(c.gateway.address)) + c.bond()
        out[BURNED] = c.burned()
        return out

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    # ------------------------------------------------------------------ one batch

    def batch(self, number: int, reward: int) -> None:
        s, c, p = self.s, self.c, self.params.protocol
        n = s.leaves
        epoch = self.epoch()
        batch_id = number + 1
        truths = tuple(truth_of(batch_id, i) for i in range(n))
        signed: list[dict[str, bytes]] = []
        opening: list[tuple[bytes, list[str]]] = []
        for i in range(n):
            said: dict[str, bytes] = {}
            chosen = attesters_for(epoch, batch_id, i, s.attesters)
            for a in dict.fromkeys(chosen):
                v = self.by[a].strategy.attest(
                    LeafView(a, self.by[a].owner, batch_id, i, truths[i])
                )
                if v is not None:
                    said[a] = v
            signed.append(said)
            first = next(iter(said.values()), ABSTAIN)
            listed = [a for a in chosen if a in said and said[a] == first]
            opening.append((first, [str(self.account[a].address) for a in listed]))
        poster = self.account[self.order[0]] if s.gateway == "withholding-batches" else None
        if s.gateway == TimingPosts.name:
            self.time_post()
        posted = c.post(n, s.mode, reward, opening if s.attesters > 0 else None, poster)
        if posted.batch_id != batch_id:
            raise RuntimeError(f"batch {posted.batch_id} posted where {batch_id} was expected")
        self.count("batches")
        self.count("leaves", n)
        if posted.from_bond:
            self.count("over_issued")
        equivocated = equivocates(s.gateway, s.gateway_rate, batch_id)
        if equivocated:
            c.prove_equivocation(posted, 0, self.account[self.order[0]])
            c.rebond(s.gateway_bond)
            self.count("equivocations")

        holder_addrs, seat_counts = c.seat(posted)
        self.seeds.batches[batch_id] = posted.seed
        holders = [self.name_of[h] for h in holder_addrs]
        seats = {self.name_of[h]: k for h, k in seat_counts.items()}
        mask = c.audit_mask(batch_id)
        audited = tuple(bool(mask >> i & 1) for i in range(n))
        owner_seats: dict[str, int] = {}
        for h in holders:
            owner_seats[self.by[h].owner] = owner_seats.get(self.by[h].owner, 0) + seats[h]
        ballots: dict[str, Ballot] = {}
        for h in holders:
            o = self.by[h].owner
            ballots[h] = self.by[h].strategy.ballot(
                SeatView(
                    h, o, batch_id, truths, audited, seats[h], owner_seats[o], p.seats, p.quorum
                )
            )
        gone = [
            i for i in range(n) if audited[i] and withheld(s.gateway, s.gateway_rate, batch_id, i)
        ]
        for i in gone:  # the first holder cannot get the input: a data-availability challenge
            c.open_data_challenge(posted, i, self.account[holders[0]])
        if gone:
            ballots = {h: abstain_on(b, gone) for h, b in ballots.items()}
        for h in holders:
            if ballots[h].commit:
                c.commit(batch_id, self.account[h], ballots[h].vector)
        c.wait_commits(batch_id)
        revealed = [h for h in holders if ballots[h].commit and ballots[h].reveal]
        last = self.name_of[posted.seats[-1]]  # the holder of the last seat reveals last
        for h in sorted(revealed, key=lambda h: h == last):
            c.reveal(batch_id, self.account[h], ballots[h].vector)
        vectors: list[list[bytes]] = []
        for h in revealed:
            if list(ballots[h].vector) not in vectors:
                vectors.append(list(ballots[h].vector))
        c.settle(batch_id, vectors)

        states = [c.leaf_state(batch_id, i) for i in range(n)]
        finals = {i for i in range(n) if states[i] == LEAF_FINAL}
        disputed = {i for i in range(n) if states[i] == LEAF_DISPUTED}
        self.trace.append(trace_entry(batch_id, holders, seats, revealed, finals, disputed))
        final_vector = [
            self._winner(i, revealed, ballots, seats) if i in finals else ABSTAIN for i in range(n)
        ]
        settled = {i: final_vector[i] for i in finals}
        opinions = [opinions_of(i, revealed, ballots, signed[i]) for i in range(n)]
        challenged: set[int] = set()
        for i in sorted(finals):
            who = self.challenger(batch_id, i, TIER_PANEL, truths[i], final_vector[i], opinions[i])
            if who is not None:
                c.challenge(batch_id, i, self.account[who], vectors, TIER_PANEL)
                self.count("challenges")
                challenged.add(i)
        # attesters are paid once the challenge window passed (a challenged leaf pays none)
        if s.open_results:
            c.wait_challenge_window(batch_id)
            c.open_results(posted, final_vector)
        else:
            c.close_unopened(batch_id)
        for i in sorted(disputed):
            c.escalate(batch_id, i, vectors)
        for i in sorted(challenged | disputed):
            self.count("escalations")
            settled[i] = self.run_case(batch_id, i, truths[i], opinions[i])
            if i in finals and settled[i] != final_vector[i]:
                self.count("overturned")
        for i in sorted(finals - challenged):
            votes = [ballots[h].vector[i] for h in revealed]
            if any(v not in (ABSTAIN, final_vector[i]) for v in votes):
                c.punish(batch_id, i, vectors)
        self.count("final", len(finals))
        self.count("disputed", len(disputed))
        self.count("unaudited", sum(1 for a in audited if not a))
        self.count(
            "refunded", sum(1 for i in range(n) if audited[i] and i not in finals | disputed)
        )
        self.count("forged_final", sum(1 for i in finals if final_vector[i] != truths[i]))
        for i, value in settled.items():
            if value not in (ABSTAIN, truths[i]):
                self.count("finalized_wrong")
        if s.present_attestations:
            if equivocated:
                settled.pop(0, None)  # the court refuses evidence on an equivocated ticket
            self.present(posted, signed, settled, final_vector)
        for i in gone:
            c.void_ticket(batch_id, i)
            self.count("voided")
        self.count_slashes()

    def time_post(self) -> None:
        """A gateway timing its post: it waits (up to 3 blocks) for a head whose prevrandao, used
        as the seed, would seat the first identity. The seed is block postBlock + D's: no use."""
        friend, epoch, seats = self.order[0], self.epoch(), self.params.protocol.seats
        for _ in range(3):
            head = int(self.c.chain.blocks.head.number)
            if epoch.members and friend in epoch.draw(self.c.prevrandao(head), seats):
                return
            self.c.mine(1)

    def epoch(self) -> Epoch:
        """The current stake epoch as the model holds it (names, cumulative stake)."""
        names, cumulative, total = [], [], 0
        for address, stake in self.c.members():
            total += stake
            names.append(self.name_of[address])
            cumulative.append(total)
        return Epoch(0, names, cumulative)

    def _winner(
        self, i: int, revealed: list[str], ballots: dict[str, Ballot], seats: dict[str, int]
    ) -> bytes:
        tally: dict[bytes, int] = {}
        for h in revealed:
            v = ballots[h].vector[i]
            if v != ABSTAIN:
                tally[v] = tally.get(v, 0) + seats[h]
        return max(tally, key=lambda v: tally[v])

    def challenger(
        self,
        batch_id: int,
        i: int,
        tier: int,
        truth: bytes,
        standing: bytes,
        said: dict[str, bytes],
    ) -> str | None:
        min_stake = self.params.protocol.min_stake
        for name in self.order:
            if self.c.bonded(str(self.account[name].address)) < min_stake:
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

    def _tier_votes(
        self, batch_id: int, i: int, tier: int, truth: bytes, voters: list[str]
    ) -> dict[str, bytes]:
        standing = bytes(self.c.case(batch_id, i).value)
        chosen = {}
        for w in voters:
            ident = self.by[w]
            v = ident.strategy.tier_vote(
                CaseView(w, ident.owner, batch_id, i, tier, truth, standing, self.s.watcher_online)
            )
            if v is not None:
                chosen[w] = v
        return chosen

    def run_case(self, batch_id: int, i: int, truth: bytes, said: dict[str, bytes]) -> bytes:
        """Tier 2, then tier 3 when tier 2 does not decide or is challenged, to a closed case."""
        c = self.c
        seed, _, voters = c.seat_panel(batch_id, i)
        self.seeds.panels[(batch_id, i)] = seed
        panel = [self.name_of[w] for w, _ in voters]
        chosen = self._tier_votes(batch_id, i, TIER_PANEL, truth, panel)
        for w, v in chosen.items():
            c.commit_vote(batch_id, i, TIER_PANEL, self.account[w], v, 0)
        c.end_commits(batch_id, i)
        for w, v in chosen.items():
            c.reveal_vote(batch_id, i, self.account[w], v)
        c.end_reveals(batch_id, i)
        c.decide(batch_id, i)
        case = c.case(batch_id, i)
        if int(case.state) == CASE_DECIDED:
            who = self.challenger(batch_id, i, TIER_ALL, truth, bytes(case.value), said)
            if who is None:
                c.close_case(batch_id, i)
                return bytes(c.case(batch_id, i).value)
            c.challenge(batch_id, i, self.account[who], [], TIER_ALL)
            self.count("challenges")
        self.count("tier3")
        members = self.epoch().members
        chosen = self._tier_votes(batch_id, i, TIER_ALL, truth, members)
        for w, v in chosen.items():
            c.commit_vote(batch_id, i, TIER_ALL, self.account[w], v, members.index(w))
        c.end_commits(batch_id, i)
        for w, v in chosen.items():
            c.reveal_vote(batch_id, i, self.account[w], v)
        c.end_reveals(batch_id, i)
        c.decide(batch_id, i)
        case = c.case(batch_id, i)
        if int(case.state) != CASE_CLOSED:
            raise RuntimeError(f"case {batch_id}/{i} did not close at tier 3")
        return bytes(case.value)

    def present(
        self,
        posted: Posted,
        signed: list[dict[str, bytes]],
        settled: dict[int, bytes],
        final_vector: list[bytes],
    ) -> None:
        c = self.c
        if any(v != ABSTAIN for v in final_vector):
            c.wait_challenge_window(posted.batch_id)
        done: set[str] = set()
        for i, said in enumerate(signed):
            final = settled.get(i)
            if final is None or final == ABSTAIN:
                continue
            for worker, value in said.items():
                if value in (ABSTAIN, final) or worker in done:
                    continue
                if (
                    c.stake_of(str(self.account[worker].address))
                    * self.params.court.attestation_slash_bps
                    < 10_000
                ):
                    continue
                done.add(worker)
                fv = final_vector if any(v != ABSTAIN for v in final_vector) else []
                c.slash_attestation(posted, i, self.account[worker], value, fv, c.developer)
                self.count("attestation_slashes")

    def count_slashes(self) -> None:
        """Seat slashes of the last batch, from the contracts' events in its receipts."""
        s = self.c.s
        seat_events = 0
        for r in self.c.receipts[self._seen :]:
            seat_events += len(r.events.filter(s.coordinator.SeatSlashed))
            seat_events += len(r.events.filter(s.court.VoterSlashed))
        self._seen = len(self.c.receipts)
        self.count("seat_slashes", seat_events)


def run_scenario(
    project: Any,
    chain: Any,
    accounts: list[Any],
    scenario: Scenario,
    params: SettlementParams | None = None,
    court_params: CourtParams | None = None,
) -> ChainRun:
    """Runs ``scenario`` on a fresh deployment on the connected chain (see :class:`Runner`)."""
    return Runner(project, chain, accounts, scenario, params, court_params).run()


__all__ = ["ChainRun", "NotEnoughAccounts", "Runner", "run_scenario"]
