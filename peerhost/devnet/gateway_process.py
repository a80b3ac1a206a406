"""The gateway as a child process under uvicorn, for the devnet and the end-to-end tests.

A thin layer over the gateway's own launcher (``peerhost.gateway.launcher``): the key travels in
the child's environment, the child dies with its parent, and its log (one access-log line per
call, which the devnet's request watcher reads) goes to ``<work_dir>/gateway.log``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def start_gateway_process(
    settings: Any,
    host: str,
    port: int,
    work_dir: Path,
    timeout: float = 60.0,
    require_healthy: bool = True,
) -> Any:
    """Starts the gateway for ``settings`` on ``host:port``; by default waits until healthy.

    With ``require_healthy=False`` it returns at once (a gateway whose chain is down answers
    503 on ``/_health``; its socket is bound before the child starts, so calls queue meanwhile).

    Returns:
        ``peerhost.gateway.launcher.GatewayProcess`` (``url``, ``alive()``, ``stop()``,
        ``log_path``).
    """
    from peerhost.gateway.launcher import start_gateway

    return start_gateway(
        settings,
        host=host,
        port=port,
        work_dir=work_dir,
        wait=require_healthy,
        ready_timeout=timeout,
    )
