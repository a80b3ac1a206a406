"""The gateway as a child process under uvicorn, for the devnet and the end-to-end tests.

Uses the gateway engineer's launcher (``peerhost.gateway.launcher``) when it is present; until
then, starts ``uvicorn`` on ``create_app(settings)`` itself. Either way the key travels in the
child's environment (``PEERHOST_GATEWAY_KEY``), never on its command line, and the child dies
with its parent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from peerhost.devnet.errors import ChildFailed
from peerhost.devnet.processes import env_with, spawn, stop, wait_for_port

_CHILD = """
import json, logging, sys
import uvicorn
from peerhost.gateway import create_app
from peerhost.gateway.settings import GatewaySettings, key_from_env
logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                    format="%(asctime)s %(levelname)s %(name)s %(message)s")
logging.getLogger("httpx").setLevel(logging.WARNING)
settings = GatewaySettings.from_file(__import__("pathlib").Path(sys.argv[1]), key_from_env())
uvicorn.run(create_app(settings), host=sys.argv[2], port=int(sys.argv[3]),
            log_level="warning", access_log=False, timeout_graceful_shutdown=5)
"""


@dataclass
class GatewayProcess:
    """A running gateway child."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def healthy(self, timeout: float = 1.0) -> bool:
        try:
            return httpx.get(self.url + "/_health", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 15.0) -> int:
        return stop(self.process, timeout=timeout)


def start_gateway_process(
    settings: Any,
    host: str,
    port: int,
    log_path: Path,
    timeout: float = 60.0,
    require_healthy: bool = True,
) -> GatewayProcess:
    """Starts the gateway for ``settings`` on ``host:port`` and waits until ``/_health`` answers.

    With ``require_healthy=False`` it only waits for the port (a gateway whose chain is down
    answers 503 on ``/_health``).
    """
    from peerhost.gateway.settings import KEY_ENV

    settings_path = log_path.with_suffix(".settings.json")
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_text(json.dumps(settings.public_dict(), indent=2))
    process = spawn(
        [sys.executable, "-c", _CHILD, str(settings_path), host, str(port)],
        log_path=log_path,
        env=env_with(**{KEY_ENV: settings.private_key}),
    )
    url = f"http://{host}:{port}"
    gateway = GatewayProcess(process, url, log_path)
    wait_for_port(host, port, process, "the gateway", timeout, log_path)
    if not require_healthy:
        return gateway
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not gateway.alive():
            raise ChildFailed("the gateway", f"exited with code {process.returncode}", log_path)
        if gateway.healthy():
            return gateway
        time.sleep(0.1)
    gateway.stop()
    raise ChildFailed("the gateway", f"not healthy after {timeout:.0f}s", log_path)
