"""What the settlement tests that run a worker's duties on the real chain share: the worker's
signing key, a committee duty that takes its results from a ledger, a worker's accountability
duties with their own sender, a bounded wait, and the worker's event loop on its own thread."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hexbytes import HexBytes

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.chain.settlement import SettlementView
from peerhost.wire.ticket import Ticket
from peerhost.worker.accountability import Accountability
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.committee import Committee
from peerhost.worker.duties import DutyLog


def key_of(account: Any) -> bytes:
    """A test account's private key, as the worker's services take it."""
    return bytes.fromhex(str(account.private_key).removeprefix("0x"))


def accountability_of(
    config: ChainConfig, account: Any, leaves_of: Any, leaf_result: Any, **options: Any
) -> tuple[RpcClient, Accountability]:
    """``account``'s accountability duties on ``config``'s chain with their own RPC client and
    sender (challenges off, polling every 0.1 s unless ``options`` say otherwise); close both."""
    rpc = RpcClient(config.rpc_url)
    view = SettlementView(config, rpc, TxSender(rpc, key_of(account), config.chain_id))
    settings: dict[str, Any] = {"challenges": False, "poll": 0.1, **options}
    accountability = Accountability(
        view,
        str(account.address),
        leaves_of=leaves_of,
        leaf_result=leaf_result,
        attested=lambda gateway, seq: None,
        gateway_urls=dict,
        duties=DutyLog(":memory:"),
        **settings,
    )
    return rpc, accountability


def ledger_committee(
    config: ChainConfig,
    account: Any,
    ledger: AttestedLedger,
    *,
    poll: float = 0.1,
    kind: type[Committee] = Committee,
    **options: Any,
) -> tuple[Committee, RpcClient]:
    """``account``'s committee duty on the real chain, with its own RPC client (close it after
    the committee); it never runs a leaf: its result of every ticket is in ``ledger``."""
    rpc = RpcClient(config.rpc_url)
    view = SettlementView(config, rpc, TxSender(rpc, key_of(account), config.chain_id))
    committee = kind(
        view,
        None,  # type: ignore[arg-type]  # never runs a leaf: its result is in the ledger
        ledger,
        key_of(account),
        str(account.address),
        dict,
        challenges=False,
        poll=poll,
        **options,
    )
    return committee, rpc


@contextlib.contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A real HTTP server on a free loopback port answering with ``handler``: its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def refusing_gateway_at() -> Iterator[str]:
    """A gateway whose input endpoint refuses every request at once (404): a withheld input."""

    class Refuse(QuietHandler):
        def do_GET(self) -> None:
            self.send_error(404)

    with http_server(Refuse) as url:
        yield url


def seated_two_holders(kit: Any, leaves: int) -> tuple[Any, list[str]]:
    """(posted, holders) of a batch of ``leaves`` tickets whose draw seated at least two distinct
    holders (one holder alone settles the batch by itself)."""
    for _ in range(60):
        posted = kit.post(tickets=kit.tickets(leaves))
        holders = kit.seat(posted.batch_id)
        if len(holders) >= 2:
            return posted, holders
    raise AssertionError("no draw with two distinct holders in 60 tries")


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Polls ``condition`` until it holds; fails naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds:.0f} s")
        time.sleep(0.1)


def mined_before_revert(chain: Any) -> None:
    """Waits until the node has mined every transaction sent to it. A duty cancelled after its
    send leaves anvil mining that transaction's block, and anvil 1.7.1's ``evm_revert`` (ape's
    isolation, next) does not wait for the block being mined: the head stays ahead of the
    state's block number and the blocks in between are gone (CI: the next test's seed block
    "does not exist yet"). Two readings 0.2 s apart: a send on its way at the first lands by
    the second."""

    def pending() -> int:
        return int(chain.provider.make_request("txpool_status", [])["pending"], 16)

    def settled() -> bool:
        if pending():
            return False
        time.sleep(0.2)
        return pending() == 0

    wait_for(settled, 30, "the worker's last transactions mined before the chain is reverted")


class ThreadLoop:
    """An event loop on its own thread (the worker's), while the test drives the chain."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 60.0) -> Any:
        """Runs ``coro`` on the loop and waits for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self, coro: Any) -> Any:
        """Starts ``coro`` on the loop; its future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        """Cancels what still runs on the loop (a duty a test started and left: it could send a
        transaction after the test's chain was restored, into the next test's), then stops it."""
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_cancel_the_rest(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


async def _cancel_the_rest() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


#: The result every :class:`LedgerWorker` attested for every ticket.
GOOD = b"\x11" * 32


class LedgerWorker:
    """One worker's committee duty on the real chain; its result of every ticket is in its ledger."""

    def __init__(
        self,
        config: ChainConfig,
        account: Any,
        tmp: Path,
        kit: Any,
        tickets: list[Any],
        **options: Any,
    ) -> None:
        self.ledger = AttestedLedger(str(tmp / f"{account.address}.sqlite"))
        for ticket in tickets:
            self.ledger.claim(ticket, b"\x01" * 32, kit.project_id, b"\x02" * 65)
            self.ledger.attest(ticket, GOOD, b"\x03" * 65)
        self.committee, self.rpc = ledger_committee(config, account, self.ledger, **options)
        self._running: Any = None  # the duty's future, once started

    def start(self, loop: ThreadLoop, batch_id: int) -> None:
        """Starts the duty of ``batch_id`` on ``loop``."""
        self._running = loop.start(self.committee.duty(batch_id, {}))

    def stop(self, loop: ThreadLoop) -> None:
        """Cancels the duty and closes the committee, its RPC client and its ledger."""
        self._running.cancel()
        loop.run(self.close())
        self.ledger.close()

    async def close(self) -> None:
        await self.committee.close()
        await self.rpc.aclose()


def sent_to_coordinator(kit: Any, since: int) -> list[bytes]:
    """The selectors of the coordinator calls mined from block ``since`` on."""
    coordinator = str(kit.coordinator.address).lower()
    selectors = []
    for number in range(since, int(kit.chain.blocks.head.number) + 1):
        block = kit.request("eth_getBlockByNumber", [hex(number), True])
        for tx in block["transactions"]:
            if str(tx.get("to") or "").lower() == coordinator:
                selectors.append(bytes(HexBytes(tx["input"]))[:4])
    return selectors


#: The result every ticket of :class:`Seats`' ledgers attested.
GOOD = b"\x11" * 32


class Seats:
    """A committee duty (its log loop running) for each staked worker, each with a ledger that
    attested ``tickets``."""

    def __init__(
        self,
        config: ChainConfig,
        workers: list[Any],
        kit: Any,
        loop: ThreadLoop,
        tmp: Path,
        tickets: list[Ticket],
        **options: Any,
    ) -> None:
        self.loop = loop
        self.ledgers: list[AttestedLedger] = []
        self.committees: list[Committee] = []
        self.rpcs: list[RpcClient] = []
        self.runs: list[Any] = []
        for i, worker in enumerate(workers):
            ledger = AttestedLedger(str(tmp / f"attested-{i}.sqlite"))
            for t in tickets:
                ledger.claim(t, b"\x01" * 32, kit.project_id, b"\x02" * 65)
                ledger.attest(t, GOOD, b"\x03" * 65)
            committee, rpc = ledger_committee(config, worker, ledger, **options)
            self.ledgers.append(ledger)
            self.committees.append(committee)
            self.rpcs.append(rpc)
        self.runs = [loop.start(c.run()) for c in self.committees]

    def read_to(self, number: int) -> None:
        wait_for(
            lambda: all(
                c._checkpoints and c._checkpoints[-1][0] >= number for c in self.committees
            ),
            30,
            f"every log loop reading up to block {number}",
        )

    def close(self) -> None:
        for run in self.runs:
            run.cancel()
        for committee, rpc, ledger in zip(self.committees, self.rpcs, self.ledgers, strict=True):
            self.loop.run(committee.close())
            self.loop.run(rpc.aclose())
            ledger.close()
