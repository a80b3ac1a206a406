"""Where a stateful machine's run leaves its figures for ``bench/campaign.py``.

With ``PEERHOST_STATEFUL_REPORT_DIR`` set, each machine writes ``<machine>.json`` there: its
counters (sequences, steps, batches, finalized or disputed leaves, ...), the wall time, and the
first failure it saw (the move and the error); it rewrites the file every ``PROGRESS_EVERY``
sequences, so a run that is stopped still tells how far it got. Without the variable nothing is
written.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

PROGRESS_EVERY = 50  # sequences between rewrites


def report(
    machine: str,
    runs: dict[str, int],
    started: float,
    *,
    failure: str | None = None,
    first: bool = False,
    done: bool = False,
) -> None:
    """Writes ``machine``'s figures (when the campaign asked for them)."""
    where = os.environ.get("PEERHOST_STATEFUL_REPORT_DIR", "")
    if not where:
        return
    path = Path(where) / f"{machine}.json"
    previous: dict[str, Any] = {}
    if path.exists():
        previous = json.loads(path.read_text())
    body = {
        "machine": machine,
        "runs": dict(runs),
        "seconds": round(time.monotonic() - started, 1),
        # the first failure a move or an invariant saw, else what the run raised in the end
        "failure": previous.get("failure") or failure,
        "first": previous.get("first", False) or first,
        "done": done,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body))
    tmp.replace(path)


def progress(machine: str, runs: dict[str, int], started: float) -> None:
    """Rewrites the figures every ``PROGRESS_EVERY`` sequences."""
    if runs["sequences"] % PROGRESS_EVERY == 0:
        report(machine, runs, started)


def first_failure(machine: str, runs: dict[str, int], started: float, what: str) -> None:
    """Keeps the first failure a run saw (Hypothesis may replay it into another one)."""
    where = os.environ.get("PEERHOST_STATEFUL_REPORT_DIR", "")
    path = Path(where) / f"{machine}.json"
    if where and path.exists() and json.loads(path.read_text()).get("failure"):
        return
    report(machine, runs, started, failure=what, first=True)
