"""The chain's head for a whole process: pushed by the node where it can, read by polling where not.

Every loop of a worker that waits on the chain (the committee's log loop, the duties, the courts'
cases) used to read the head on its own every quarter second: about four calls a second each,
whether a block came or not. A :class:`HeadWatcher` holds one ``eth_subscribe newHeads`` over the
node's WebSocket (anvil and most clients offer one): a new head costs no call at all, and a loop
waits for the next one with :meth:`HeadWatcher.next`. Where the node offers no subscription (or
it drops), the watcher reads the head with one ``eth_getBlockByNumber`` per ``poll`` seconds while
someone waits, and subscribes again later.

A live subscription that tells nothing for ``quiet`` seconds is not trusted blindly: the next
waiter reads the head itself (a chain that makes no block costs one call per ``quiet`` seconds;
one that makes a block a second, none). A reorg arrives as a new head like any other; the reader
compares the head's parent hash with the last block it read (:attr:`Block.parent`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import websockets

from peerhost.chain.config import ws_url_for
from peerhost.chain.errors import ChainUnavailable, RpcError, without_url
from peerhost.chain.rpc import RpcClient

log = logging.getLogger(__name__)

#: Seconds before a dropped or refused subscription is tried again (polling meanwhile).
_RESUBSCRIBE = 5.0
#: Heads remembered by number (:attr:`HeadWatcher.recent`).
_RECENT = 128


@dataclass(frozen=True)
class Block:
    """A block header as the node announced it: enough to follow the chain and its clock."""

    number: int
    hash: str
    parent: str
    timestamp: int

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Block:
        """From a JSON-RPC block or ``newHeads`` notification (hex strings)."""
        return cls(
            int(str(raw["number"]), 16),
            str(raw["hash"]),
            str(raw["parentHash"]),
            int(str(raw["timestamp"]), 16),
        )


class HeadWatcher:
    """The latest block, shared by every loop of a process (module docstring).

    Args:
        rpc: The JSON-RPC client (head reads while no subscription is live).
        ws_url: The node's WebSocket endpoint ("": poll only; an ``http(s)://`` URL: the same
            port's WebSocket, as anvil serves both).
        poll: Seconds between head reads while polling.
        quiet: Seconds a live subscription may stay silent before a waiter reads the head itself.
    """

    def __init__(
        self, rpc: RpcClient, ws_url: str = "", *, poll: float = 0.25, quiet: float = 2.0
    ) -> None:
        self.rpc = rpc
        self.ws_url = ws_url_for(ws_url) if ws_url.startswith("http") else ws_url
        self.poll = poll
        self.quiet = quiet
        self.head: Block | None = None
        self.pushed = 0  # heads the subscription delivered (for tests and metrics)
        self.reads = 0  # heads read with a call
        self._seen_at = float("-inf")  # monotonic time the head was last learnt (pushed or read)
        self.learnt_at = 0.0  # wall time (``time.time``) the current head was first learnt
        #: heads that did not extend the one before by one block (a reorg, or blocks missed
        #: while polling); each calls every ``on_break`` callback at once
        self.breaks = 0
        self.on_break: list[Callable[[], None]] = []
        #: the last :data:`_RECENT` heads learnt, by number, each replaced by a reorg's block of
        #: the same number (and dropped past a lower new head): a reader that sees them linked by
        #: their parent hashes knows those blocks are one chain without a call (:meth:`linked`)
        self.recent: dict[int, Block] = {}
        self._changed = asyncio.Event()
        self._live = False
        self._task: asyncio.Task[None] | None = None
        self._reading: asyncio.Lock | None = None

    @property
    def live(self) -> bool:
        """Whether the node is pushing heads now."""
        return self._live

    def _learn(self, block: Block) -> None:
        self._seen_at = time.monotonic()
        if self.head is None or block.hash != self.head.hash:
            last = self.head
            self.head = block
            for number in [n for n in self.recent if n >= block.number]:
                del self.recent[number]
            self.recent[block.number] = block
            if len(self.recent) > _RECENT:
                del self.recent[min(self.recent)]
            self.learnt_at = time.time()
            if last is not None and (block.number != last.number + 1 or block.parent != last.hash):
                self.breaks += 1
                for callback in self.on_break:
                    callback()
            self._changed.set()
            self._changed = asyncio.Event()

    def linked(self, first: int, block: Block) -> dict[int, str] | None:
        """The hashes of blocks ``first`` to ``block`` (number -> hash) when every one of them was
        learnt and each is the parent of the next, down from ``block`` (so they are one chain, the
        one ``block`` ends); None when one is missing (polled heads skip blocks) or unlinked."""
        chain = {block.number: block.hash}
        child = block
        for number in range(block.number - 1, first - 1, -1):
            known = self.recent.get(number)
            if known is None or known.hash != child.parent:
                return None
            chain[number] = known.hash
            child = known
        return chain

    async def read(self) -> Block:
        """Reads the head with one call (concurrent readers share it)."""
        if self._reading is None:
            self._reading = asyncio.Lock()
        started = time.monotonic()
        async with self._reading:
            if self.head is not None and self._seen_at >= started:
                return self.head  # another reader's call answered meanwhile
            raw = await self.rpc.call("eth_getBlockByNumber", ["latest", False])
            self.reads += 1
            block = Block.of(raw)
            if (
                self.head is not None
                and self._seen_at > started
                and block.number <= self.head.number
            ):
                return self.head  # a push came during the call: the read may be older, keep it
            self._learn(block)
            assert self.head is not None
            return self.head

    async def latest(self, fresh: float | None = None) -> Block:
        """The head, learnt at most ``fresh`` seconds ago (default: ``poll`` while polling,
        ``quiet`` while the node pushes heads); read once when older."""
        self._start()
        limit = fresh if fresh is not None else (self.quiet if self._live else self.poll)
        if self.head is not None and time.monotonic() - self._seen_at < limit:
            return self.head
        return await self.read()

    async def next(self, after: str | None, timeout: float) -> Block:
        """The first head whose hash is not ``after``, or the head as it stands after ``timeout``
        seconds (then read with a call unless it was learnt within ``quiet`` seconds)."""
        self._start()
        deadline = time.monotonic() + timeout
        while True:
            head = await self.latest()
            if head.hash != after:
                return head
            left = deadline - time.monotonic()
            if left <= 0:
                return head
            changed = self._changed
            wait = min(left, self.quiet if self._live else self.poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), wait)

    def _start(self) -> None:
        if self.ws_url and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._follow(), name="heads")

    async def _follow(self) -> None:
        """Keeps a ``newHeads`` subscription while the watcher is open."""
        while True:
            try:
                await self._subscribe()
            except asyncio.CancelledError:
                raise
            except (OSError, RpcError, ChainUnavailable, websockets.WebSocketException) as exc:
                log.info("heads: no subscription (%s); polling", without_url(exc, self.ws_url))
            except (ValueError, KeyError, TypeError) as exc:  # a node's odd answer: poll
                log.info(
                    "heads: unreadable subscription (%s); polling", without_url(exc, self.ws_url)
                )
            finally:
                self._live = False
            await asyncio.sleep(_RESUBSCRIBE)

    async def _subscribe(self) -> None:
        async with websockets.connect(self.ws_url, max_size=2**22, open_timeout=5) as ws:
            request = {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}
            await ws.send(json.dumps(request))
            reply = json.loads(await ws.recv())
            if "error" in reply:
                err = reply["error"]
                raise RpcError("eth_subscribe", int(err.get("code", 0)), str(err.get("message")))
            self._live = True
            await self.read()  # a head mined while the subscription was set up is pushed to none
            async for message in ws:
                result = json.loads(message).get("params", {}).get("result")
                if isinstance(result, dict) and "hash" in result:
                    self.pushed += 1
                    self._learn(Block.of(result))

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


async def block_logs(
    rpc: RpcClient,
    addresses: list[str],
    topics: list[str],
    *,
    block_hash: str = "",
    first: int = 0,
    last: int = 0,
) -> list[dict[str, Any]]:
    """The raw logs of several contracts whose first topic is one of ``topics``, in one
    ``eth_getLogs``: of the block ``block_hash`` (EIP-234: exactly that block's logs, whatever
    became of it since), else of blocks ``first`` to ``last``."""
    query: dict[str, Any] = {"address": addresses, "topics": [topics]}
    if block_hash:
        query["blockHash"] = block_hash
    else:
        query["fromBlock"], query["toBlock"] = hex(first), hex(last)
    return list(await rpc.call("eth_getLogs", [query]))


__all__ = ["Block", "HeadWatcher", "block_logs"]
