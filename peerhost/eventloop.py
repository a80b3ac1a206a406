"""How the gateway's and the worker's processes run: on uvloop's event loop when it is installed
(else asyncio's), with the objects of their start-up out of the collector's sight.

uvloop (libuv underneath) wakes, reads and writes sockets with less Python per event than
asyncio's own loop: each fast call crosses the gateway's loop and an attester's several times
(the HTTP request, the feed's offer and answer frames, the response), so that work is on every
answer's path. It is a pinned dependency; where it cannot be imported (a platform without a wheel)
both processes fall back to asyncio's loop and behave the same, only slower.

:func:`freeze_heap` is for a process's entry point: the package and its libraries leave about
120,000 objects behind at import, and each of Python's full (oldest-generation) collections walks
them all, about 85 ms here, on whichever call's path it lands. Frozen, a full collection walks only
what the process made since.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

try:
    import uvloop
except ImportError:  # pragma: no cover - the fallback of a platform without uvloop
    uvloop = None  # type: ignore[assignment]


def loop_name() -> str:
    """``"uvloop"`` or ``"asyncio"``: the loop :func:`run` (and the gateway's server) uses."""
    return "uvloop" if uvloop is not None else "asyncio"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """Makes a new event loop of the kind :func:`loop_name` names."""
    if uvloop is not None:
        return uvloop.new_event_loop
    return asyncio.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on a fresh loop from :func:`loop_factory` (blocking)."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


def freeze_heap() -> None:
    """Collects once, then moves every object alive now out of the cyclic collector's sight
    (``gc.freeze``). Only for a process's entry point, after its imports: what is frozen is never
    collected, so a process that builds and drops many apps (a test session) must not call it."""
    gc.collect()
    gc.freeze()


__all__ = ["freeze_heap", "loop_factory", "loop_name", "run"]
