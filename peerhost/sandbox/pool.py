"""A process pool of sandboxes, so runs use every core without the GIL.

Processes are *spawned*, never forked (forking after compiling a module hangs
the child). Each process builds one :class:`Sandbox` over the shared cache
directory, so a module compiled once is loaded by every process from disk.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import Any

from peerhost.sandbox.errors import SandboxProcessDied
from peerhost.sandbox.request import RunRequest, RunResult

_sandbox: Any = None


def _init_process(cache_dir: str, options: dict[str, Any]) -> None:
    global _sandbox
    from peerhost.sandbox.sandbox import Sandbox

    _sandbox = Sandbox(Path(cache_dir), **options)


def _run(request: RunRequest) -> RunResult:
    result: RunResult = _sandbox.run(request)
    return result


def _warm(runtime: str, code: bytes) -> int:
    _sandbox.warm(runtime, code)
    return os.getpid()


class SandboxPool:
    """Runs requests in ``processes`` spawned sandbox processes.

    Args:
        processes: pool size (default: the CPU count).
        cache_dir: the compiled-module cache shared by all processes.
        **options: passed to each process's :class:`Sandbox`.

    Use as ``async with SandboxPool(...) as pool: result = await pool.run(req)``,
    or call :meth:`close` when done.
    """

    def __init__(self, processes: int | None = None, *, cache_dir: Path, **options: Any) -> None:
        self.processes = processes or os.cpu_count() or 1
        self._initargs = (str(cache_dir), options)
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_process,
            initargs=self._initargs,
        )

    async def run(self, request: RunRequest) -> RunResult:
        """Runs ``request`` in a pool process.

        If a pool process died (the pool is broken), the pool is rebuilt for
        later calls and :class:`SandboxProcessDied` is raised for this one.
        """
        loop = asyncio.get_running_loop()
        executor = self._executor
        try:
            return await loop.run_in_executor(executor, _run, request)
        except BrokenProcessPool:
            if self._executor is executor:
                self._executor = self._new_executor()
                executor.shutdown(wait=False, cancel_futures=True)
            raise SandboxProcessDied() from None

    async def warm(self, runtime: str, code: bytes = b"") -> None:
        """Compiles (once, through the shared cache) and loads the module in every process."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, _warm, runtime, code)
        calls = [
            loop.run_in_executor(self._executor, _warm, runtime, code)
            for _ in range(self.processes * 2)
        ]
        await asyncio.gather(*calls)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def __aenter__(self) -> SandboxPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)
