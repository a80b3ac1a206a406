"""The worker's executor with its content store down: a job whose code it cannot fetch is skipped
with the store's reason (what went wrong, what to do), never an ``OSError`` that ends the feed
job or the committee duty running it; code already in the worker's cache still runs; the store
back, the skipped code runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import wasmtime

from peerhost.sandbox import RunRequest, RunResult, Sandbox
from peerhost.storage import ChainedStore, IpfsStore, LocalStore, cid_to_bytes
from peerhost.wire.envelope import decode_envelope
from peerhost.wire.ticket import input_hash_of
from peerhost.worker.errors import JobSkipped
from peerhost.worker.execution import JobExecutor
from peerhost.worker.job import Job

#: A wasi command writing a fixed response (the ``echo`` shape: JSON on stdout).
ANSWER = b'{"status":200,"headers":{},"body":"up"}'


def _module(text: bytes) -> bytes:
    escaped = "".join(f"\\{b:02x}" for b in text)
    return bytes(
        wasmtime.wat2wasm(f"""(module
          (import "wasi_snapshot_preview1" "fd_write"
            (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 64) "{escaped}")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 64))
            (i32.store (i32.const 4) (i32.const {len(text)}))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))""")
    )


def _job(code_cid: str, seq: int) -> Job:
    data = b'{"method":"GET"}'
    return Job(
        request_id=seq.to_bytes(32, "big"),
        function_id=bytes(32),
        requester="0x" + "22" * 20,
        version=1,
        runtime="wasi",
        code_cid=cid_to_bytes(code_cid),
        fuel_limit=10_000_000,
        memory_limit=16 * 2**20,
        mode=0,
        input=data,
        input_cid=b"",
        input_hash=input_hash_of(data),
        reward=1,
        requested_at=1_767_225_600,
        commit_deadline=0,
        reveal_deadline=0,
        reply_to=b"",
    )


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
    old, new = origin.put(_module(ANSWER)), origin.put(_module(ANSWER + b" "))
    executor = _executor(ChainedStore([LocalStore(tmp_path / "cache"), origin]), sandbox)
    asyncio.run(executor.execute(_job(old, 1)))  # the worker ran the old version once
    executor._code.clear()  # a restarted worker: only its on-disk cache remembers
    _take_down(origin.root)

    with pytest.raises(JobSkipped) as skipped:
        asyncio.run(executor.execute(_job(new, 2)))
    ran = asyncio.run(executor.execute(_job(old, 3)))

    assert "code unavailable" in skipped.value.reason
    assert "cannot read the embedded store" in skipped.value.reason
    assert decode_envelope(ran.envelope).ok
    _bring_up(origin.root)
    assert decode_envelope(asyncio.run(executor.execute(_job(new, 4))).envelope).ok


def test_execute__ipfs_daemon_down__skipped_saying_how_to_start_one(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    code = _module(ANSWER)
    cid = LocalStore(tmp_path / "elsewhere").put(code)
    daemon = IpfsStore("http://127.0.0.1:9", timeout=2.0, lookup_timeout=1.0)  # nothing listens
    executor = _executor(ChainedStore([LocalStore(tmp_path / "cache"), daemon]), sandbox)

    with pytest.raises(JobSkipped) as skipped:
        asyncio.run(executor.execute(_job(cid, 1)))

    assert "code unavailable" in skipped.value.reason
    assert "no IPFS daemon answers there" in skipped.value.reason
    daemon.close()
