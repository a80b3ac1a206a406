"""A gateway's shutdown always completes: a step that hangs is logged and left behind."""

from __future__ import annotations

import asyncio
import logging

import pytest

from peerhost.gateway import service


async def _never_closes() -> None:
    await asyncio.Event().wait()


async def _closes(done: list[str]) -> None:
    done.append("closed")


def test_bounded__step_hangs__returns_and_names_the_step(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(service, "STOP_STEP_SECONDS", 0.05)
    with caplog.at_level(logging.WARNING, logger=service.__name__):
        asyncio.run(service._bounded("the job feed", _never_closes()))
    assert "shutdown: the job feed did not close" in caplog.text


def test_bounded__step_finishes__runs_it_and_logs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    done: list[str] = []
    with caplog.at_level(logging.WARNING, logger=service.__name__):
        asyncio.run(service._bounded("the RPC connection", _closes(done)))
    assert done == ["closed"]
    assert "shutdown" not in caplog.text
