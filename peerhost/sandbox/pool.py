"""A process pool of sandboxes, so runs use every core without the GIL.

Processes are *spawned*, never forked (forking after compiling a module hangs
the child). Each process builds one :class:`Sandbox` over the shared cache
directory, so a module compiled once is loaded by every process from disk.

Each process has a pipe of its own to the event loop that uses the pool: a run
is one pickled message written from the loop's thread and one read when the
loop sees the pipe readable, with no thread in between (a standard process
pool's feeder and manager threads cost more than a small function's whole run).
A process that dies is replaced; the run it held fails with
:class:`SandboxProcessDied`.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import pickle
from collections import deque
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

from peerhost.sandbox.errors import SandboxProcessDied
from peerhost.sandbox.request import RunRequest, RunResult

_CONTEXT = multiprocessing.get_context("spawn")
_STOP_SECONDS = 5.0


def _serve(conn: Connection, cache_dir: str, options: dict[str, Any]) -> None:
    """A pool process: answers ``(kind, args)`` messages until the pipe closes."""
    from peerhost.sandbox.sandbox import Sandbox

    # a run's store is closed after its reply is sent: the caller does not wait for the cleanup
    sandbox = Sandbox(Path(cache_dir), **{"defer_cleanup": True, **options})
    try:
        while True:
            try:
                kind, args = pickle.loads(conn.recv_bytes())
            except (EOFError, OSError):
                return  # the pool closed, or its process is gone
            try:
                if kind == "run":
                    reply: tuple[bool, Any] = (True, sandbox.run(*args))
                elif kind == "warm":
                    sandbox.warm(*args)
                    reply = (True, os.getpid())
                else:
                    return
            except Exception as exc:  # handed back to the caller (SandboxError pickles)
                reply = (False, exc)
            try:
                conn.send_bytes(pickle.dumps(reply, pickle.HIGHEST_PROTOCOL))
            except (BrokenPipeError, OSError):
                return
            sandbox.sweep()
    finally:
        close = getattr(sandbox, "close", None)
        if close is not None:
            close()


class _Slot:
    """One pool process and the parent's end of its pipe."""

    def __init__(self, cache_dir: str, options: dict[str, Any]) -> None:
        self.conn, child = _CONTEXT.Pipe(duplex=True)
        self.process = _CONTEXT.Process(
            target=_serve, args=(child, cache_dir, options), daemon=True, name="sandbox"
        )
        self.process.start()
        child.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        self.process.join(_STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(_STOP_SECONDS)


class SandboxPool:
    """Runs requests in ``processes`` spawned sandbox processes.

    Args:
        processes: pool size (default: the CPU count).
        cache_dir: the compiled-module cache shared by all processes.
        **options: passed to each process's :class:`Sandbox`.

    Use as ``async with SandboxPool(...) as pool: result = await pool.run(req)``,
    or call :meth:`close` when done. Runs go through the event loop that awaits them.
    """

    def __init__(self, processes: int | None = None, *, cache_dir: Path, **options: Any) -> None:
        self.processes = processes or os.cpu_count() or 1
        self._args = (str(cache_dir), options)
        self._slots = [_Slot(*self._args) for _ in range(self.processes)]
        self._idle: deque[_Slot] = deque(self._slots)
        self._queue: deque[asyncio.Future[_Slot]] = deque()
        self._closed = False

    async def _take(self) -> _Slot:
        if self._closed:
            raise RuntimeError("the sandbox pool is closed")
        if self._idle:
            return self._idle.popleft()
        waiter: asyncio.Future[_Slot] = asyncio.get_running_loop().create_future()
        self._queue.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._give_back(waiter.result())  # handed over just as the caller gave up
            raise

    def _give_back(self, slot: _Slot) -> None:
        while self._queue:
            waiter = self._queue.popleft()
            if not waiter.done():
                waiter.set_result(slot)
                return
        self._idle.append(slot)

    def _replace(self, slot: _Slot) -> _Slot:
        """A fresh process for one that died (its pipe closed)."""
        with contextlib.suppress(ValueError):
            self._slots.remove(slot)
        slot.stop()
        fresh = _Slot(*self._args)
        self._slots.append(fresh)
        return fresh

    async def _call(self, kind: str, *args: Any) -> Any:
        slot = await self._take()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[bool, Any]] = loop.create_future()
        fd = slot.conn.fileno()

        def readable() -> None:
            loop.remove_reader(fd)
            try:
                reply = pickle.loads(slot.conn.recv_bytes())
            except (EOFError, OSError):
                reply = (False, SandboxProcessDied())
                fresh = None if self._closed else self._replace(slot)
                if fresh is not None:
                    self._give_back(fresh)
            else:
                self._give_back(slot)
            if not done.done():
                done.set_result(reply)

        try:
            slot.conn.send_bytes(pickle.dumps((kind, args), pickle.HIGHEST_PROTOCOL))
        except (BrokenPipeError, OSError):
            if not self._closed:
                self._give_back(self._replace(slot))
            raise SandboxProcessDied() from None
        loop.add_reader(fd, readable)
        ok, value = await done  # cancelled: the reply is still read, and the slot given back
        if not ok:
            raise value
        return value

    async def run(self, request: RunRequest) -> RunResult:
        """Runs ``request`` in a pool process.

        If the process died, it is replaced for later calls and
        :class:`SandboxProcessDied` is raised for this one.
        """
        result: RunResult = await self._call("run", request)
        return result

    async def warm(self, runtime: str, code: bytes = b"") -> None:
        """Compiles (once, through the shared cache) and loads the module in every process."""
        await self._call("warm", runtime, code)
        await asyncio.gather(*(self._call("warm", runtime, code) for _ in range(self.processes)))

    def close(self) -> None:
        self._closed = True
        for slot in list(self._slots):
            slot.stop()
        self._slots.clear()
        self._idle.clear()

    async def __aenter__(self) -> SandboxPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)
