"""Start a gateway in a child process, wait until it is healthy, stop it gracefully.

Used by the devnet and the end-to-end tests::

    proc = start_gateway(settings)          # binds a free port itself unless port= is given
    httpx.get(proc.url + "/_health")
    proc.stop()                              # SIGTERM: in-flight calls finish first

The parent binds the listening socket and hands it to the child (no race for a free port);
``settings.public_url`` is replaced by the bound address unless ``public_url`` is given. The key
travels in the child's environment (``PEERHOST_GATEWAY_KEY``), never on its command line; the
other settings in a JSON file. The child gets a parent-death signal, so it never outlives the
process that started it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from peerhost.gateway.errors import GatewayExited, GatewayStartTimeout
from peerhost.gateway.settings import KEY_ENV, GatewaySettings
from peerhost.processes import ChildProcess, die_with_parent


@dataclass(kw_only=True)
class GatewayProcess(ChildProcess):
    """A running gateway child process (see :class:`~peerhost.processes.ChildProcess`).

    Attributes:
        url: Base URL it serves (``http://host:port``).
        settings: Its settings (``public_url`` as the child uses it).
    """

    url: str
    settings: GatewaySettings

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Polls ``GET /_health`` until 200; raises GatewayExited or GatewayStartTimeout."""
        deadline = time.monotonic() + timeout
        status: int | None = None  # its last answer
        with httpx.Client(timeout=2.0) as client:
            while True:
                if not self.alive():
                    raise GatewayExited(self.process.returncode, self.log_tail())
                try:
                    status = client.get(self.url + "/_health").status_code
                    if status == 200:
                        return
                except httpx.HTTPError:
                    status = None  # no answer (the last poll's, not an earlier one's)
                if time.monotonic() > deadline:
                    raise GatewayStartTimeout(self.url, timeout, self.log_tail(), status)
                time.sleep(0.05)

    def health(self) -> dict[str, Any]:
        data: dict[str, Any] = httpx.get(self.url + "/_health", timeout=5.0).json()
        return data

    def __enter__(self) -> GatewayProcess:
        return self


def start_gateway(
    settings: GatewaySettings,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    public_url: str | None = None,
    work_dir: Path | None = None,
    log_level: str = "info",
    wait: bool = True,
    ready_timeout: float = 30.0,
    extra_env: dict[str, str] | None = None,
) -> GatewayProcess:
    """Spawns ``python -m peerhost.gateway`` and (by default) waits until it is healthy.

    Args:
        settings: The gateway's settings; its key goes to the child's environment only.
        host: Interface to bind.
        port: Port to bind (0: any free port; see ``GatewayProcess.url``).
        public_url: The URL workers reach this gateway at (default: the bound ``http://host:port``).
        work_dir: Where ``gateway.json`` (settings without the key) and ``gateway.log`` go
            (default: a new temporary directory).
        log_level: The child's log level.
        wait: Block until ``GET /_health`` answers 200 (the chain is reachable).
        ready_timeout: Seconds to wait for that.
        extra_env: More environment for the child.

    Returns:
        The running process; its output goes to ``work_dir/gateway.log``.
    """
    directory = work_dir or Path(tempfile.mkdtemp(prefix="peerhost-gateway-"))
    directory.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    bound_port = sock.getsockname()[1]
    url = f"http://{host}:{bound_port}"
    settings = settings.replace(public_url=public_url or url)
    settings_path = directory / "gateway.json"
    settings_path.write_text(json.dumps(settings.public_dict(), indent=2, sort_keys=True))
    env = {**os.environ, **(extra_env or {}), KEY_ENV: settings.private_key}
    log_path = directory / "gateway.log"
    log = open(log_path, "ab")  # noqa: SIM115 (closed by GatewayProcess)
    cmd = [
        sys.executable,
        "-m",
        "peerhost.gateway",
        "--settings",
        str(settings_path),
        "--fd",
        str(sock.fileno()),
        "--log-level",
        log_level,
    ]
    try:
        process = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(sock.fileno(),),
            preexec_fn=die_with_parent,
        )
    finally:
        sock.close()  # the child holds its own copy
    proc = GatewayProcess(process=process, url=url, settings=settings, log_path=log_path, _log=log)
    if wait:
        try:
            proc.wait_ready(ready_timeout)
        except Exception:
            proc.kill()
            raise
    return proc
