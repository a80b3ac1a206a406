"""The gateway's recent log entries, per project, in memory.

One :class:`LogEntry` per answered (or failed) call: when, which function, the HTTP status and
latency, the request id and the function's log lines. Each project keeps its last ``per_project``
entries; at most ``projects`` projects are kept (the least recently written goes first). Nothing
is written to disk. Readers can wait for entries newer than a sequence number (``--follow``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class LogEntry:
    """One call's log, as the owner reads it."""

    seq: int
    at: float  # unix seconds when the gateway answered
    function: str
    status: int
    latency_ms: float
    request_id: str  # "0x…" or "-" when no request was submitted
    mode: str
    worker: str | None
    lines: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["lines"] = list(self.lines)
        return doc


ProjectKey = tuple[str, str]  # (wallet lowercase, project)


class LogStore:
    """Recent entries of each project (see the module docstring)."""

    def __init__(self, per_project: int = 200, projects: int = 1000) -> None:
        self.per_project = per_project
        self.projects = projects
        self._entries: OrderedDict[ProjectKey, deque[LogEntry]] = OrderedDict()
        self._seq = 0
        self._changed = asyncio.Event()

    @property
    def last(self) -> int:
        """The newest sequence number handed out (0 before the first entry)."""
        return self._seq

    @staticmethod
    def key(wallet: str, project: str) -> ProjectKey:
        return (wallet.lower(), project)

    def add(self, wallet: str, project: str, **fields: Any) -> LogEntry:
        """Appends an entry (``seq`` is assigned here) and wakes waiting readers."""
        self._seq += 1
        entry = LogEntry(seq=self._seq, **fields)
        key = self.key(wallet, project)
        entries = self._entries.get(key)
        if entries is None:
            entries = self._entries[key] = deque(maxlen=self.per_project)
        self._entries.move_to_end(key)
        entries.append(entry)
        while len(self._entries) > self.projects:
            self._entries.popitem(last=False)
        self._changed.set()
        self._changed = asyncio.Event()
        return entry

    def query(
        self,
        wallet: str,
        project: str,
        function: str | None = None,
        request_id: str | None = None,
        after: int = 0,
    ) -> list[LogEntry]:
        """Entries of the project newer than ``after``, oldest first, optionally filtered."""
        found = []
        for entry in self._entries.get(self.key(wallet, project), ()):
            if entry.seq <= after:
                continue
            if function is not None and entry.function != function:
                continue
            if request_id is not None and entry.request_id != request_id.lower():
                continue
            found.append(entry)
        return found

    async def wait(
        self,
        wallet: str,
        project: str,
        function: str | None,
        request_id: str | None,
        after: int,
        timeout: float,
    ) -> list[LogEntry]:
        """Like :meth:`query`, but waits up to ``timeout`` seconds for a first match."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.query(wallet, project, function, request_id, after)
            remaining = deadline - loop.time()
            if found or remaining <= 0:
                return found
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return self.query(wallet, project, function, request_id, after)
