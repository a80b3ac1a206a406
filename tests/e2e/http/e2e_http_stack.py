"""The e2e HTTP stack handle and helpers shared by the tests in this directory."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from peerhost.deploy import Deployment
from peerhost.devnet.accounts import derive
from peerhost.devnet.gateway_process import start_gateway_process
from peerhost.devnet.processes import free_port
from peerhost.devnet.stack import EXAMPLES, Devnet
from peerhost.gateway.launcher import GatewayProcess

HERE = Path(__file__).resolve().parent
E2E_PROJECT = "e2e"
CHAIN_ENV = "PEERHOST_E2E_CHAIN"

#: The e2e project: a JS hello (the benchmark's function too) and a copy of the wasi hello that
#: the tests disable.
HELLO_JS = """export async function handler(req) {
  return { status: 200, headers: { "content-type": "text/plain" }, body: "hello " + (req.query.name ?? "world") };
}
"""


def chain_mode() -> str:
    mode = os.environ.get(CHAIN_ENV, "local")
    if mode not in ("local", "fork"):
        raise pytest.UsageError(f"{CHAIN_ENV} must be local or fork, not {mode!r}")
    return mode


@dataclass
class Stack:
    """The running stack and what tests need to reach it."""

    devnet: Devnet
    ape: Callable[[], contextlib.AbstractContextManager[Any]]
    developer: Any
    owner: str
    examples: str
    missing_function: str = "missing"
    disabled_function: str = "disabled"
    js_hello: str = "hello-js"
    extra_gateways: list[GatewayProcess] = field(default_factory=list)

    @property
    def gateway_url(self) -> str:
        return self.devnet.gateway_url

    @property
    def deployment(self) -> Deployment:
        assert self.devnet.deployment is not None
        return self.devnet.deployment

    def url(self, project: str, function: str, wallet: str | None = None) -> str:
        return f"{self.gateway_url}/{wallet or self.owner}/{project}/{function}"

    def example(self, function: str) -> str:
        return self.url(self.examples, function)

    def status(self, request_id: str, gateway_url: str | None = None) -> dict[str, Any]:
        """The gateway's view of a request's on-chain state."""
        response = httpx.get(f"{gateway_url or self.gateway_url}/_status/requests/{request_id}")
        response.raise_for_status()
        doc: dict[str, Any] = response.json()
        return doc

    def start_gateway(self, key_index: int, **overrides: Any) -> GatewayProcess:
        """Another gateway on this chain, signing with test account ``key_index``."""
        key = derive(key_index)
        port = free_port()
        settings = self.devnet.gateway_settings().replace(
            private_key=key.private_key, public_url=f"http://127.0.0.1:{port}", **overrides
        )
        healthy = overrides.get("chain") is None
        proc = start_gateway_process(
            settings,
            "127.0.0.1",
            port,
            self.devnet.logs_dir / f"gateway-{port}",
            require_healthy=healthy,
        )
        self.extra_gateways.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.extra_gateways:
            proc.stop()
        self.extra_gateways.clear()
        self.devnet.stop()


RUNNING: list[Stack] = []


def write_e2e_project(root: Path) -> Path:
    folder = root / "e2e-project"
    functions = folder / "functions"
    functions.mkdir(parents=True, exist_ok=True)
    (functions / "hello-js.js").write_text(HELLO_JS)
    shutil.copy(EXAMPLES / "functions" / "hello.wasm", functions / "disabled.wasm")
    (folder / "project.json").write_text(json.dumps({"project": E2E_PROJECT}) + "\n")
    return folder


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, every: float = 0.2) -> Any:
    """Polls ``predicate`` until it returns something truthy; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f} s")
        time.sleep(every)
