"""Start a worker node in a child process, wait until it is caught up, stop it gracefully.

Used by the devnet and the end-to-end tests::

    proc = start_worker(chain, key, WorkerSettings(data_dir=tmp / "w1", metrics_port=0))
    proc.metrics()["committed"]
    proc.stop()            # SIGTERM: reveals in flight finish first
    proc.kill()            # SIGKILL: what a crash looks like

The key travels in the child's environment (``PEERHOST_WORKER_KEY``), never on its command
line. The child gets a parent-death signal (SIGTERM, so it drains), so it never outlives the
process that started it; Linux sends it when the *thread* that started the child exits, so call
:func:`start_worker` from a thread that lives as long as the worker should (e.g. the main one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from hexbytes import HexBytes

from peerhost.chain import ChainConfig
from peerhost.processes import ChildProcess, die_with_parent
from peerhost.worker.errors import WorkerExited, WorkerStartTimeout
from peerhost.worker.settings import KEY_ENV, WorkerSettings


@dataclass(kw_only=True)
class WorkerProcess(ChildProcess):
    """A running worker child process (see :class:`~peerhost.processes.ChildProcess`).

    Attributes:
        settings: Its settings (``data_dir`` holds ``worker.log``, the state and the ready file).
        address: The worker's address (known once ready).
        metrics_url: Base URL of its metrics endpoint (known once ready).
    """

    settings: WorkerSettings
    address: str = ""
    metrics_url: str = ""

    #: SIGTERM lets reveals in flight finish first.
    stop_timeout = 60.0

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The JSON log lines written so far (optionally only events called ``name``)."""
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if isinstance(doc, dict) and (name is None or doc.get("event") == name):
                out.append(doc)
        return out

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Blocks until the node wrote its ready file; raises if it exits or times out."""
        ready = self.settings.ready_file
        assert ready is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise WorkerExited(self.process.returncode, self.log_tail())
            if ready.exists():
                try:
                    doc = json.loads(ready.read_text())
                except ValueError:
                    doc = None
                if doc and doc.get("pid") == self.process.pid:
                    self.address = str(doc["address"])
                    self.metrics_url = str(doc["metrics_url"])
                    return
            time.sleep(0.05)
        raise WorkerStartTimeout(timeout, self.log_tail())

    def metrics(self, timeout: float = 5.0) -> dict[str, Any]:
        """The node's ``GET /metrics.json`` document."""
        response = httpx.get(self.metrics_url + "/metrics.json", timeout=timeout)
        response.raise_for_status()
        doc: dict[str, Any] = response.json()
        return doc


def start_worker(
    chain: ChainConfig,
    private_key: bytes | str,
    settings: WorkerSettings,
    *,
    wait: bool = True,
    ready_timeout: float = 60.0,
    extra_env: dict[str, str] | None = None,
    program: Sequence[str] = ("-m", "peerhost.worker"),
) -> WorkerProcess:
    """Spawns ``python -m peerhost.worker`` for ``settings`` and (by default) waits until ready.

    Args:
        chain: The chain and contracts (written to ``data_dir/chain.json`` for the child).
        private_key: The worker's key (hex or bytes); passed in the child's environment.
        settings: The node's settings; ``ready_file`` defaults to ``data_dir/ready.json``.
        wait: Block until the node is caught up and subscribed.
        ready_timeout: Seconds to wait for that.
        extra_env: More environment for the child.
        program: What the interpreter runs (a script path instead of ``-m peerhost.worker``
            starts another node type built on :func:`peerhost.worker.cli.main`).

    Returns:
        The running process; its output goes to ``data_dir/worker.log``.
    """
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    if settings.ready_file is None:
        settings = settings.replace(ready_file=data_dir / "ready.json")
    assert settings.ready_file is not None
    settings.ready_file.unlink(missing_ok=True)
    chain_path = data_dir / "chain.json"
    chain.save(chain_path)
    key = private_key if isinstance(private_key, str) else HexBytes(private_key).to_0x_hex()
    env = {**os.environ, **(extra_env or {}), KEY_ENV: key}
    log_path = data_dir / "worker.log"
    log = open(log_path, "ab")  # noqa: SIM115 (closed by WorkerProcess)
    cmd = [sys.executable, *program, "--chain-config", str(chain_path)]
    process = subprocess.Popen(
        cmd + settings.to_args(),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    proc = WorkerProcess(process=process, settings=settings, log_path=log_path, _log=log)
    if wait:
        try:
            proc.wait_ready(ready_timeout)
        except Exception:
            proc.kill()
            raise
    return proc
