"""The gateway process with three real worker processes and the real sandbox (slow).

A smoke test of the whole inbox protocol: the workers read the job the gateway submitted, run
examples/functions/echo.wasm (which answers with the canonical request it was given), post
their signed outputs to the gateway's inbox, and commit/reveal/finalize on-chain.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from gateway_helpers import PROJECT

from peerhost.chain.config import ChainConfig
from peerhost.deploy import ETHER
from peerhost.gateway import GatewaySettings
from peerhost.gateway.launcher import start_gateway
from peerhost.storage import cid_to_bytes, open_store
from peerhost.worker.launcher import start_worker
from peerhost.worker.settings import WorkerSettings

ECHO = Path(__file__).resolve().parents[3] / "examples" / "functions" / "echo.wasm"


@pytest.mark.slow
def test_gateway_with_real_workers__echo__fast_then_verified(
    settings: GatewaySettings,
    chain_config: ChainConfig,
    registry: ContractInstance,
    coordinator: ContractInstance,
    funded_project: int,
    developer: AccountAPI,
    workers: list[AccountAPI],
    tmp_path: Path,
    compiled_modules: Path,
) -> None:
    store_spec = f"local:{tmp_path / 'store'}"
    cid = open_store(store_spec).put(ECHO.read_bytes())
    registry.publish(
        PROJECT, "echo", "wasi", cid_to_bytes(cid), 100_000_000, 16 * 2**20, 0, sender=developer
    )
    nodes = [
        start_worker(
            chain_config,
            w.private_key,
            WorkerSettings(
                data_dir=tmp_path / f"worker{i}",
                store=store_spec,
                metrics_port=0,
                stake=2 * ETHER,
                sandbox_processes=0,
                sandbox_cache=compiled_modules,  # the JS engine they load at start, compiled once
                finalize_delay=0.1,
            ),
        )
        for i, w in enumerate(workers[:3])
    ]
    # The workers compile echo.wasm at their first job: on a loaded machine that alone can take
    # longer than the module's 5 s fast budget, which other gateway tests keep short.
    gateway = start_gateway(replace(settings, fast_timeout=30.0), work_dir=tmp_path / "gateway")
    try:
        url = f"{gateway.url}/{developer.address}/{PROJECT}/echo/items?q=1"
        fast = httpx.post(url, content=b"ping", timeout=30)
        assert fast.status_code == 200, fast.text + gateway.log_tail()
        assert fast.headers["x-peerhost-mode"] == "fast"
        doc = fast.json()
        assert doc["path"] == "/items" and doc["query"] == {"q": "1"} and doc["body"] == "ping"
        assert doc["metadata"]["request_id"] == fast.headers["x-peerhost-request-id"]

        verified = httpx.post(
            url, content=b"pong", headers={"X-PeerHost-Mode": "verified"}, timeout=90
        )
        assert verified.status_code == 200, verified.text + gateway.log_tail()
        rid = bytes.fromhex(verified.headers["x-peerhost-request-id"][2:])
        stored = coordinator.getRequest(rid)
        assert stored.status == 2  # Finalized
        assert "0x" + bytes(stored.resultHash).hex() == verified.headers["x-peerhost-result-hash"]
        assert json.loads(verified.text)["body"] == "pong"

        scraped = httpx.get(nodes[0].metrics_url + "/metrics", timeout=5).text
        ran = [
            line for line in scraped.splitlines() if line.startswith("peerhost_worker_run_total")
        ]
        assert ran and float(ran[0].split()[-1]) >= 1, scraped
        assert "peerhost_worker_stake_wei 2e+18" in scraped
        gateway_text = httpx.get(gateway.url + "/metrics", timeout=5).text
        assert 'mode="verified",status="200"' in gateway_text
    finally:
        gateway.stop()
        for node in nodes:
            node.stop()
