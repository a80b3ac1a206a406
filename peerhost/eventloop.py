"""The event loop the gateway and the worker run on: uvloop's when it is installed, else asyncio's.

uvloop (libuv underneath) wakes, reads and writes sockets with less Python per event than
asyncio's own loop: each fast call crosses the gateway's loop and an attester's several times
(the HTTP request, the feed's offer and answer frames, the response), so that work is on every
answer's path. It is a pinned dependency; where it cannot be imported (a platform without a wheel)
both processes fall back to asyncio's loop and behave the same, only slower.
"""

from __future__ import annotations

import asyncio
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


__all__ = ["loop_factory", "loop_name", "run"]
