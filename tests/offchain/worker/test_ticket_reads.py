"""The ticket check's chain reads (bond, authorization, reserve, clock) are cached for two seconds
and shared: a burst of offers that finds a value stale waits for one read of it, not one each; a
failed read fails every ticket waiting for it and is tried again by the next."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from peerhost.chain.errors import ChainUnavailable
from peerhost.sandbox import RunRequest, RunResult
from peerhost.storage import LocalStore
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.execution import JobExecutor
from peerhost.worker.tickets import TicketRunner


@dataclass
class _Config:
    chain_id: int = 31337
    settlement: str = "0x" + "55" * 20


class ClockView:
    """The one read ``TicketRunner.now`` makes, slow, counted, and failing on demand."""

    def __init__(self) -> None:
        self.config = _Config()
        self.reads = 0
        self.fail = False

    async def block_timestamp(self) -> int:
        self.reads += 1
        await asyncio.sleep(0.05)  # other offers arrive while the read is out
        if self.fail:
            raise ChainUnavailable("http://127.0.0.1:9", "connection refused")
        return 1_767_225_600


def _runner(tmp_path: Path, view: ClockView) -> TicketRunner:
    async def run(request: RunRequest) -> RunResult:
        raise AssertionError("nothing runs in this test")

    executor = JobExecutor(LocalStore(tmp_path / "store"), run, wall_clock_seconds=1.0)
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite3"))
    return TicketRunner(view, executor, ledger, b"\x01" * 32, "0x" + "11" * 20)  # type: ignore[arg-type]


def test_now__burst_of_offers_while_stale__one_chain_read(tmp_path: Path) -> None:
    view = ClockView()
    runner = _runner(tmp_path, view)

    async def main() -> list[int]:
        burst = await asyncio.gather(*(runner.now() for _ in range(16)))
        return [*burst, await runner.now()]  # fresh: no read

    clocks = asyncio.run(main())
    assert view.reads == 1 and runner.chain_reads == 1
    assert min(clocks) >= 1_767_225_600


def test_now__read_fails__every_waiter_fails_and_the_next_call_reads_again(tmp_path: Path) -> None:
    view = ClockView()
    view.fail = True
    runner = _runner(tmp_path, view)

    async def main() -> list[object]:
        return await asyncio.gather(*(runner.now() for _ in range(4)), return_exceptions=True)

    failed = asyncio.run(main())
    assert all(isinstance(f, ChainUnavailable) for f in failed) and view.reads == 1
    view.fail = False
    assert asyncio.run(runner.now()) >= 1_767_225_600
    assert view.reads == 2


def test_now__one_waiter_cancelled__the_shared_read_still_answers_the_others(
    tmp_path: Path,
) -> None:
    view = ClockView()
    runner = _runner(tmp_path, view)

    async def main() -> int:
        first = asyncio.create_task(runner.now())
        second = asyncio.create_task(runner.now())
        await asyncio.sleep(0.01)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        return await second

    assert asyncio.run(main()) >= 1_767_225_600 and view.reads == 1
