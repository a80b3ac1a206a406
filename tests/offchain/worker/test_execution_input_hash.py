"""The executor's input check: an input whose hash is not the job's inputHash is never run, unless
the caller compared the inline input with it already (``input_checked``, a feed ticket's check);
an input fetched from the store is checked whatever the caller says."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from worker_jobs import GET, local_job, wasi_printing

from peerhost.sandbox import RunRequest, RunResult, Sandbox
from peerhost.storage import LocalStore, cid_to_bytes
from peerhost.wire.envelope import decode_envelope
from peerhost.wire.ticket import input_hash_of
from peerhost.worker.errors import JobSkipped
from peerhost.worker.execution import JobExecutor

ANSWER = b'{"status":200,"headers":{},"body":"ran"}'


class CountedSandbox:
    """The real sandbox, counting its runs."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.runs = 0

    async def __call__(self, request: RunRequest) -> RunResult:
        self.runs += 1
        return await asyncio.to_thread(self.sandbox.run, request)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture
def runner(tmp_path: Path) -> CountedSandbox:
    return CountedSandbox(Sandbox(tmp_path / "modules"))


def test_execute__input_not_its_input_hash_unchecked__skipped_never_run(
    store: LocalStore, runner: CountedSandbox
) -> None:
    code = store.put(wasi_printing(ANSWER))
    executor = JobExecutor(store, runner, wall_clock_seconds=10.0)
    job = dataclasses.replace(local_job(1, code, "wasi", GET), input_hash=input_hash_of(b"other"))

    with pytest.raises(JobSkipped) as skipped:
        asyncio.run(executor.execute(job, input_checked=False))

    assert skipped.value.reason == "input does not match inputHash"
    assert runner.runs == 0
    honest = local_job(2, code, "wasi", GET)
    assert decode_envelope(asyncio.run(executor.execute(honest)).envelope).ok
    assert runner.runs == 1


def test_execute__fetched_input_not_its_input_hash_said_checked__still_skipped(
    store: LocalStore, runner: CountedSandbox
) -> None:
    code = store.put(wasi_printing(ANSWER))
    stored = cid_to_bytes(store.put(GET + b" "))  # not the input the hash names
    executor = JobExecutor(store, runner, wall_clock_seconds=10.0)
    job = dataclasses.replace(local_job(1, code, "wasi", GET), input=b"", input_cid=stored)

    with pytest.raises(JobSkipped) as skipped:
        asyncio.run(executor.execute(job, input_checked=True))

    assert skipped.value.reason == "input does not match inputHash"
    assert runner.runs == 0
