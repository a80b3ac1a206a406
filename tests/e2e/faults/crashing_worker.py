"""A worker node that dies by SIGKILL at one point of its duty, for the fault-injection tests:
``python crashing_worker.py`` takes the same flags and environment as ``python -m
peerhost.worker``, plus ``PEERHOST_FAULT_CRASH``, the point at which it kills itself (once):

- ``attest``: right after its first attestation was recorded and handed to the feed;
- ``commit``: right after its first seat commitment was confirmed on-chain (commit phase);
- ``reveal``: when its first reveal is due (the batch is in its reveal phase), before sending it.

Until then it is an honest worker; the point is injected into this node's committee and ticket
runner (subclasses swapped in here); the production worker knows nothing of it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from peerhost.wire.feed import Answer
from peerhost.worker import node
from peerhost.worker.cli import main
from peerhost.worker.committee import Committee
from peerhost.worker.tickets import TicketRunner

#: What :func:`peerhost.worker.launcher.start_worker` runs to start this node.
PROGRAM = (str(Path(__file__).resolve()),)
#: The environment variable naming the crash point.
CRASH_ENV = "PEERHOST_FAULT_CRASH"
POINTS = ("attest", "commit", "reveal")

POINT = os.environ.get(CRASH_ENV, "")


def crash(point: str, batch: int = 0) -> None:
    """SIGKILL this process (nothing is flushed, nothing is closed: a crash), after one log line
    saying where, with this process's id: a worker restarted with the same data directory
    appends to the same log, and an earlier process's crash must not be taken for this one's."""
    event = {"event": "fault_injected", "point": point, "batch": batch, "pid": os.getpid()}
    sys.stderr.write(json.dumps(event) + "\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class CrashingTicketRunner(TicketRunner):
    async def handle(self, *args: Any, **kwargs: Any) -> Any:
        outcome = await super().handle(*args, **kwargs)
        if POINT == "attest" and isinstance(outcome, Answer):
            # the feed sends the answer as soon as this returns; the crash follows it
            asyncio.get_running_loop().call_later(0.2, crash, POINT)
        return outcome


class CrashingCommittee(Committee):
    async def _send(self, name: str, *args: Any) -> dict[str, Any]:
        if POINT == "reveal" and name == "reveal":
            crash(POINT, int(args[0]))
        receipt = await super()._send(name, *args)
        if POINT == "commit" and name in ("commit", "seatAndCommit"):
            crash(POINT, int(args[0]))
        return receipt


if __name__ == "__main__":
    if POINT not in POINTS:
        raise SystemExit(f"{CRASH_ENV} must be one of {', '.join(POINTS)}, not {POINT!r}")
    node.TicketRunner = CrashingTicketRunner  # type: ignore[misc]
    node.Committee = CrashingCommittee  # type: ignore[misc]
    sys.exit(main())
