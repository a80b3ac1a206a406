"""Prewarm on publish: a published version's code is fetched and compiled before its first call,
so that call neither fetches nor compiles (read from the compile counters and the executor's code
cache, never from timings); bad or oversized code is refused once and never retried; the queue is
bounded."""

from __future__ import annotations

import asyncio
from pathlib import Path

from worker_jobs import GET, local_job, wasi_printing

from peerhost.sandbox import Limits
from peerhost.storage import LocalStore, cid_to_bytes
from peerhost.wire.envelope import decode_envelope
from peerhost.worker.execution import JobExecutor, SandboxRunner
from peerhost.worker.prewarm import Prewarmer


class CountingStore(LocalStore):
    """A real local store that counts reads (the first call must not fetch)."""

    reads = 0

    def get(self, cid: str) -> bytes:
        self.reads += 1
        return super().get(cid)


def _worker(tmp_path: Path, processes: int = 0) -> tuple[CountingStore, SandboxRunner, JobExecutor]:
    store = CountingStore(tmp_path / "store")
    runner = SandboxRunner(tmp_path / "modules", processes=processes, inline_fuel=0)
    return store, runner, JobExecutor(store, runner.run, wall_clock_seconds=10.0)


def test_prewarm__published_wasi_module__first_call_neither_fetches_nor_compiles(
    tmp_path: Path,
) -> None:
    store, runner, executor = _worker(tmp_path)
    cid = store.put(wasi_printing(b'{"status":200,"headers":{},"body":"warm"}'))
    prewarmer = Prewarmer(executor.prefetch, runner.prewarm)

    async def main() -> tuple[object, int, int, bytes, int, int]:
        try:
            assert prewarmer.offer("wasi", cid_to_bytes(cid))
            task = asyncio.create_task(prewarmer.run())
            while prewarmer.prewarmed == 0:
                await asyncio.sleep(0.01)
            task.cancel()
            compiled, reads = runner.compiles, store.reads
            ran = await executor.execute(local_job(1, cid, "wasi", GET))
            return prewarmer, compiled, reads, ran.envelope, runner.compiles, store.reads
        finally:
            await runner.close()

    _, compiled, reads, envelope, compiles_after, reads_after = asyncio.run(main())
    assert (compiled, reads) == (1, 1)  # the prewarm fetched and compiled it
    assert (compiles_after, reads_after) == (1, 1)  # the call did neither
    assert decode_envelope(envelope).ok and b"warm" in envelope
    assert not prewarmer.offer("wasi", cid_to_bytes(cid))  # the same code is prewarmed once


def test_execute__no_prewarm__first_call_fetches_and_compiles(tmp_path: Path) -> None:
    store, runner, executor = _worker(tmp_path)
    cid = store.put(wasi_printing(b'{"status":200,"headers":{},"body":"cold"}'))

    async def main() -> tuple[int, int]:
        try:
            await executor.execute(local_job(1, cid, "wasi", GET))
            return runner.compiles, store.reads
        finally:
            await runner.close()

    assert asyncio.run(main()) == (1, 1)


def test_prewarm__pool__module_on_disk_before_the_first_call(tmp_path: Path) -> None:
    store, runner, executor = _worker(tmp_path, processes=1)
    code = wasi_printing(b'{"status":200,"headers":{},"body":"pooled"}')
    cid = store.put(code)
    prewarmer = Prewarmer(executor.prefetch, runner.prewarm)

    async def main() -> tuple[object, list[Path], bytes]:
        try:
            done = await prewarmer.prewarm("wasi", cid_to_bytes(cid))
            on_disk = sorted((tmp_path / "modules").glob("*.cwasm"))
            ran = await executor.execute(local_job(1, cid, "wasi", GET))
            return done, on_disk, ran.envelope
        finally:
            await runner.close()

    done, on_disk, envelope = asyncio.run(main())
    assert done is not None and done.compiled and done.code_bytes == len(code)
    assert len(on_disk) == 1  # compiled once, outside the pool, for every pool process to load
    assert b"pooled" in envelope


def test_prewarm__not_wasm__refused_once_and_not_retried(tmp_path: Path) -> None:
    store, runner, executor = _worker(tmp_path)
    cid = cid_to_bytes(store.put(b"\x00asm but not really a module"))
    prewarmer = Prewarmer(executor.prefetch, runner.prewarm)

    async def main() -> object:
        try:
            return await prewarmer.prewarm("wasi", cid)
        finally:
            await runner.close()

    assert asyncio.run(main()) is None
    assert prewarmer.refused == 1 and runner.compiles == 0
    assert not prewarmer.offer("wasi", cid)  # remembered: a hostile publish costs one try


def test_prewarm__code_above_the_cap__refused_without_compiling(tmp_path: Path) -> None:
    store, runner, executor = _worker(tmp_path)
    code = wasi_printing(b'{"status":200,"headers":{},"body":"big"}')
    cid = cid_to_bytes(store.put(code))
    prewarmer = Prewarmer(executor.prefetch, runner.prewarm, max_code_bytes=len(code) - 1)

    async def main() -> object:
        try:
            return await prewarmer.prewarm("wasi", cid)
        finally:
            await runner.close()

    assert asyncio.run(main()) is None
    assert prewarmer.refused == 1 and runner.compiles == 0
    assert not list((tmp_path / "modules").glob("*.cwasm"))


def test_prewarm__cid_that_does_not_parse__refused_without_raising(tmp_path: Path) -> None:
    store, runner, executor = _worker(tmp_path)
    prewarmer = Prewarmer(executor.prefetch, runner.prewarm)

    async def main() -> object:
        try:
            return await prewarmer.prewarm("wasi", b"\x02" * 34)  # anyone may publish any bytes
        finally:
            await runner.close()

    assert asyncio.run(main()) is None
    assert prewarmer.refused == 1 and store.reads == 0


def test_offer__queue_full_or_unknown_runtime__dropped(tmp_path: Path) -> None:
    async def fetch(cid: bytes) -> bytes:
        raise AssertionError("nothing runs in this test")

    async def warm(runtime: str, code: bytes) -> bool:
        raise AssertionError("nothing runs in this test")

    async def main() -> tuple[list[bool], int]:
        prewarmer = Prewarmer(fetch, warm, queue=2)
        offers = [prewarmer.offer("wasi", bytes([n]) * 34) for n in range(3)]
        offers.append(prewarmer.offer("cobol", b"\x09" * 34))
        return offers, prewarmer.dropped

    offers, dropped = asyncio.run(main())
    assert offers == [True, True, False, False] and dropped == 1
    assert Limits().max_code_bytes == Prewarmer(fetch, warm).max_code_bytes
