"""Where one call's time goes: monotonic timestamps of its stages, kept per call (debug only).

Off by default (the gateway's and the worker's ``trace_stages`` setting). When on, each process
marks the stages a call passes (``time.monotonic_ns()``, one clock for every process of the
machine, so the gateway's and a worker's marks of one ticket can be set side by side) and keeps
the last :data:`KEEP` calls' marks in memory: the gateway returns a call's marks in the
:data:`TRACE_HEADER` response header, a worker serves them at ``/trace.json`` on its metrics
endpoint. ``bench/e2e_bench.py --trace`` reads both and prints the median of each stage.

A stage is marked once (the first mark wins); a call's key is whatever identifies it in that
process (the gateway: the request id; a worker: the ticket's gateway and seq).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable

from peerhost.wire.headers import TRACE_HEADER

__all__ = ["KEEP", "TRACE_HEADER", "StageTrace", "header_value", "parse_header"]

#: Calls whose marks are kept (the oldest are dropped first).
KEEP = 4096


class StageTrace:
    """The marks of the last :data:`KEEP` calls of this process (module docstring)."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._calls: OrderedDict[Hashable, dict[str, int]] = OrderedDict()

    def mark(self, key: Hashable, stage: str, at: int | None = None) -> None:
        """Marks ``stage`` of call ``key`` now (or ``at``, monotonic ns) unless it was marked."""
        marks = self._calls.get(key)
        if marks is None:
            marks = self._calls[key] = {}
            if len(self._calls) > self.keep:
                self._calls.popitem(last=False)
        if stage not in marks:
            marks[stage] = time.monotonic_ns() if at is None else at

    def marks(self, key: Hashable) -> dict[str, int]:
        """The marks of call ``key`` (empty when it was not traced or was dropped)."""
        return dict(self._calls.get(key, {}))

    def snapshot(self) -> dict[str, dict[str, int]]:
        """Every kept call's marks, keyed by ``str(key)``."""
        return {_text(key): dict(marks) for key, marks in self._calls.items()}


def _text(key: Hashable) -> str:
    if isinstance(key, bytes):
        return "0x" + key.hex()
    if isinstance(key, tuple):
        return "/".join(_text(part) for part in key)
    return str(key)


def header_value(marks: dict[str, int]) -> str:
    """``stage=ns,...`` in time order (the :data:`TRACE_HEADER` value)."""
    return ",".join(f"{stage}={at}" for stage, at in sorted(marks.items(), key=lambda kv: kv[1]))


def parse_header(value: str) -> dict[str, int]:
    """The marks of a :data:`TRACE_HEADER` value; malformed pairs are skipped."""
    out: dict[str, int] = {}
    for pair in value.split(","):
        stage, _, at = pair.strip().partition("=")
        if stage and at.isdigit():
            out[stage] = int(at)
    return out
