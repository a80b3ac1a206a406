"""The gateway as a real process under uvicorn: launcher, CLI, real HTTP, real inbox posts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from gateway_helpers import PROJECT, envelope, next_request_id, wait_requested

from peerhost.gateway import GatewaySettings
from peerhost.gateway.errors import GatewayStartTimeout
from peerhost.gateway.launcher import GatewayProcess, start_gateway
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


def test_wait_ready__a_gateway_that_cannot_reach_its_chain__says_what_it_answered(
    settings: GatewaySettings, tmp_path: Path
) -> None:
    """Its /_health answers 503: the error names the answer and asks about the chain node."""
    dead = settings.chain.__class__(
        **{**settings.chain.__dict__, "rpc_url": "http://127.0.0.1:9", "ws_url": "ws://127.0.0.1:9"}
    )
    proc = start_gateway(
        settings.replace(chain=dead, announce=False), work_dir=tmp_path, wait=False
    )
    try:
        deadline = time.monotonic() + 120
        while True:  # until it has started (its answer is 503: no chain)
            try:
                assert httpx.get(proc.url + "/_health", timeout=2.0).status_code == 503
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, proc.log_tail()
                time.sleep(0.2)
        with pytest.raises(GatewayStartTimeout) as raised:
            proc.wait_ready(timeout=3.0)
        assert str(raised.value).startswith(
            f"The gateway at {proc.url} was not healthy after 3 s: /_health answered 503 (is the"
            " chain node up?):"
        )
    finally:
        proc.stop()


def test_wait_ready__a_gateway_still_starting__says_it_gave_no_answer(
    settings: GatewaySettings, tmp_path: Path
) -> None:
    """As seen on a machine at load 19: a gateway's imports took 57 s, and the error asked
    whether the chain node was up. A child that never listens stands for it here."""
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "gateway.log"
    log.write_text("INFO:     Waiting for application startup.\n")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    proc = GatewayProcess(
        process=child, log_path=log, url=f"http://127.0.0.1:{port}", settings=settings
    )
    try:
        with pytest.raises(GatewayStartTimeout) as raised:
            proc.wait_ready(timeout=0.3)
    finally:
        child.kill()
        child.wait()
    message = str(raised.value)
    assert message.startswith(
        f"The gateway at http://127.0.0.1:{port} was not healthy after 0 s: /_health gave no "
        "answer to the last poll (still starting on a busy machine"
    )
    assert "is the chain node up?" not in message
    assert message.endswith("Waiting for application startup.")
