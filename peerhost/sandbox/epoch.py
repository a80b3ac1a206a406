"""The wall-clock backstop: a daemon thread that advances an engine's epoch.

A store's deadline is counted in ticks; a run that reaches it traps with
INTERRUPT, which the sandbox reports as a non-committable timeout. Host time
never decides a committed result.
"""

from __future__ import annotations

import math
import threading

import wasmtime

TICK_SECONDS = 0.05


class EpochTicker:
    """Advances the epoch of ``engine`` (and of ``others``) every ``tick_seconds``."""

    def __init__(
        self,
        engine: wasmtime.Engine,
        tick_seconds: float = TICK_SECONDS,
        *,
        others: tuple[wasmtime.Engine, ...] = (),
    ) -> None:
        self._engines = (engine, *others)
        self.tick_seconds = tick_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wasm-epoch", daemon=True)
        self._thread.start()

    def ticks_for(self, seconds: float) -> int:
        return max(1, math.ceil(seconds / self.tick_seconds))

    def _run(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            for engine in self._engines:
                engine.increment_epoch()

    def stop(self) -> None:
        self._stop.set()
