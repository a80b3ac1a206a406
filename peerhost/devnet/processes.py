"""Child processes of the devnet: spawned in their own session, tied to the parent's life.

Each child gets a parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGTERM)``), so nothing is
orphaned if the devnet is killed hard, and its own session, so a Ctrl-C in the terminal reaches
only the devnet, which then stops the children in order (gateway, workers, chain).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from peerhost.devnet.errors import ChildFailed
from peerhost.processes import die_with_parent


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Starts ``argv`` in its own session with a parent-death signal, output to ``log_path``."""
    out: IO[bytes] | int = subprocess.DEVNULL
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        out = log_path.open("ab")
    try:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            preexec_fn=die_with_parent,
            start_new_session=True,
        )
    finally:
        if not isinstance(out, int):
            out.close()


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
    """Sends ``sig``, waits up to ``timeout``, then kills; returns the exit code."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return int(process.returncode)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_for_port(
    host: str,
    port: int,
    process: subprocess.Popen[bytes],
    what: str,
    timeout: float = 15.0,
    log_path: Path | None = None,
) -> None:
    """Waits until ``host:port`` accepts connections; raises ChildFailed if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ChildFailed(what, f"exited with code {process.returncode}", log_path)
        if port_open(host, port):
            return
        time.sleep(0.05)
    raise ChildFailed(what, f"not listening on {host}:{port} after {timeout:.0f}s", log_path)


def env_with(**extra: str) -> dict[str, str]:
    """The current environment plus ``extra``."""
    env = dict(os.environ)
    env.update(extra)
    return env
