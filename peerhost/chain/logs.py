"""Follow contract logs: a WebSocket subscription with backfill from a persisted cursor.

The follower subscribes first, then backfills with ``eth_getLogs`` from the cursor, and skips
every log at or before the cursor, so after a disconnect or a restart no log is missed and
none is yielded twice. The cursor advances only after the consumer has handled a log (when the
generator resumes), so a crash re-delivers at most the log that was being handled: consumers
must be idempotent for that one. A pushed log at or before the cursor is delivered when its
block is not the one the follower saw at that height: a live reorg replaced it, and the
replacing block's logs take the positions the replaced block's had.

With ``confirmations > 0`` the follower polls instead and only yields logs that many blocks deep.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import websockets

from peerhost.chain.errors import ChainUnavailable, RpcError, without_url
from peerhost.chain.rpc import RpcClient

log = logging.getLogger(__name__)

_GETLOGS_SPAN = 2_000
_REWIND_ON_REORG = 64


@dataclass(frozen=True, order=True)
class Position:
    """Where a log sits in the chain; the cursor is the position of the last handled log."""

    block: int
    index: int
    block_hash: str = ""


class Cursor(Protocol):
    def load(self) -> Position | None: ...
    def save(self, position: Position) -> None: ...


class MemoryCursor:
    """A cursor that lives as long as the process."""

    def __init__(self, start: Position | None = None) -> None:
        self._position = start

    def load(self) -> Position | None:
        return self._position

    def save(self, position: Position) -> None:
        self._position = position


class FileCursor:
    """A cursor persisted as JSON, written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Position | None:
        if not self.path.exists():
            return None
        data = json.loads(self.path.read_text())
        return Position(data["block"], data["index"], data.get("block_hash", ""))

    def save(self, position: Position) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "block": position.block,
                    "index": position.index,
                    "block_hash": position.block_hash,
                }
            )
        )
        tmp.replace(self.path)


def position_of(entry: dict[str, Any]) -> Position:
    return Position(
        int(entry["blockNumber"], 16), int(entry["logIndex"], 16), entry.get("blockHash", "")
    )


class LogFollower:
    """Yields the raw logs of ``addresses`` in chain order, resuming from ``cursor``.

    Args:
        rpc: HTTP JSON-RPC client (backfill, block checks).
        ws_url: WebSocket endpoint for ``eth_subscribe``.
        addresses: Contract addresses to follow.
        cursor: Where the last handled log was; None starts at ``start_block``.
        start_block: First block to read when the cursor is empty (default: the latest block).
        confirmations: Blocks a log must be buried under before it is yielded (0: at once).
    """

    def __init__(
        self,
        rpc: RpcClient,
        ws_url: str,
        addresses: list[str],
        cursor: Cursor | None = None,
        *,
        start_block: int | None = None,
        confirmations: int = 0,
        poll_interval: float = 0.5,
        max_backoff: float = 5.0,
    ) -> None:
        self.rpc = rpc
        self.ws_url = ws_url
        self.addresses = addresses
        self.cursor = cursor or MemoryCursor()
        self.start_block = start_block
        self.confirmations = confirmations
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.reconnects = 0
        #: Set while the follower is caught up and subscribed (after backfill); cleared on a drop.
        self.live = asyncio.Event()
        #: block number -> hash of the recent blocks whose logs were read (a reorg's replacing
        #: block is told from the block it replaced by its hash)
        self._hashes: dict[int, str] = {}

    async def _head(self) -> int:
        return int(await self.rpc.call("eth_blockNumber"), 16)

    async def _resume_point(self) -> Position:
        position = self.cursor.load()
        if position is None:
            start = self.start_block if self.start_block is not None else await self._head()
            return Position(start, -1)
        if position.block_hash:
            block = await self.rpc.call("eth_getBlockByNumber", [hex(position.block), False])
            if block is None or block["hash"] != position.block_hash:
                rewound = max(0, position.block - _REWIND_ON_REORG)
                log.warning(
                    "chain rewound under the cursor at block %d; re-reading from %d",
                    position.block,
                    rewound,
                )
                return Position(rewound, -1)
        return position

    async def _get_logs(self, first: int, last: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for lo in range(first, last + 1, _GETLOGS_SPAN):
            hi = min(last, lo + _GETLOGS_SPAN - 1)
            out += await self.rpc.call(
                "eth_getLogs",
                [{"address": self.addresses, "fromBlock": hex(lo), "toBlock": hex(hi)}],
            )
        out.sort(key=lambda e: (int(e["blockNumber"], 16), int(e["logIndex"], 16)))
        return out

    async def stream(self) -> AsyncIterator[dict[str, Any]]:
        """The logs, forever; reconnects with backoff when the node goes away."""
        backoff = 0.2
        while True:
            try:
                if self.confirmations > 0:
                    async for entry in self._poll():
                        yield entry
                else:
                    async for entry in self._subscribe():
                        yield entry
                        backoff = 0.2
            except (OSError, ChainUnavailable, RpcError, websockets.WebSocketException) as exc:
                self.live.clear()
                self.reconnects += 1
                log.warning(
                    "log stream interrupted (%s); reconnecting in %.1f s",
                    without_url(exc, self.ws_url),
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(self.max_backoff, backoff * 2)

    def _seen(self, position: Position) -> None:
        if position.block_hash:
            self._hashes[position.block] = position.block_hash
            while len(self._hashes) > _REWIND_ON_REORG:
                del self._hashes[min(self._hashes)]

    async def _emit(
        self, entries: list[dict[str, Any]], after: Position, *, live: bool = False
    ) -> AsyncIterator[dict[str, Any]]:
        """Yields the entries past ``after``. A ``live`` (pushed) entry at or below it is yielded
        too when its block is not the one this follower saw at that height (a reorg replaced it:
        the node pushes the new block's logs, whose positions the old block's logs had held)."""
        self._seen(after)
        for entry in entries:
            if entry.get("removed"):
                continue
            position = position_of(entry)
            if (position.block, position.index) <= (after.block, after.index):
                known = self._hashes.get(position.block)
                if not live or not position.block_hash or known == position.block_hash:
                    self._seen(position)
                    continue
            self._seen(position)
            yield entry
            self.cursor.save(position)  # the consumer has handled it
            after = position

    async def _subscribe(self) -> AsyncIterator[dict[str, Any]]:
        async with websockets.connect(self.ws_url, max_size=2**24, open_timeout=5) as ws:
            await ws.send(
                json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "eth_subscribe",
                        "params": ["logs", {"address": self.addresses}],
                    }
                )
            )
            reply = json.loads(await ws.recv())
            if "error" in reply:
                raise RpcError(
                    "eth_subscribe",
                    reply["error"].get("code", 0),
                    reply["error"].get("message", ""),
                )
            after = await self._resume_point()
            head = await self._head()
            if head >= after.block:
                async for entry in self._emit(
                    await self._get_logs(max(after.block, 0), head), after
                ):
                    yield entry
            self.live.set()
            async for message in ws:
                note = json.loads(message)
                entry = note.get("params", {}).get("result")
                if not isinstance(entry, dict):
                    continue
                current = self.cursor.load() or after
                async for e in self._emit([entry], current, live=True):
                    yield e
            self.live.clear()

    async def _poll(self) -> AsyncIterator[dict[str, Any]]:
        after = await self._resume_point()
        while True:
            safe = await self._head() - self.confirmations
            if safe >= max(after.block, 0):
                async for entry in self._emit(
                    await self._get_logs(max(after.block, 0), safe), after
                ):
                    yield entry
                after = self.cursor.load() or Position(safe, 1 << 30)
                if after.block < safe:
                    after = Position(safe, 1 << 30)
            self.live.set()
            await asyncio.sleep(self.poll_interval)
