"""The worker's executor with its content store down: a job whose code it cannot fetch is skipped
with the store's reason (what went wrong, what to do), never an ``OSError`` that ends the feed
job or the committee duty running it; code already in the worker's cache still runs; the store
back, the skipped code runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from worker_jobs import GET, local_job, wasi_printing

from peerhost.sandbox import RunRequest, RunResult, Sandbox
from peerhost.storage import ChainedStore, IpfsStore, LocalStore
from peerhost.wire.envelope import decode_envelope
from peerhost.worker.errors import JobSkipped
from peerhost.worker.execution import JobExecutor

#: A wasi command writing a fixed response (the ``echo`` shape: JSON on stdout).
ANSWER = b'{"status":200,"headers":{},"body":"up"}'


def _take_down(root: Path) -> None:
    root.rename(root.with_name(root.name + ".down"))
    root.write_text("the store is down\n")


def _bring_up(root: Path) -> None:
    root.unlink()
    root.with_name(root.name + ".down").rename(root)


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path / "modules")


def _executor(store: ChainedStore, sandbox: Sandbox) -> JobExecutor:
    async def run(request: RunRequest) -> RunResult:
        return await asyncio.to_thread(sandbox.run, request)

    return JobExecutor(store, run, wall_clock_seconds=10.0)


def test_execute__embedded_store_replaced_by_a_file__skipped_with_reason_cached_code_runs(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    origin = LocalStore(tmp_path / "store")
    old, new = origin.put(wasi_printing(ANSWER)), origin.put(wasi_printing(ANSWER + b" "))
    executor = _executor(ChainedStore([LocalStore(tmp_path / "cache"), origin]), sandbox)
    asyncio.run(
        executor.execute(local_job(1, old, "wasi", GET))
    )  # the worker ran the old version once
    executor._code.clear()  # a restarted worker: only its on-disk cache remembers
    _take_down(origin.root)

    with pytest.raises(JobSkipped) as skipped:
        asyncio.run(executor.execute(local_job(2, new, "wasi", GET)))
    ran = asyncio.run(executor.execute(local_job(3, old, "wasi", GET)))

    assert "code unavailable" in skipped.value.reason
    assert "cannot read the embedded store" in skipped.value.reason
    assert decode_envelope(ran.envelope).ok
    _bring_up(origin.root)
    assert decode_envelope(
        asyncio.run(executor.execute(local_job(4, new, "wasi", GET))).envelope
    ).ok


def test_execute__ipfs_daemon_down__skipped_saying_how_to_start_one(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    code = wasi_printing(ANSWER)
    cid = LocalStore(tmp_path / "elsewhere").put(code)
    daemon = IpfsStore("http://127.0.0.1:9", timeout=2.0, lookup_timeout=1.0)  # nothing listens
    executor = _executor(ChainedStore([LocalStore(tmp_path / "cache"), daemon]), sandbox)

    with pytest.raises(JobSkipped) as skipped:
        asyncio.run(executor.execute(local_job(1, cid, "wasi", GET)))

    assert "code unavailable" in skipped.value.reason
    assert "no IPFS daemon answers there" in skipped.value.reason
    daemon.close()
