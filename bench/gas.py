"""Gas of one request's life with K=3, step by step, on a private local anvil: the v1
per-request path and the v2 batch settlement.

    . bin/env && python bench/gas.py                  # both, as tables
    . bin/env && python bench/gas.py --protocol v2    # v2 only
    . bin/env && python bench/gas.py --json           # JSON: sections, totals, v2 summary

v2 (SettlementCoordinator with the default SettlementParams: K=3, Q=2) measures, with 24 staked
workers and committees of three distinct holders (the most transactions a K=3 batch can take).
The coordinator keeps a batch's holders as one hash: every commit, reveal, finalize, claim and court
call below passes the holder list back (address | seats << 160 per holder, from the BatchSeated log,
or the seed's draw before seating; ``V2.hl``), and its calldata is part of each figure:

batch N   : postBatch of N verified tickets (one attester each), seatAndCommit (the first holder
            proves the seed block's header, draws the committee and commits), commit x2, reveal x3
            (the first in full, the others by hash; the last one settles the batch), openResults (the
            compact opening: the attested results are the final vector, so the opening carries only the
            attester part, 1 byte a leaf, and no final vector; the attester's one co-signature of the
            batch's results hash checked), claimSeatPay x3 after the challenge window
            (each holder pulls its committee pay of this one batch alone: a claim listing several batches
            shares its 21 k and its transfer). Gas per ticket is the total over N (also without the
            claims); calldata per ticket is postBatch's input over N. N = 1, 10, 100. At 100 the post
            is execution-bound (above its EIP-7623 calldata floor: its per-leaf pass,
            TicketVerifier.scanPosted, which also hashes the leaves, is what to cut), the first reveal
            is at its floor (only fewer bytes lower it); docs/protocol.md's Gas section has the trace.
single    : a contract's single request as a one-leaf batch, its whole life: requestExecution,
            seatAndCommit, commit x2, reveal x3 (the last settles and closes the batch: no attesters),
            claimSeatPay x3 after the challenge window (the last holder's claim carries the finalizer's
            share: its reveal settled the batch, so no credit and no withdrawal; compare v1's request
            section). Twice: fresh (a requester's first request: its request counter is a fresh storage
            word) and in steady state (a repeat requester). The fresh figure is the one to hold against
            the goal; each is given with and without the claims.
claims    : one worker's seat pay of one settled one-leaf batch claimed alone, then of five in one call.
disputed  : a one-leaf batch where the three seats reveal three different results: finalize.
escalation: that leaf escalated: escalate, seatPanel (2K+1 = 7 seats), a panel vote, decide (tier 2);
            a challenge to tier 3, a vote of all 24 workers, decide + close (tier 3).
challenge : a challenge of a Final leaf (tier 2), the panel upholds it, close (bond forfeited);
            an unstaked attester's challenge (challengeAsAttester) of a Final leaf.
final vote: with 256 active workers, a disputed leaf whose panel decides nothing goes to tier 3:
            256 commits and reveals, 129 for the truth and 127 for a lie, then decide + close (127
            voters slashed, 129 voters and the committee paid): the largest close a case can have.
evidence  : a data-availability challenge and the input published, an attestation slash, an
            equivocation slash.
others    : a header proof alone (HeaderBeacon.valueOf, estimated as a call), advanceEpoch and a
            seat draw with 256 active workers, one orphaned ticket posted alone by a stranger.

Deploys the three contracts with the default :class:`peerhost.deploy.DeployParams` (K=3,
quorum 2) on an anvil of its own (random port, never one already running), then measures:

setup   : deploy (x4 transactions), publish, setProjectPrice, setGatewayAuthorization,
          fundProject, register x3
request : requestExecution (reward sent with the call), commit x3, reveal x3, finalize,
          withdraw x3 (each worker pulls its share)

A second request paid from the project balance by an authorized gateway is measured as well
(its request row only; its life otherwise costs the same). The costs are ``gasUsed`` from the
receipts: what the sender pays for, with the 21,000 intrinsic gas included.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.chdir(ROOT)  # ape resolves the project (and ape-config.yaml) from the working directory
sys.path.insert(0, str(ROOT))

from ape import accounts, chain, networks, project  # noqa: E402
from ape.logging import logger  # noqa: E402
from eth_abi import decode  # noqa: E402
from eth_utils import keccak, to_checksum_address  # noqa: E402

from peerhost.chain.headers import header_of, prevrandao_of  # noqa: E402
from peerhost.chain.settlement import holder_words  # noqa: E402
from peerhost.deploy import (  # noqa: E402
    ETHER,
    CourtParams,
    DeployParams,
    Settlement,
    SettlementParams,
    deploy,
    deploy_settlement,
)
from peerhost.wire import commitment  # noqa: E402
from peerhost.wire.batch import (  # noqa: E402
    AttestedResult,
    Leaf,
    batch_root,
    batch_seed,
    encode_posted,
    open_args,
    open_cosignatures,
    results_commitment,
    seat_commitment,
    sign_cosignature,
    vector_hash,
)
from peerhost.wire.disputes import TIER_ALL, TIER_PANEL, vote_commitment  # noqa: E402
from peerhost.wire.ticket import (  # noqa: E402
    MODE_VERIFIED,
    Ticket,
    input_hash_of,
    sign_attestation,
    sign_ticket,
    ticket_hash,
)

PROJECT = "shop"
FUNCTION = "orders-create"
CODE_CID = bytes.fromhex("01551220") + keccak(b"bench")
INPUT = b'{"body":"{\\"sku\\":42}","headers":{},"method":"POST","path":"/","query":""}'
REPLY_TO = b"http://127.0.0.1:8080/inbox"
ENCRYPTION_KEY = bytes.fromhex("22" * 32)

SEATED_TOPIC = "0x" + keccak(text="BatchSeated(uint256,bytes32,address[],uint256)").hex()


@dataclass
class GasTable:
    """Gas per labelled step, grouped into sections, in the order measured."""

    sections: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def add(self, section: str, step: str, receipt: Any) -> None:
        self.sections.setdefault(section, []).append((step, int(receipt.gas_used)))

    def total(self, section: str) -> int:
        return sum(gas for _, gas in self.sections.get(section, []))

    def as_json(self) -> dict[str, Any]:
        return {
            "sections": {
                s: [{"step": k, "gas": g} for k, g in rows] for s, rows in self.sections.items()
            },
            "totals": {s: self.total(s) for s in self.sections},
        }

    def render(self) -> str:
        lines = [f"{'section':<10} {'step':<38} {'gas':>10}", "-" * 60]
        for section, rows in self.sections.items():
            for step, gas in rows:
                lines.append(f"{section:<10} {step:<38} {gas:>10,}")
            lines.append(f"{section:<10} {'TOTAL ' + section:<38} {self.total(section):>10,}")
            lines.append("-" * 60)
        return "\n".join(lines)


def measure(params: DeployParams) -> GasTable:
    """Runs one request's life on the connected chain and returns the gas of every step."""
    table = GasTable()
    owner, developer, gateway, requester = (accounts.test_accounts[i] for i in range(4))
    workers = [accounts.test_accounts[i] for i in range(4, 4 + params.max_commits)]

    d = deploy(project, owner, params)
    for name, contract in (
        ("registry", d.registry),
        ("workers", d.workers),
        ("coordinator", d.coordinator),
    ):
        table.add("setup", f"deploy {name}", chain.provider.get_receipt(contract.txn_hash))
    # deploy() returns no receipt for the wiring; its block holds exactly that transaction.
    wiring = chain.provider.web3.eth.get_block(d.block_number)["transactions"][0]
    table.add("setup", "workers.setCoordinator", chain.provider.get_receipt(wiring))

    table.add(
        "setup",
        "registry.publish",
        d.registry.publish(
            PROJECT, FUNCTION, "wasi", CODE_CID, 1_000_000, 16 << 20, 0, sender=developer
        ),
    )
    function_id = d.registry.functionIdOf(developer, PROJECT, FUNCTION)
    price = params.min_reward * 10
    table.add(
        "setup",
        "coordinator.setProjectPrice",
        d.coordinator.setProjectPrice(PROJECT, price, sender=developer),
    )
    table.add(
        "setup",
        "coordinator.setGatewayAuthorization",
        d.coordinator.setGatewayAuthorization(PROJECT, gateway, True, sender=developer),
    )
    table.add(
        "setup",
        "coordinator.fundProject",
        d.coordinator.fundProject(developer, PROJECT, value=ETHER, sender=developer),
    )
    for i, w in enumerate(workers):
        table.add(
            "setup",
            f"workers.register #{i + 1}",
            d.workers.register(ENCRYPTION_KEY, value=2 * ETHER, sender=w),
        )

    reward = params.min_reward * 10
    request_id = d.coordinator.nextRequestId(requester)
    table.add(
        "request",
        "requestExecution (value)",
        d.coordinator.requestExecution(
            function_id, INPUT, REPLY_TO, value=reward, sender=requester
        ),
    )
    result = keccak(b'{"body":"ok","headers":{},"status":200}')
    chain_id = networks.provider.chain_id
    salts = [keccak(f"salt-{i}".encode()) for i in range(len(workers))]
    for i, w in enumerate(workers):
        c = commitment(chain_id, d.coordinator.address, request_id, w.address, result, salts[i])
        table.add("request", f"commit #{i + 1}", d.coordinator.commit(request_id, c, sender=w))
    for i, w in enumerate(workers):
        table.add(
            "request",
            f"reveal #{i + 1}",
            d.coordinator.reveal(request_id, result, salts[i], sender=w),
        )
    table.add("request", "finalize", d.coordinator.finalize(request_id, sender=requester))
    for i, w in enumerate(workers):
        table.add("request", f"withdraw #{i + 1}", d.coordinator.withdraw(sender=w))

    table.add(
        "variants",
        "requestExecution (project balance)",
        d.coordinator.requestExecution(function_id, INPUT, REPLY_TO, sender=gateway),
    )
    return table


class V2:
    """Drives v2 batches on the connected chain for the measurements."""

    def __init__(self, table: GasTable, workers: int = 24) -> None:
        self.table = table
        owner, self.developer, self.gateway = (accounts.test_accounts[i] for i in range(3))
        self.params = SettlementParams()
        d = deploy(project, owner, DeployParams())
        # Vote windows of an hour (the defaults are 120 s): 256 voters' transactions must fit in them on a
        # busy machine; the windows' length does not change any gas figure.
        votes = CourtParams(commit_window=3600, reveal_window=3600)
        self.s: Settlement = deploy_settlement(
            project, owner, d.registry, self.params, court_params=votes
        )
        self.c = self.s.coordinator
        self.by: dict[str, Any] = {}
        self.workers = [self._account() for _ in range(workers)]
        for w in self.workers:
            self.s.stakes.register(ENCRYPTION_KEY, value=2 * ETHER, sender=w)
        self.advance_epoch()
        registry = self.s.registry
        registry.publish(
            PROJECT, "v2", "wasi", CODE_CID, 1_000_000, 16 << 20, 0, sender=self.developer
        )
        self.function_id = bytes(registry.functionIdOf(self.developer, PROJECT, "v2"))
        self.project_id = bytes(registry.projectIdOf(self.developer, PROJECT))
        self.s.gateways.fundReserve(self.project_id, value=100 * ETHER, sender=self.developer)
        self.s.gateways.setGatewayAuthorization(PROJECT, self.gateway, True, sender=self.developer)
        self.s.gateways.bond(value=2 * ETHER, sender=self.gateway)
        chain.mine(deltatime=1)
        self.seq = 0
        self.attester = self.workers[-1]
        self.result = keccak(b'{"body":"ok","headers":{},"status":200}')
        self.salt = keccak(b"results")
        # posted, unseated batches: the seed block header their first commit carries
        self.headers: dict[int, bytes] = {}
        self.requester: Any = None  # the fresh single request's requester, again in steady state

    def _account(self) -> Any:
        a = accounts.test_accounts.generate_test_account()
        chain.set_balance(a.address, 100 * ETHER)
        self.by[str(a.address)] = a
        return a

    def advance_epoch(self) -> Any:
        chain.mine(deltatime=self.params.epoch_length)
        return self.s.stakes.advanceEpoch(sender=self.gateway)

    def tickets(self, n: int) -> list[Ticket]:
        now = int(chain.pending_timestamp) - 1
        out = []
        for _ in range(n):
            out.append(
                Ticket(
                    str(self.gateway.address),
                    self.seq,
                    self.function_id,
                    1,
                    input_hash_of(self.seq.to_bytes(8, "big")),
                    self.params.min_reward * 10,
                    now,
                    now + 600,
                    MODE_VERIFIED,
                    0,
                    keccak(b"profile"),
                )
            )
            self.seq += 1
        return out

    def header(self, batch_id: int) -> bytes:
        seed_block = int(self.c.getBatch(batch_id).seedBlock)
        head = int(chain.blocks.head.number)
        if head <= seed_block:
            chain.mine(seed_block - head + 1)
        return header_of(chain.provider.make_request, seed_block)

    def post_and_seat(self, tickets: list[Ticket], commitment: bytes) -> tuple[Any, Any, int]:
        """Posts ``tickets`` as one batch with ``commitment`` and seats its committee."""
        head, leaves = encode_posted([Leaf.of(t) for t in tickets])
        post = self.c.postBatch(
            self.project_id,
            keccak(b"profile"),
            head.as_tuple(),
            commitment,
            leaves,
            sender=self.gateway,
        )
        batch_id = int(post.events.filter(self.c.BatchPosted)[0].batchId)
        seat = self.c.seat(batch_id, self.header(batch_id), sender=self.gateway)
        return post, seat, batch_id

    def hl(self, batch_id: int) -> list[int]:
        """The batch's holder list as its calls take it (address | seats << 160 per holder): its
        BatchSeated log's seats once seated (the contract keeps only the list's hash), else the
        seed's draw (as a worker computes it for seatAndCommit)."""
        logs = chain.provider.make_request(
            "eth_getLogs",
            [
                {
                    "address": str(self.c.address),
                    "fromBlock": "0x0",
                    "toBlock": "latest",
                    "topics": [SEATED_TOPIC, "0x" + batch_id.to_bytes(32, "big").hex()],
                }
            ],
        )
        if logs:
            seats = decode(
                ["bytes32", "address[]", "uint256"], bytes.fromhex(logs[-1]["data"][2:])
            )[1]
        else:
            b = self.c.getBatch(batch_id)
            seed = batch_seed(
                prevrandao_of(chain.provider.make_request, int(b.seedBlock)), batch_id
            )
            seats = self.s.stakes.drawSeats(b.epoch, seed, self.params.seats)
        seats = [str(s).lower() for s in seats]
        holders = list(dict.fromkeys(seats))
        return holder_words(holders, [seats.count(h) for h in holders])

    def drawn_holders(self, batch_id: int) -> tuple[bytes, list[Any]]:
        """Mines to the seed block; returns its header and the distinct holders its seed will draw,
        computed before any seat transaction (as a worker does before its seatAndCommit)."""
        header = self.header(batch_id)
        b = self.c.getBatch(batch_id)
        seed = batch_seed(prevrandao_of(chain.provider.make_request, int(b.seedBlock)), batch_id)
        drawn = self.s.stakes.drawSeats(b.epoch, seed, self.params.seats)
        return header, [self.by[str(h)] for h in dict.fromkeys(str(d) for d in drawn)]

    def seated_batch(self, n: int, section: str) -> tuple[int, list[Any], int]:
        """Posts n tickets until the seed draws three distinct holders; records the post. The first
        holder's commit seats the batch (commit_reveal): no seat transaction."""
        while True:
            tickets = self.tickets(n)
            results = [AttestedResult(self.result, (str(self.attester.address),)) for _ in tickets]
            head, leaves = encode_posted([Leaf.of(t) for t in tickets])
            post = self.c.postBatch(
                self.project_id,
                keccak(b"profile"),
                head.as_tuple(),
                results_commitment(results, self.salt),
                leaves,
                sender=self.gateway,
            )
            batch_id = int(post.events.filter(self.c.BatchPosted)[0].batchId)
            header, holders = self.drawn_holders(batch_id)
            if len(holders) == self.params.seats:
                self.posted = tickets
                self.headers[batch_id] = header
                self.table.add(section, f"postBatch ({n} leaves)", post)
                return batch_id, holders, len(post.data)

    def commit_reveal(
        self, batch_id: int, holders: list[Any], vectors: list[list[bytes]], section: str
    ) -> None:
        """Commits and reveals; an unseated batch is seated by its first holder's commit."""
        chain_id = chain.chain_id
        for i, (h, v) in enumerate(zip(holders, vectors, strict=True)):
            c = seat_commitment(
                chain_id,
                str(self.c.address),
                batch_id,
                str(h.address),
                vector_hash(v),
                keccak(b"s"),
            )
            header = self.headers.pop(batch_id, None)
            if header is not None:
                tx = self.c.seatAndCommit(batch_id, header, c, self.hl(batch_id), sender=h)
                self.table.add(section, f"seatAndCommit #{i + 1} (header proof + draw)", tx)
            else:
                listed = self.hl(batch_id)
                self.table.add(
                    section, f"commit #{i + 1}", self.c.commit(batch_id, c, listed, sender=h)
                )
        first = vectors[0]
        for i, (h, v) in enumerate(zip(holders, vectors, strict=True)):
            full = v != first or i == 0  # a vector equal to one revealed in full may be omitted
            listed = self.hl(batch_id)
            tx = self.c.reveal(
                batch_id, vector_hash(v), keccak(b"s"), v if full else [], listed, sender=h
            )
            settles = " (settles)" if i == len(holders) - 1 and v == first else ""
            label = f"reveal #{i + 1}{settles}"
            self.table.add(section, label, tx)

    def batch(self, n: int) -> dict[str, Any]:
        section = f"v2 batch {n}"
        batch_id, holders, calldata = self.seated_batch(n, section)
        v = [self.result] * n
        self.commit_reveal(batch_id, holders, [v, v, v], section)
        results = [AttestedResult(self.result, (str(self.attester.address),)) for _ in self.posted]
        cosignature = sign_cosignature(
            self.attester.private_key,
            chain.chain_id,
            str(self.c.address),
            batch_id,
            str(self.gateway.address),
            batch_root([Leaf.of(t) for t in self.posted]),
            results,
        )
        cosigned = open_cosignatures(results, {str(self.attester.address): cosignature})
        challenge_window = int(self.s.court.courtParams().challengeWindow)
        chain.mine(deltatime=challenge_window)  # attesters are paid once no challenge can come
        # the attested results are the final vector: the compact opening, no results, no vector
        opening, final_vector = open_args(results, v)
        self.table.add(
            section,
            "openResults (compact, co-signature checked)",
            self.c.openResults(
                batch_id, self.salt, opening, final_vector, cosigned, sender=self.gateway
            ),
        )
        settled = self.table.total(section)
        claims = self.claims(batch_id, holders, section)
        total = settled + claims
        return {
            "tickets": n,
            "gas": total,
            "gas_per_ticket": total // n,
            "gas_without_claims": settled,
            "gas_per_ticket_without_claims": settled // n,
            "post_calldata_bytes_per_ticket": calldata // n,
        }

    def claims(self, batch_id: int, holders: list[Any], section: str) -> int:
        """Each holder claims its committee pay of the batch alone (claimSeatPay([batchId])); their gas."""
        gas = 0
        for i, h in enumerate(holders):
            tx = self.c.claimSeatPay([batch_id], [self.hl(batch_id)], sender=h)
            self.table.add(section, f"claimSeatPay #{i + 1}", tx)
            gas += int(tx.gas_used)
        return gas

    def single(self, steady: bool = False) -> dict[str, int]:
        """A contract's single request, its whole life. Fresh: a requester's first request (its request
        counter is a fresh word). Steady: a repeat requester (the fresh life's)."""
        section = "v2 single request" + (" (steady state)" if steady else " (fresh)")
        while True:
            # fresh: a requester that never requested (its request counter is a fresh word); steady: the
            # fresh life's requester
            if not steady:
                self.requester = self._account()
            requester = self.requester
            tx = self.c.requestExecution(
                self.function_id,
                1,
                input_hash_of(b"input"),
                2,
                int(chain.pending_timestamp) + 300,
                0,
                keccak(b"profile"),
                value=self.params.min_reward * 10,
                sender=requester,
            )
            batch_id = int(tx.events.filter(self.c.SingleRequested)[0].batchId)
            header, holders = self.drawn_holders(batch_id)
            if len(holders) == self.params.seats:
                self.headers[batch_id] = header
                break
        self.table.add(section, "requestExecution (value)", tx)
        v = [self.result]
        self.commit_reveal(batch_id, holders, [v, v, v], section)
        settled = self.table.total(section)
        # the seats' pay is deferred: each holder claims it after the challenge window (the batch, without
        # attesters, closed as it settled); the last holder's claim carries the finalizer's share (its reveal
        # settled the batch)
        chain.mine(deltatime=int(self.s.court.courtParams().challengeWindow))
        claims = self.claims(batch_id, holders, section)
        return {"gas": settled + claims, "gas_without_claims": settled, "claims": claims}

    def bulk_claim(self, count: int = 5) -> dict[str, int]:
        """One worker claims its seat pay of ``count`` settled one-leaf batches in one call (after their
        challenge windows), against its claim of one batch alone."""
        section = f"v2 claim of {count} batches at once"
        worker: Any = None
        held: list[int] = []
        while len(held) < count + 1:
            tx = self.c.requestExecution(
                self.function_id,
                1,
                input_hash_of(b"bulk"),
                2,
                int(chain.pending_timestamp) + 300,
                0,
                keccak(b"profile"),
                value=self.params.min_reward * 10,
                sender=self.requester,
            )
            batch_id = int(tx.events.filter(self.c.SingleRequested)[0].batchId)
            header, holders = self.drawn_holders(batch_id)
            worker = worker or holders[0]
            if worker not in holders:
                continue
            self.headers[batch_id] = header
            self.commit_reveal(batch_id, holders, [[self.result]] * len(holders), "scratch")
            self.table.sections.pop("scratch")  # the lives are not part of this measure
            held.append(batch_id)
        chain.mine(deltatime=int(self.s.court.courtParams().challengeWindow))
        alone = self.c.claimSeatPay(held[:1], [self.hl(b) for b in held[:1]], sender=worker)
        self.table.add(section, "claimSeatPay of 1 batch", alone)
        bulk = self.c.claimSeatPay(held[1:], [self.hl(b) for b in held[1:]], sender=worker)
        self.table.add(section, f"claimSeatPay of {count} batches", bulk)
        return {
            "one": int(alone.gas_used),
            "bulk": int(bulk.gas_used),
            "per_batch_in_bulk": int(bulk.gas_used) // count,
        }

    def disputed(self) -> int:
        section = "v2 disputed leaf"
        batch_id, holders, _ = self.seated_batch(1, section)
        vectors = [[self.result], [keccak(b"lie 1")], [keccak(b"lie 2")]]
        self.commit_reveal(batch_id, holders, vectors, section)
        self.table.add(
            section,
            "finalize (disputed: refund)",
            self.c.finalize(batch_id, vectors, self.hl(batch_id), sender=self.gateway),
        )
        return self.table.total(section)

    def orphan(self) -> int:
        [t] = self.tickets(1)
        chain.mine(deltatime=self.params.orphan_delay)  # the gateway did not post it in time
        sig = sign_ticket(self.gateway.private_key, chain.chain_id, str(self.c.address), t)
        tx = self.c.postOrphans([t.as_tuple()], [sig], b"\x00" * 32, sender=self.workers[1])
        self.table.add("v2 others", "postOrphans (1 ticket, by a stranger)", tx)
        return int(tx.gas_used)

    def header_proof(self) -> int:
        number = int(chain.blocks.head.number) - 1
        header = header_of(chain.provider.make_request, number)
        data = self.s.beacon.valueOf.as_transaction(number, header, sender=self.gateway).data
        gas = int(
            chain.provider.web3.eth.estimate_gas({"to": str(self.s.beacon.address), "data": data})
        )
        self.table.sections.setdefault("v2 others", []).append(
            ("HeaderBeacon.valueOf (call, estimated)", gas)
        )
        return gas

    def at_256(self) -> tuple[int, int]:
        for _ in range(256 - len(self.workers)):
            w = self._account()
            self.s.stakes.register(ENCRYPTION_KEY, value=2 * ETHER, sender=w)
            self.workers.append(w)
        advance = self.advance_epoch()
        self.table.add("v2 others", "advanceEpoch (256 workers)", advance)
        _, seat, _ = self.post_and_seat(self.tickets(1), b"\x00" * 32)
        self.table.add("v2 others", "seat (256 workers: header proof + draw)", seat)
        return int(advance.gas_used), int(seat.gas_used)


class Accountability:
    """The accountability paths on a V2 setup: escalation tiers, a challenge, attestation, equivocation
    and data-availability slashes."""

    def __init__(self, v2: V2) -> None:
        self.v2 = v2
        self.court = v2.s.court
        self.evidence = v2.s.evidence
        self.cp = self.court.courtParams()

    def _vote(
        self,
        batch_id: int,
        voters: list[Any],
        value: bytes | Callable[[Any], bytes],
        section: str,
        label: str,
    ) -> None:
        """Every voter commits, then reveals, ``value`` (or ``value(voter)``)."""
        of = value if callable(value) else (lambda w: value)
        v2, court = self.v2, self.court
        case = court.caseOf(batch_id, 0)
        tier = int(case.tier)
        epoch = int(case.epoch)
        stakes = v2.s.stakes
        members = [str(stakes.entryAt(epoch, j)[0]) for j in range(stakes.epochInfo(epoch).members)]
        gas = [0, 0]
        for w in voters:
            c = vote_commitment(
                chain.chain_id,
                str(court.address),
                batch_id,
                0,
                tier,
                str(w.address),
                of(w),
                keccak(b"v"),
            )
            index = members.index(str(w.address)) if tier == TIER_ALL else 0
            gas[0] += int(court.commitVote(batch_id, 0, c, index, sender=w).gas_used)
        if int(court.phaseOf(batch_id, 0)) == 2:
            chain.mine(deltatime=int(self.cp.commitWindow))
        for w in voters:
            gas[1] += int(court.revealVote(batch_id, 0, of(w), keccak(b"v"), sender=w).gas_used)
        if int(court.phaseOf(batch_id, 0)) == 3:
            chain.mine(deltatime=int(self.cp.revealWindow))
        rows = v2.table.sections.setdefault(section, [])
        rows.append((f"{label} commitVote x{len(voters)}", gas[0]))
        rows.append((f"{label} revealVote x{len(voters)}", gas[1]))

    def escalation(self) -> dict[str, int]:
        """A disputed leaf through tier 2 (decided), then challenged to tier 3 by the whole set."""
        v2, court, section = self.v2, self.court, "v2 escalation"
        batch_id, holders, _ = v2.seated_batch(1, section)
        vectors = [[v2.result], [keccak(b"lie 1")], [keccak(b"lie 2")]]
        v2.commit_reveal(batch_id, holders, vectors, section)
        v2.table.add(
            section,
            "finalize (disputed: to the court)",
            v2.c.finalize(batch_id, vectors, v2.hl(batch_id), sender=v2.gateway),
        )
        start = v2.table.total(section)
        v2.table.add(
            section,
            "escalate (tier 2 opens)",
            court.escalate(batch_id, 0, vectors, v2.hl(batch_id), sender=v2.gateway),
        )
        seed_block = int(court.caseOf(batch_id, 0).seedBlock)
        head = int(chain.blocks.head.number)
        if head <= seed_block:
            chain.mine(seed_block - head + 1)
        proof = header_of(chain.provider.make_request, seed_block)
        v2.table.add(
            section,
            "seatPanel (header proof + 2K+1 draw)",
            court.seatPanel(batch_id, 0, proof, sender=v2.gateway),
        )
        panel = [v2.by[str(v.worker)] for v in court.votersOf(batch_id, 0, TIER_PANEL)]
        self._vote(batch_id, panel, v2.result, section, "tier 2")
        v2.table.add(section, "decide (tier 2)", court.decide(batch_id, 0, sender=v2.gateway))
        tier2 = v2.table.total(section) - start
        bond = 2 * int(self.cp.challengeBond)
        v2.table.add(
            section,
            "challenge (tier 3 opens)",
            court.challenge(batch_id, 0, [], [], value=bond, sender=v2.workers[0]),
        )
        self._vote(batch_id, v2.workers, v2.result, section, f"tier 3 ({len(v2.workers)} voters)")
        v2.table.add(
            section,
            f"decide + close (tier 3, {len(v2.workers)} voters)",
            court.decide(batch_id, 0, sender=v2.gateway),
        )
        return {"tier2": tier2, "tier3": v2.table.total(section) - start - tier2}

    def challenge(self) -> int:
        """A stranger's challenge of a tier-1 Final leaf (tier 2 opens), decided, then closed."""
        v2, court, section = self.v2, self.court, "v2 challenge"
        batch_id, holders, _ = v2.seated_batch(1, section)
        v = [v2.result]
        v2.commit_reveal(batch_id, holders, [v, v, v], section)
        start = v2.table.total(section)
        bond = int(self.cp.challengeBond)
        v2.table.add(
            section,
            "challenge (final leaf, tier 2 opens)",
            court.challenge(batch_id, 0, [v], v2.hl(batch_id), value=bond, sender=v2.workers[1]),
        )
        seed_block = int(court.caseOf(batch_id, 0).seedBlock)
        chain.mine(max(1, seed_block - int(chain.blocks.head.number) + 1))
        proof = header_of(chain.provider.make_request, seed_block)
        v2.table.add(section, "seatPanel", court.seatPanel(batch_id, 0, proof, sender=v2.gateway))
        panel = [v2.by[str(x.worker)] for x in court.votersOf(batch_id, 0, TIER_PANEL)]
        self._vote(batch_id, panel, v2.result, section, "tier 2")
        v2.table.add(section, "decide (tier 2)", court.decide(batch_id, 0, sender=v2.gateway))
        chain.mine(deltatime=int(self.cp.challengeWindow))
        v2.table.add(
            section,
            "close (bond forfeited to the winners)",
            court.close(batch_id, 0, sender=v2.gateway),
        )
        return v2.table.total(section) - start

    def attester_challenge(self) -> int:
        """An unstaked attester challenges a Final leaf that contradicts its attestation (tier 2 opens)."""
        v2, court, section = self.v2, self.court, "v2 challenge"
        attester = v2._account()  # never staked
        tickets = v2.tickets(1)
        results = [AttestedResult(v2.result, (str(attester.address),))]
        post, _, batch_id = v2.post_and_seat(tickets, results_commitment(results, v2.salt))
        holders = [
            v2.by[to_checksum_address((h & (2**160 - 1)).to_bytes(20, "big"))]
            for h in v2.hl(batch_id)
        ]
        lie = [keccak(b"lie")]
        v2.commit_reveal(batch_id, holders, [lie] * len(holders), "scratch")
        v2.table.sections.pop("scratch")
        sig = sign_attestation(
            attester.private_key,
            chain.chain_id,
            str(v2.c.address),
            ticket_hash(tickets[0]),
            v2.result,
        )
        tx = court.challengeAsAttester(
            batch_id,
            0,
            [lie],
            v2.hl(batch_id),
            (tickets[0].as_tuple(), v2.result, sig, []),
            value=int(self.cp.challengeBond),
            sender=attester,
        )
        v2.table.add(section, "challengeAsAttester (unstaked, tier 2 opens)", tx)
        return int(tx.gas_used)

    def final_vote_256(self) -> dict[str, int]:
        """Tier 3 with every one of 256 active workers voting, 127 of them for a lie (run after at_256)."""
        v2, court, section = self.v2, self.court, "v2 final vote (256)"
        stakes = v2.s.stakes
        for _ in range(4):  # workers slashed (and jailed) by the paths above come back
            if int(stakes.epochInfo(stakes.currentEpoch()).members) == 256:
                break
            v2.advance_epoch()
        batch_id, holders, _ = v2.seated_batch(1, section)
        vectors = [[v2.result], [keccak(b"lie 1")], [keccak(b"lie 2")]]
        v2.commit_reveal(batch_id, holders, vectors, section)
        v2.c.finalize(batch_id, vectors, v2.hl(batch_id), sender=v2.gateway)
        escalate = court.escalate(batch_id, 0, vectors, v2.hl(batch_id), sender=v2.gateway)
        v2.table.add(section, "escalate", escalate)
        seed_block = int(court.caseOf(batch_id, 0).seedBlock)
        chain.mine(max(1, seed_block - int(chain.blocks.head.number) + 1))
        proof = header_of(chain.provider.make_request, seed_block)
        v2.table.add(section, "seatPanel", court.seatPanel(batch_id, 0, proof, sender=v2.gateway))
        panel = [v2.by[str(x.worker)] for x in court.votersOf(batch_id, 0, TIER_PANEL)]
        self._vote(batch_id, panel, bytes(32), section, "tier 2 (all abstain)")
        v2.table.add(
            section,
            "decide (tier 2: no majority, tier 3 opens)",
            court.decide(batch_id, 0, sender=v2.gateway),
        )
        lie = keccak(b"lie 1")
        epoch = int(court.caseOf(batch_id, 0).epoch)
        voters = [
            v2.by[str(stakes.entryAt(epoch, j)[0])] for j in range(stakes.epochInfo(epoch).members)
        ]
        liars = {str(w.address) for w in voters[1::2][: (len(voters) - 1) // 2]}
        self._vote(
            batch_id,
            voters,
            lambda w: lie if str(w.address) in liars else v2.result,
            section,
            f"tier 3 ({len(voters)} voters)",
        )
        tx = court.decide(batch_id, 0, sender=v2.gateway)
        label = f"decide + close ({len(voters)} voters, {len(liars)} slashed)"
        v2.table.add(section, label, tx)
        assert bytes(court.caseOf(batch_id, 0).value) == v2.result
        return {
            "voters": len(voters),
            "slashed": len(list(tx.events.filter(court.VoterSlashed))),
            "decide_close": int(tx.gas_used),
            "block_gas_limit": int(chain.blocks.head.gas_limit),
        }

    def evidence_paths(self) -> dict[str, int]:
        v2, ev, section = self.v2, self.evidence, "v2 evidence"
        out: dict[str, int] = {}
        liar = v2.workers[2]
        tickets = v2.tickets(1)
        results = [AttestedResult(v2.result, (str(liar.address),))]
        post, _, batch_id = v2.post_and_seat(tickets, results_commitment(results, v2.salt))
        holders = [
            v2.by[to_checksum_address((h & (2**160 - 1)).to_bytes(20, "big"))]
            for h in v2.hl(batch_id)
        ]
        leaf = Leaf.of(tickets[0])
        tx = ev.openDataChallenge(
            batch_id,
            0,
            leaf.encode(),
            [],
            v2.hl(batch_id),
            value=int(self.cp.dataBond),
            sender=holders[0],
        )
        v2.table.add(section, "openDataChallenge", tx)
        out["data_challenge"] = int(tx.gas_used)
        tx = ev.publishInput(batch_id, 0, tickets[0].seq.to_bytes(8, "big"), sender=v2.gateway)
        v2.table.add(section, "publishInput (8 bytes)", tx)
        v = [v2.result]
        v2.commit_reveal(batch_id, holders, [v] * len(holders), section)
        chain.mine(deltatime=int(self.cp.challengeWindow))
        th = ticket_hash(tickets[0])
        sig = sign_attestation(
            liar.private_key, chain.chain_id, str(v2.c.address), th, keccak(b"lie")
        )
        tx = ev.slashAttestation(
            (tickets[0].as_tuple(), keccak(b"lie"), sig, batch_id, 0, [], v), sender=v2.workers[3]
        )
        v2.table.add(section, "slashAttestation", tx)
        out["attestation_slash"] = int(tx.gas_used)
        twin = dataclasses.replace(tickets[0], input_hash=input_hash_of(b"twin"))
        key = v2.gateway.private_key
        sa = sign_ticket(key, chain.chain_id, str(v2.c.address), tickets[0])
        sb = sign_ticket(key, chain.chain_id, str(v2.c.address), twin)
        tx = ev.proveEquivocation(
            tickets[0].as_tuple(), sa, twin.as_tuple(), sb, sender=v2.workers[3]
        )
        v2.table.add(section, "proveEquivocation", tx)
        out["equivocation_slash"] = int(tx.gas_used)
        v2.s.gateways.bond(value=2 * ETHER, sender=v2.gateway)  # the whole bond went: bond again
        return out


def measure_v2(table: GasTable) -> dict[str, Any]:
    """Runs the v2 measurements on the connected chain; returns the summary figures."""
    v2 = V2(table)
    summary: dict[str, Any] = {"batches": [v2.batch(n) for n in (1, 10, 100)]}
    summary["single_request_life"] = v2.single()
    summary["single_request_life_steady"] = v2.single(steady=True)
    summary["seat_pay_claims"] = v2.bulk_claim()
    summary["disputed_leaf"] = v2.disputed()
    summary["orphan_posted_alone"] = v2.orphan()
    summary["header_proof"] = v2.header_proof()
    acc = Accountability(v2)
    summary["escalation"] = acc.escalation()
    summary["challenge_final_leaf"] = acc.challenge()
    summary.update(acc.evidence_paths())
    summary["attester_challenge"] = acc.attester_challenge()
    summary["advance_epoch_256"], summary["seat_256"] = v2.at_256()
    summary["final_vote_256"] = acc.final_vote_256()
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--protocol", choices=["v1", "v2", "both"], default="both")
    args = parser.parse_args(argv)
    logger.set_level("ERROR")
    params = DeployParams(max_commits=3, quorum=2)
    table = GasTable()
    summary: dict[str, Any] = {}
    # host "auto": a fresh anvil on a random port, so a chain another process uses is never touched.
    with networks.ethereum.local.use_provider(
        "foundry", provider_settings={"host": "auto"}, disconnect_after=True
    ):
        if args.protocol in ("v1", "both"):
            table = measure(params)
        if args.protocol in ("v2", "both"):
            summary = measure_v2(table)
    if args.json:
        print(json.dumps({**table.as_json(), "v2": summary}, indent=2))
    else:
        print(table.render())
        if summary:
            print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
