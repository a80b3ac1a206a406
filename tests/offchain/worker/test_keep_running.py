"""A loop the worker depends on (its committee duty, feeds, stand-in, discovery, ...) never ends in
silence: one that dies of an error no step caught, or returns, is logged with its error and
started again after a pause that doubles while it keeps ending; once the worker stops, a loop
that ends is neither logged as an error nor started again."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from peerhost.worker import logs, node
from peerhost.worker.node import keep_running


class Flaky:
    """A loop that dies ``fails`` times (a real error of its own), then runs until cancelled."""

    def __init__(self, fails: int) -> None:
        self.fails = fails
        self.starts = 0
        self.running = asyncio.Event()

    async def run(self) -> None:
        self.starts += 1
        if self.starts <= self.fails:
            {}["gone"]  # noqa: B018  # a KeyError nobody caught
        self.running.set()
        await asyncio.Event().wait()


def _records(caplog: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == event]


@pytest.fixture(autouse=True)
def short_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(node, "_RESTART_PAUSE", 0.01)
    monkeypatch.setattr(node, "_RESTART_MAX", 0.04)


def test_keep_running__a_loop_that_dies__logged_with_its_traceback_and_started_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="peerhost.worker")
    flaky = Flaky(fails=4)

    async def scenario() -> None:
        kept = asyncio.create_task(keep_running("committee", flaky.run, asyncio.Event()))
        await asyncio.wait_for(flaky.running.wait(), 5)
        assert not kept.done()
        kept.cancel()
        with pytest.raises(asyncio.CancelledError):
            await kept

    asyncio.run(scenario())
    assert flaky.starts == 5
    died = _records(caplog, "loop_died")
    assert len(died) == 4
    assert all(r.levelno == logging.ERROR and r.exc_info for r in died)
    assert [r.fields["restart_in"] for r in died] == [0.01, 0.02, 0.04, 0.04]  # type: ignore[attr-defined]
    assert {r.fields["loop"] for r in died} == {"committee"}  # type: ignore[attr-defined]
    assert len(_records(caplog, "loop_restarted")) == 4
    # the worker's JSON log line carries the error and its traceback
    line = json.loads(logs._JsonFormatter().format(died[0]))
    assert line["event"] == "loop_died" and line["loop"] == "committee"
    assert line["error"] == "KeyError: 'gone'"
    assert any("Flaky.run" in part or "in run" in part for part in line["traceback"])


def test_keep_running__a_loop_that_returns__logged_and_started_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="peerhost.worker")
    starts = 0

    async def returns_twice() -> None:
        nonlocal starts
        starts += 1
        if starts <= 2:
            return
        await asyncio.Event().wait()

    async def scenario() -> None:
        kept = asyncio.create_task(keep_running("discovery", returns_twice, asyncio.Event()))
        while starts < 3:
            await asyncio.sleep(0.01)
        kept.cancel()
        with pytest.raises(asyncio.CancelledError):
            await kept

    asyncio.run(scenario())
    ended = _records(caplog, "loop_ended")
    assert len(ended) == 2 and all(r.levelno == logging.ERROR for r in ended)


def test_keep_running__the_worker_stopping__a_loop_that_ends_is_not_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="peerhost.worker")
    starts = 0

    async def scenario() -> None:
        stopping = asyncio.Event()

        async def ends_on_stop() -> None:
            nonlocal starts
            starts += 1
            stopping.set()  # the worker stops; its feed returns (or fails as it closes)
            raise ConnectionResetError("closed")

        await asyncio.wait_for(keep_running("feed", ends_on_stop, stopping), 5)

    asyncio.run(scenario())
    assert starts == 1
    assert not _records(caplog, "loop_died") and not _records(caplog, "loop_ended")
