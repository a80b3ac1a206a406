"""A worker whose feed drops with tickets pending (a crash, a restart) is not treated as a liar:
the drop is counted apart from wrong answers and the worker is still offered tickets.

Seen in the fault campaign (``bench/faults.py``): the victim of ``worker-killed-attest-restarted``
died with a ticket pending, the desk counted that as a bad answer (weight 5), its reputation
(2 good answers) fell to 3/8, below the probes' 0.5, and it was never offered a ticket again; the
next scenarios whose fault needs that worker to be offered a ticket (``worker-killed-attest-down``,
``clock-skewed-worker``) waited out their timeouts."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any, cast

from eth_account import Account
from eth_utils import keccak

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import ActiveSet, SettlementView
from peerhost.gateway.feed import FeedHub, WorkerLink
from peerhost.gateway.reputation import WorkerRecord, WorkerRecords
from peerhost.gateway.ticketbook import TicketBook
from peerhost.gateway.tickets import Desk, TicketCall
from peerhost.wire.ticket import Ticket

A, B, C = (Account.create().address for _ in range(3))
GATEWAY = Account.create()
CONFIG = ChainConfig(
    "http://127.0.0.1:9",
    "ws://127.0.0.1:9",
    31337,
    "0x" + "01" * 20,
    "0x" + "02" * 20,
    "0x" + "03" * 20,
    stakes="0x" + "04" * 20,
    gateways="0x" + "05" * 20,
    settlement="0x" + "06" * 20,
)


def desk_with(tmp: Path, latencies: dict[str, float], records: WorkerRecords | None = None) -> Desk:
    hub = FeedHub(GATEWAY.address, CONFIG.chain_id, records, seed=1)
    for worker, latency in latencies.items():
        hub.links[worker] = WorkerLink(worker, cast(Any, None), latency=latency)
    desk = Desk(
        SettlementView(CONFIG, RpcClient(CONFIG.rpc_url)),
        hub,
        TicketBook(tmp / "tickets.sqlite3"),
        GATEWAY.key,
        GATEWAY.address,
        attesters=2,
        ticket_life=60,
    )
    members = tuple(latencies)
    desk._active = ActiveSet(1, members, tuple(range(1, len(members) + 1)), time.monotonic())
    return desk


def pending_call(desk: Desk, worker: str, seq: int) -> bytes:
    """A ticket sent to ``worker`` and not answered yet, as the desk holds it."""
    ticket = Ticket(GATEWAY.address, seq, keccak(b"f"), 1, keccak(b"in"), 10**15, 10, 700, 1)
    rid = keccak(seq.to_bytes(32, "big"))
    call = TicketCall(ticket, rid, keccak(rid), b"sig", b"in", "fast", "p")
    call.tried.add(worker)
    call.outstanding.add(worker)
    desk.calls[rid] = call
    desk.hub.links[worker].sent_at[rid] = time.monotonic()
    return rid


def drop(desk: Desk, worker: str, pending: list[bytes]) -> None:
    """The worker's feed ends with ``pending`` unanswered (what ``FeedHub.serve`` reports)."""

    async def dropped() -> None:
        desk._on_drop(desk.hub.links[worker], pending)
        await asyncio.sleep(0)  # the replacement offers run (their sends fail: no sockets)

    asyncio.run(dropped())


def test_feed_dropped__worker_with_few_good_answers__offered_tickets_again(
    tmp_path: Path,
) -> None:
    desk = desk_with(tmp_path, {A: 0.010, B: 0.020, C: 0.030})
    for _ in range(2):
        desk.hub.credit(C, good=True)
    drop(desk, C, [pending_call(desk, C, seq) for seq in range(3)])  # it died holding three

    offered = [
        [link.worker for link in desk.hub.offer(lambda _: True, 2, set())] for _ in range(200)
    ]

    assert sum(C in picked for picked in offered) >= 2  # probed, not banned for good
    reputation = desk.hub.reputation(C)
    assert (reputation.good, reputation.bad, reputation.dropped) == (2, 0, 1)


def test_feed_dropped__counted_apart__kept_across_a_gateway_restart(tmp_path: Path) -> None:
    path = tmp_path / "workers.sqlite3"
    records = WorkerRecords(path)
    desk = desk_with(tmp_path, {A: 0.010, B: 0.020, C: 0.030}, records)
    drop(desk, C, [pending_call(desk, C, 0)])
    drop(desk, C, [])  # a feed that ends with nothing pending is no fault
    records.close()

    again = FeedHub(GATEWAY.address, CONFIG.chain_id, WorkerRecords(path))

    stored = again.reputation(C)
    assert (stored.good, stored.bad, stored.dropped) == (0, 0, 1)
    assert stored.honesty == 1.0 and stored.score == 0.5


def test_records__file_without_drops_column__opened_and_counts_kept(tmp_path: Path) -> None:
    path = tmp_path / "workers.sqlite3"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE workers (worker TEXT PRIMARY KEY, good INTEGER NOT NULL DEFAULT 0,"
        " bad INTEGER NOT NULL DEFAULT 0, latency REAL NOT NULL DEFAULT 0)"
    )
    db.execute("INSERT INTO workers VALUES (?, 4, 1, 0.25)", (C.lower(),))
    db.commit()
    db.close()

    records = WorkerRecords(path)
    records.credit(C, 4, 1, 2)

    assert records.load()[C.lower()] == WorkerRecord(good=4, bad=1, latency=0.25, dropped=2)
