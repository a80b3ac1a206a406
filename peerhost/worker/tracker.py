"""What the node has seen of one request on-chain, so a job waits on events instead of polling."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class RequestTracker:
    """Counts and flags fed by the coordinator's events; ``changed`` wakes the job's task."""

    commits: int = 0
    reveals: int = 0
    reveal_open: bool = False
    settled: bool = False
    my_index: int | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def touch(self) -> None:
        self.changed.set()

    async def wait(self, timeout: float) -> None:
        """Waits until an event touched this request or ``timeout`` seconds passed."""
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout)
        self.changed.clear()
