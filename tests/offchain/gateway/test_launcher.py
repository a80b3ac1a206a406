"""The gateway as a real process under uvicorn: launcher, CLI, real HTTP, real inbox posts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from gateway_helpers import PROJECT, envelope, next_request_id, wait_requested

from peerhost.gateway import GatewaySettings
from peerhost.gateway.launcher import start_gateway
from peerhost.gateway.settings import KEY_ENV
from peerhost.wire import result_hash, sign_result


def test_start_gateway__fast_call_over_http__answered_then_stops_cleanly(
    settings: GatewaySettings,
    hello: bytes,
    funded_project: int,
    developer: AccountAPI,
    gateway: AccountAPI,
    coordinator: ContractInstance,
    active_workers: list[AccountAPI],
    tmp_path: Path,
) -> None:
    rid = next_request_id(settings.chain, coordinator, gateway.address)
    out = envelope("over http")
    proc = start_gateway(settings, work_dir=tmp_path)
    try:
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        assert settings.private_key[-16:].encode() not in cmdline
        with ThreadPoolExecutor(1) as pool:
            call = pool.submit(
                httpx.get, f"{proc.url}/{developer.address}/{PROJECT}/hello", timeout=15
            )
            wait_requested(coordinator, rid)
            worker = active_workers[0]
            signature = sign_result(
                worker.private_key,
                settings.chain.chain_id,
                settings.chain.coordinator,
                rid,
                result_hash(out),
            )
            posted = httpx.post(
                f"{proc.url}/_inbox/0x{rid.hex()}",
                content=out,
                headers={
                    "X-PeerHost-Worker": worker.address,
                    "X-PeerHost-Signature": "0x" + signature.hex(),
                },
            )
            assert posted.status_code == 202, posted.text
            response = call.result(timeout=15)
        assert response.status_code == 200
        assert response.text == "over http"
        assert response.headers["x-peerhost-request-id"] == "0x" + rid.hex()
    finally:
        code = proc.stop()
    log = proc.log_path.read_text()
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a clean shutdown
    assert "Application shutdown complete" in log
    assert "call fn=" in log and "status=200" in log and worker.address in log
    assert settings.private_key[-16:] not in log
    assert settings.private_key[-16:] not in (tmp_path / "gateway.json").read_text()


def test_cli__no_key__exits_2_naming_the_variable(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != KEY_ENV}
    chain = tmp_path / "chain.json"
    chain.write_text(
        '{"rpc_url": "http://127.0.0.1:9", "ws_url": "ws://127.0.0.1:9", "chain_id": 1,'
        ' "registry": "0x' + "1" * 40 + '", "workers": "0x' + "2" * 40 + '",'
        ' "coordinator": "0x' + "3" * 40 + '"}'
    )
    result = subprocess.run(
        [sys.executable, "-m", "peerhost.gateway", "--chain-config", str(chain)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert KEY_ENV in result.stderr
