"""The ``peerhost`` console namespace, in-process and through a real ``ape console``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_http_stack import Stack

from peerhost.console import GatewayNotRunning, PeerHost
from peerhost.devnet.accounts import worker_key


def test_console__call_workers_history(stack: Stack, chain: Any) -> None:
    with stack.ape():
        console = PeerHost(stack.deployment, chain, stack.gateway_url)
        result = console.call(stack.owner, stack.examples, "echo", {"n": 1}, mode="verified")
        history = console.history(result.request_id or "")
        workers = console.workers()
    assert result.status == 200 and result.mode == "verified"
    names = [e.name for e in history.events]
    assert names[0] == "ExecutionRequested"
    assert names.count("ResultCommitted") == 3 and names.count("ResultRevealed") == 3
    assert "RequestFinalized" in names
    assert history.phase == "Finalized"
    addresses = {w.address for w in workers}
    assert {worker_key(n).address for n in range(3)} <= addresses
    assert all(w.stake > 0 for w in workers)
    assert "stake ETH" in repr(workers)


def test_console__no_gateway__says_how_to_start_one(stack: Stack, chain: Any) -> None:
    with stack.ape():
        console = PeerHost(stack.deployment, chain, "http://127.0.0.1:9")
    with pytest.raises(GatewayNotRunning, match="ape run devnet"):
        console.call(stack.owner, stack.examples, "hello")


def test_ape_console__extras__ready_peerhost_namespace(stack: Stack) -> None:
    code = (
        "import os\n"
        f"r = peerhost.call(peerhost.owner, {stack.examples!r}, 'hello')\n"
        "h = peerhost.history(r.request_id)\n"
        "print('CALL', r.status, r.text)\n"
        "print('EVENTS', [e.name for e in h.events][:1])\n"
        "ok = r.status == 200 and h.events[0].name == 'ExecutionRequested'\n"
        "os._exit(0 if ok else 1)\n"
    )
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": stack.devnet.rpc_url,
        "PEERHOST_DEVNET_DIR": str(stack.devnet.state_dir),
    }
    ape = str(Path(sys.executable).with_name("ape"))
    result = subprocess.run(
        [ape, "console", "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CALL 200 Hello from PeerHost!" in result.stdout
