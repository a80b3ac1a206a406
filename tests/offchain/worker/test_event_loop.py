"""The processes' runtime (peerhost.eventloop): uvloop's loop or asyncio's, and the start-up heap
frozen out of the collector's sight."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from peerhost import eventloop


def test_event_loop__uvloop_missing__falls_back_to_asyncios_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(eventloop, "uvloop", None)

    async def main() -> str:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()).__module__

    assert eventloop.loop_name() == "asyncio"
    assert eventloop.run(main()).startswith("asyncio")


def test_freeze_heap__in_a_fresh_process__imports_frozen_and_new_cycles_still_collected() -> None:
    # in a child: what is frozen is never collected, so the test process itself never freezes
    code = (
        "import gc, weakref\n"
        "from peerhost import eventloop\n"
        "import peerhost.worker.node\n"
        "eventloop.freeze_heap()\n"
        "frozen = gc.get_freeze_count()\n"
        "class Node: pass\n"
        "a, b = Node(), Node(); a.other, b.other = b, a\n"
        "gone = weakref.ref(a); del a, b\n"
        "gc.collect()\n"
        "print(frozen, gone() is None)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()
    assert int(out[0]) > 10_000  # the package's and its libraries' objects
    assert out[1] == "True"  # a cycle made after the freeze is still collected
