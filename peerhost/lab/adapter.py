"""Every call the lab makes to the v2 contracts, in one place.

The scenario runner (:mod:`peerhost.lab.runner`) speaks to the chain only through
:class:`Contracts`; a storage or ABI change of the settlement contracts touches this module and
nothing else of the lab. Byte formats come from ``peerhost.wire``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

from peerhost.chain.headers import header_of
from peerhost.chain.settlement import holder_words
from peerhost.deploy import CourtParams, Settlement, SettlementParams, deploy, deploy_settlement
from peerhost.wire.batch import (
    AttestedResult,
    Leaf,
    batch_root,
    cosigners,
    encode_posted,
    merkle_proof,
    open_args,
    open_cosignatures,
    results_commitment,
    seat_commitment,
    sign_cosignature,
    vector_hash,
)
from peerhost.wire.disputes import panel_seed, vote_commitment
from peerhost.wire.ticket import Ticket, input_hash_of, sign_attestation, sign_ticket, ticket_hash

PROJECT_NAME = "lab"
FUNCTION_NAME = "lab-fn"
KEY = bytes.fromhex("11" * 32)
PROFILE = keccak(b"lab-engine-profile")
RESULT_SALT = keccak(b"lab-results-salt")

# ISettlementCoordinator.Phase / LeafState, IDisputeCourt.CaseState
PH_REVEAL, PH_SETTLE, PH_FINALIZED = 3, 4, 5
LEAF_FINAL, LEAF_DISPUTED = 2, 5
CASE_NONE, CASE_SEEDING, CASE_VOTING, CASE_DECIDED, CASE_CLOSED = range(5)
CP_COMMIT, CP_REVEAL = 2, 3
TIER_PANEL, TIER_ALL = 2, 3


@dataclass
class Posted:
    """A posted batch: its id, tickets and the attested results the gateway committed to."""

    batch_id: int
    tickets: list[Ticket]
    results: list[AttestedResult]
    seed: bytes = b""
    seats: list[str] = field(default_factory=list)
    #: Wei of the batch's rewards the gateway's bond paid (the project's reserve was short).
    from_bond: int = 0


class Contracts:
    """The v2 settlement contracts of one fresh deployment, driven through ape.

    Args:
        project: The ape project (compiled contracts).
        chain: ape's chain manager.
        deployer: Deploys, acts as the gateway and calls the permissionless steps.
        developer: Owns the project and its reserve; presents attestations.
    """

    def __init__(
        self,
        project: Any,
        chain: Any,
        deployer: Any,
        developer: Any,
        params: SettlementParams | None = None,
        court_params: CourtParams | None = None,
    ) -> None:
        self.chain = chain
        self.gateway = deployer
        self.developer = developer
        self.receipts: list[Any] = []
        registry = deploy(project, deployer).registry
        self.s: Settlement = deploy_settlement(project, deployer, registry, params, court_params)
        self.function_id = b""
        self.project_id = b""
        self.next_seq = 0
        self._workers: dict[str, Any] = {}  # address -> account (attesters sign with its key)
        # batch id -> its holders and seat counts (BatchSeated; the contract keeps their hash)
        self._holders: dict[int, tuple[list[str], list[int]]] = {}

    # ------------------------------------------------------------------ plumbing

    def _tx(self, receipt: Any) -> Any:
        self.receipts.append(receipt)
        return receipt

    def now(self) -> int:
        return int(self.chain.pending_timestamp)

    def mine(self, seconds: int = 0, blocks: int = 1) -> None:
        if seconds:
            self.chain.mine(deltatime=seconds)
            blocks -= 1
        if blocks > 0:
            self.chain.mine(blocks)

    def _mine_past(self, block: int) -> None:
        head = int(self.chain.blocks.head.number)
        if head <= block:
            self.chain.mine(block - head + 1)

    def _header(self, block: int) -> bytes:
        return header_of(self.chain.provider.make_request, block)

    def prevrandao(self, block: int) -> bytes:
        return bytes(self.chain.provider.web3.eth.get_block(block)["mixHash"])

    @property
    def protocol(self) -> Any:
        return self.s.coordinator.params()

    @property
    def court_params(self) -> Any:
        return self.s.court.courtParams()

    # ------------------------------------------------------------------ setup

    def register(self, worker: Any, stake: int) -> None:
        self._workers[str(worker.address)] = worker
        self._tx(self.s.stakes.register(KEY, value=stake, sender=worker))

    def advance_epoch(self) -> int:
        self.mine(int(self.protocol.epochLength))
        self._tx(self.s.stakes.advanceEpoch(sender=self.gateway))
        return int(self.s.stakes.currentEpoch())

    def members(self) -> list[tuple[str, int]]:
        """The current epoch's array: (member, its stake) in order."""
        stakes = self.s.stakes
        epoch = int(stakes.currentEpoch())
        out, before = [], 0
        for j in range(int(stakes.epochInfo(epoch).members)):
            member, cumulative = stakes.entryAt(epoch, j)
            out.append((str(member), int(cumulative) - before))
            before = int(cumulative)
        return out

    def open_project(self, reserve: int, bond: int) -> None:
        registry = self.s.registry
        self._tx(
            registry.publish(
                PROJECT_NAME,
                FUNCTION_NAME,
                "wasi",
                b"\x01" * 36,
                1000,
                1 << 20,
                0,
                sender=self.developer,
            )
        )
        self.function_id = bytes(registry.functionIdOf(self.developer, PROJECT_NAME, FUNCTION_NAME))
        self.project_id = bytes(registry.projectIdOf(self.developer, PROJECT_NAME))
        g = self.s.gateways
        self._tx(g.fundReserve(self.project_id, value=reserve, sender=self.developer))
        self._tx(g.setGatewayAuthorization(PROJECT_NAME, self.gateway, True, sender=self.developer))
        self._tx(g.bond(value=bond, sender=self.gateway))
        self.mine(1)

    # ------------------------------------------------------------------ a batch

    def post(
        self,
        n: int,
        mode: int,
        reward: int,
        results: Sequence[tuple[bytes, Sequence[str]]] | None,
        orphaned_by: Any = None,
    ) -> Posted:
        """Issues ``n`` tickets and posts them: the gateway's own batch, or, when ``orphaned_by``
        is given, the gateway withholds them and that account posts them as orphans after
        ``orphanDelay`` (the gateway's bond pays it ``orphanRefund`` per ticket)."""
        now = self.now() - 1
        tickets = []
        for _ in range(n):
            tickets.append(
                Ticket(
                    gateway=str(self.gateway.address),
                    seq=self.next_seq,
                    function_id=self.function_id,
                    version=1,
                    input_hash=input_hash_of(self.next_seq.to_bytes(8, "big")),
                    reward=reward,
                    issued_at=now,
                    deadline=now + 3000,
                    mode=mode,
                    engine_profile=PROFILE,
                )
            )
            self.next_seq += 1
        attested = [AttestedResult(r, tuple(a)) for r, a in results] if results is not None else []
        commitment = results_commitment(attested, RESULT_SALT) if attested else bytes(32)
        c = self.s.coordinator
        if orphaned_by is not None:
            self.mine(int(self.protocol.orphanDelay) + 1)
            key, chain_id = self.gateway.private_key, self.chain.chain_id
            sigs = [sign_ticket(key, chain_id, str(c.address), t) for t in tickets]
            tx = self._tx(
                c.postOrphans([t.as_tuple() for t in tickets], sigs, commitment, sender=orphaned_by)
            )
            return Posted(int(tx.events.filter(c.BatchPosted)[0].batchId), tickets, attested)
        head, leaves = encode_posted([Leaf.of(t) for t in tickets])
        tx = self._tx(
            c.postBatch(
                self.project_id, PROFILE, head.as_tuple(), commitment, leaves, sender=self.gateway
            )
        )
        batch_id = int(tx.events.filter(c.BatchPosted)[0].batchId)
        from_bond = sum(int(e.fromBond) for e in tx.events.filter(self.s.gateways.Drawn))
        return Posted(batch_id, tickets, attested, from_bond=from_bond)

    def seat(self, posted: Posted) -> tuple[list[str], dict[str, int]]:
        """Proves the seed block, draws the committee; returns holders and seat counts."""
        c = self.s.coordinator
        seed_block = int(c.getBatch(posted.batch_id).seedBlock)
        self._mine_past(seed_block)
        tx = self._tx(c.seat(posted.batch_id, self._header(seed_block), sender=self.gateway))
        event = tx.events.filter(c.BatchSeated)[0]
        posted.seed = bytes(event.seed)
        posted.seats = [str(a) for a in event.seats]
        holders = list(dict.fromkeys(posted.seats))
        counts = [posted.seats.count(h) for h in holders]
        self._holders[posted.batch_id] = (holders, counts)
        return [str(h) for h in holders], {
            str(h): int(k) for h, k in zip(holders, counts, strict=True)
        }

    def hl(self, batch_id: int) -> list[int]:
        """The batch's holder list as its calls take it (address | seats << 160 per holder)."""
        holders, counts = self._holders.get(batch_id, ([], []))
        return holder_words(holders, counts)

    def audit_mask(self, batch_id: int) -> int:
        return int(self.s.coordinator.getBatch(batch_id).auditMask)

    @staticmethod
    def salt(worker: Any) -> bytes:
        return keccak(b"lab-salt" + bytes.fromhex(str(worker.address)[2:]))

    def commit(self, batch_id: int, worker: Any, vector: Sequence[bytes]) -> None:
        commitment = seat_commitment(
            self.chain.chain_id,
            str(self.s.coordinator.address),
            batch_id,
            str(worker.address),
            vector_hash(vector),
            self.salt(worker),
        )
        self._tx(self.s.coordinator.commit(batch_id, commitment, self.hl(batch_id), sender=worker))

    def reveal(self, batch_id: int, worker: Any, vector: Sequence[bytes]) -> None:
        c = self.s.coordinator
        self._tx(
            c.reveal(
                batch_id,
                vector_hash(vector),
                self.salt(worker),
                list(vector),
                self.hl(batch_id),
                sender=worker,
            )
        )

    def phase(self, batch_id: int) -> int:
        return int(self.s.coordinator.phaseOf(batch_id))

    def mine_until(self, timestamp: int) -> None:
        """Mines one block at ``timestamp`` or later."""
        self.mine(max(1, timestamp - self.now() + 1))

    def wait_commits(self, batch_id: int) -> None:
        if self.phase(batch_id) < PH_REVEAL:
            self.mine_until(int(self.s.coordinator.getBatch(batch_id).commitDeadline))

    def settle(self, batch_id: int, vectors: list[list[bytes]]) -> str | None:
        """Finalizes a batch its last reveal did not settle; returns who finalized (or None).

        Raises RuntimeError when the batch is still not settled (a runner bug, never an outcome)."""
        if self.phase(batch_id) == PH_REVEAL:
            self.mine_until(int(self.s.coordinator.getBatch(batch_id).revealDeadline))
        finalizer = None
        if self.phase(batch_id) == PH_SETTLE:
            self._tx(
                self.s.coordinator.finalize(
                    batch_id, vectors, self.hl(batch_id), sender=self.gateway
                )
            )
            finalizer = str(self.gateway.address)
        if self.phase(batch_id) < PH_FINALIZED:
            raise RuntimeError(f"batch {batch_id} is not settled (phase {self.phase(batch_id)})")
        return finalizer

    def leaf_state(self, batch_id: int, index: int) -> int:
        return int(self.s.coordinator.leafState(batch_id, index))

    def open_results(self, posted: Posted, final_vector: list[bytes]) -> None:
        # attesters and seats are paid once the batch's challenge window has passed (unpaidLeaves)
        self.claim_seat_pay(posted.batch_id)
        if self.phase(posted.batch_id) != PH_FINALIZED or not posted.results:
            return  # no attesters: closed as it settled
        root = batch_root([Leaf.of(t) for t in posted.tickets])
        signed = {
            str(a): sign_cosignature(
                self._workers[str(a)].private_key,
                self.chain.chain_id,
                str(self.s.coordinator.address),
                posted.batch_id,
                str(self.gateway.address),
                root,
                posted.results,
            )
            for a in cosigners(posted.results)
        }
        self._tx(
            self.s.coordinator.openResults(
                posted.batch_id,
                RESULT_SALT,
                *open_args(posted.results, final_vector),
                open_cosignatures(posted.results, signed),
                sender=self.gateway,
            )
        )

    def claim_seat_pay(self, batch_id: int) -> None:
        """Each holder with committee pay in the batch claims it, after its challenge window."""
        c = self.s.coordinator
        finalized_at = int(c.getBatch(batch_id).finalizedAt)
        if finalized_at == 0:
            return
        end = finalized_at + int(self.s.court.courtParams().challengeWindow)
        if self.now() < end:
            self.mine(end - self.now())
        listed = self.hl(batch_id)
        for holder in self._holders[batch_id][0]:
            if int(c.seatPayOf(batch_id, holder, listed)) > 0:
                self._tx(c.claimSeatPay([batch_id], [listed], sender=self._workers[str(holder)]))

    def close_unopened(self, batch_id: int) -> None:
        self.claim_seat_pay(batch_id)
        if self.phase(batch_id) != PH_FINALIZED:
            return
        self.mine(int(self.protocol.openWindow))
        self._tx(self.s.coordinator.close(batch_id, sender=self.gateway))

    # ------------------------------------------------------------------ the court

    def challenge(
        self, batch_id: int, index: int, challenger: Any, vectors: list[list[bytes]], tier: int
    ) -> None:
        bond = int(self.court_params.challengeBond) * (tier - 1)
        listed = self.hl(batch_id)
        self._tx(
            self.s.court.challenge(batch_id, index, vectors, listed, value=bond, sender=challenger)
        )

    def escalate(self, batch_id: int, index: int, vectors: list[list[bytes]]) -> None:
        self._tx(
            self.s.court.escalate(batch_id, index, vectors, self.hl(batch_id), sender=self.gateway)
        )

    def punish(self, batch_id: int, index: int, vectors: list[list[bytes]]) -> None:
        self.wait_challenge_window(batch_id)
        self._tx(
            self.s.court.punish(batch_id, index, vectors, self.hl(batch_id), sender=self.gateway)
        )

    def wait_challenge_window(self, batch_id: int) -> None:
        end = int(self.s.coordinator.getBatch(batch_id).finalizedAt) + int(
            self.court_params.challengeWindow
        )
        if self.now() < end:
            self.mine(end - self.now() + 1)

    def case(self, batch_id: int, index: int) -> Any:
        return self.s.court.caseOf(batch_id, index)

    def seat_panel(
        self, batch_id: int, index: int
    ) -> tuple[bytes, list[str], list[tuple[str, int]]]:
        """Draws the tier-2 panel; returns its seed, seats and (voter, weight) list."""
        court = self.s.court
        seed_block = int(self.case(batch_id, index).seedBlock)
        self._mine_past(seed_block)
        tx = self._tx(
            court.seatPanel(batch_id, index, self._header(seed_block), sender=self.gateway)
        )
        seats = [str(a) for a in tx.events.filter(court.PanelSeated)[0].seats]
        seed = panel_seed(self.prevrandao(seed_block), batch_id, index)
        voters = [
            (str(v.worker), int(v.weight)) for v in court.votersOf(batch_id, index, TIER_PANEL)
        ]
        return seed, seats, voters

    def vote_salt(self, worker: Any) -> bytes:
        return keccak(b"lab-vote" + bytes.fromhex(str(worker.address)[2:]))

    def commit_vote(
        self, batch_id: int, index: int, tier: int, worker: Any, value: bytes, member_index: int
    ) -> None:
        commitment = vote_commitment(
            self.chain.chain_id,
            str(self.s.court.address),
            batch_id,
            index,
            tier,
            str(worker.address),
            value,
            self.vote_salt(worker),
        )
        self._tx(self.s.court.commitVote(batch_id, index, commitment, member_index, sender=worker))

    def reveal_vote(self, batch_id: int, index: int, worker: Any, value: bytes) -> None:
        self._tx(
            self.s.court.revealVote(batch_id, index, value, self.vote_salt(worker), sender=worker)
        )

    def case_phase(self, batch_id: int, index: int) -> int:
        return int(self.s.court.phaseOf(batch_id, index))

    def end_commits(self, batch_id: int, index: int) -> None:
        if self.case_phase(batch_id, index) == CP_COMMIT:
            self.mine_until(int(self.case(batch_id, index).commitDeadline))

    def end_reveals(self, batch_id: int, index: int) -> None:
        if self.case_phase(batch_id, index) == CP_REVEAL:
            self.mine_until(int(self.case(batch_id, index).revealDeadline))

    def decide(self, batch_id: int, index: int) -> None:
        self._tx(self.s.court.decide(batch_id, index, sender=self.gateway))

    def close_case(self, batch_id: int, index: int) -> None:
        self.mine(int(self.court_params.challengeWindow))
        self._tx(self.s.court.close(batch_id, index, sender=self.gateway))

    # ------------------------------------------------------------------ evidence

    def slash_attestation(
        self,
        posted: Posted,
        index: int,
        attester: Any,
        result: bytes,
        final_vector: list[bytes],
        presenter: Any,
    ) -> None:
        t = posted.tickets[index]
        signature = sign_attestation(
            attester.private_key,
            self.chain.chain_id,
            str(self.s.coordinator.address),
            ticket_hash(t),
            result,
        )
        proof = merkle_proof([Leaf.of(x).hash() for x in posted.tickets], index)
        evidence = (t.as_tuple(), result, signature, posted.batch_id, index, proof, final_vector)
        self._tx(self.s.evidence.slashAttestation(evidence, sender=presenter))

    # ------------------------------------------------------------------ a deviating gateway

    def prove_equivocation(self, posted: Posted, index: int, presenter: Any) -> int:
        """The gateway signed a second ticket with leaf ``index``'s seq (another input): the
        ``presenter`` proves it; returns the bond the court charged."""
        t = posted.tickets[index]
        other = dataclasses.replace(t, input_hash=input_hash_of(b"equivocated:%d" % t.seq))
        key, chain_id = self.gateway.private_key, self.chain.chain_id
        at = str(self.s.coordinator.address)
        sigs = [sign_ticket(key, chain_id, at, x) for x in (t, other)]
        ev = self.s.evidence
        tx = self._tx(
            ev.proveEquivocation(t.as_tuple(), sigs[0], other.as_tuple(), sigs[1], sender=presenter)
        )
        return int(tx.events.filter(ev.EquivocationProven)[0].charged)

    def rebond(self, amount: int) -> None:
        """The gateway tops its bond back up to ``amount`` (it needs the minimum to post)."""
        short = amount - self.bond()
        if short > 0:
            self._tx(self.s.gateways.bond(value=short, sender=self.gateway))

    def open_data_challenge(self, posted: Posted, index: int, seat: Any) -> None:
        """A seat cannot get leaf ``index``'s input from the gateway: it bonds ``dataBond``."""
        leaves = [Leaf.of(t) for t in posted.tickets]
        proof = merkle_proof([x.hash() for x in leaves], index)
        bond = int(self.court_params.dataBond)
        ev = self.s.evidence
        self._tx(
            ev.openDataChallenge(
                posted.batch_id,
                index,
                leaves[index].encode(),
                proof,
                self.hl(posted.batch_id),
                value=bond,
                sender=seat,
            )
        )

    def void_ticket(self, batch_id: int, index: int) -> None:
        """The input was never published: after the data window anyone voids the ticket."""
        self.mine_until(int(self.s.evidence.dataChallengeOf(batch_id, index).deadline))
        self._tx(self.s.evidence.voidTicket(batch_id, index, sender=self.gateway))

    # ------------------------------------------------------------------ money

    def stake_of(self, address: str) -> int:
        s = self.s.stakes.getStaker(address)
        return int(s.stake) + int(s.unbonding)

    def bonded(self, address: str) -> int:
        return int(self.s.stakes.getStaker(address).stake)

    def holdings(self, address: str) -> int:
        """Wei an account holds or is owed in the protocol: balance, credits, stake."""
        s = self.s
        return (
            int(self.chain.provider.get_balance(address))
            + int(s.coordinator.pendingWithdrawal(address))
            + int(s.court.pendingWithdrawal(address))
            + int(s.evidence.pendingWithdrawal(address))
            + self.stake_of(address)
        )

    def bond(self) -> int:
        """The gateway's bond (bonded and leaving)."""
        b = self.s.gateways.bondOf(self.gateway)
        return int(b.amount) + int(b.leaving)

    def reserve(self) -> int:
        r = self.s.gateways.reserveOf(self.project_id)
        return int(r.balance) + int(r.leaving)

    def burned(self) -> int:
        s = self.s
        return int(s.coordinator.burned()) + int(s.court.burned()) + int(s.evidence.burned())

    def gas_by_sender(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.receipts:
            sender = str(r.sender)
            out[sender] = out.get(sender, 0) + int(r.gas_used) * int(r.gas_price)
        return out


__all__ = ["Contracts", "Posted"]
