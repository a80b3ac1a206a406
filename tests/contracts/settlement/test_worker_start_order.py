"""A starting worker node follows its batches before its sandbox's warm-up ends.

The warm-up loads the JS engine in every sandbox process: seconds of CPU, tens under load. The
committee's log loop used to start only after it, so a worker restarted between its commitment
and its reveal lost that time from its reveal window (fault campaign,
``worker-killed-commit-restarted`` seed 2402: a seat no-show). A warm-up held until the test lets
it go stands for a slow one. Real anvil, real contracts, a real worker node."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from ape.api import AccountAPI

from peerhost.chain.config import ChainConfig, ws_url_for
from peerhost.deploy import ETHER
from peerhost.worker.execution import SandboxRunner
from peerhost.worker.node import WorkerNode
from peerhost.worker.settings import WorkerSettings

from .worker_harness import ThreadLoop, key_of, wait_for


def test_node__sandbox_warm_up_slow__committee_reads_the_chain_meanwhile(
    v2_config: ChainConfig,
    workers: list[AccountAPI],
    compiled_modules: Path,
    tmp_path: Path,
    loop: ThreadLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    released = threading.Event()
    warming = threading.Event()
    warm = SandboxRunner.warm

    async def held_warm(self: SandboxRunner) -> None:
        warming.set()
        while not released.is_set():
            await asyncio.sleep(0.05)
        await warm(self)

    monkeypatch.setattr(SandboxRunner, "warm", held_warm)
    settings = WorkerSettings(
        data_dir=tmp_path / "worker",
        store=f"local:{tmp_path / 'store'}",
        sandbox_cache=compiled_modules,
        sandbox_processes=0,
        ws_url=ws_url_for(v2_config.rpc_url),
        stake=2 * ETHER,
        metrics_port=0,
        discover=True,
        discovery_interval=1.0,
        shutdown_timeout=5.0,
        ready_file=tmp_path / "ready.json",
    )
    worker = WorkerNode(v2_config, key_of(workers[3]), settings)
    running = loop.start(worker.run())
    try:
        wait_for(lambda: warming.is_set() or running.done(), 120, "the sandbox's warm-up")
        assert not running.done(), running.exception()
        # before: the log loop started after the warm-up, and read nothing while it lasted
        wait_for(lambda: worker.committee.log_reads > 0, 30, "the log loop's first read")
        # and what gives its seats the gateways' input URLs (without them an input looks
        # withheld: a data-availability challenge against an honest gateway)
        running_loops = {task.get_name() for task in worker._feed_tasks if not task.done()}
        assert {"committee", "discovery"} <= running_loops
        assert settings.ready_file is not None
        assert not settings.ready_file.exists()  # still warming: not ready for jobs
        released.set()
        ready = settings.ready_file
        wait_for(lambda: ready.exists() or running.done(), 120, "the node ready after it")
        assert not running.done(), running.exception()
    finally:
        released.set()
        loop.loop.call_soon_threadsafe(worker.stop)
        running.result(60)
