"""Worker end-to-end harness: ape's anvil, contracts deployed with peerhost.deploy, a local content
store, and real worker processes started through peerhost.worker.launcher."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from worker_inbox import RecordingInbox
from worker_proxy import TcpProxy

from peerhost.chain import ChainConfig
from peerhost.deploy import ETHER, Deployment, DeployParams, deploy
from peerhost.sandbox import Sandbox
from peerhost.storage.cid import cid_to_bytes
from peerhost.storage.spec import open_store
from peerhost.wire import canonical_request
from peerhost.worker import WorkerSettings, start_worker
from peerhost.worker.launcher import WorkerProcess

HELLO_JS = b"""export async function handler(req) {
  return { status: 200, headers: { "content-type": "text/plain" }, body: "hello " + req.body };
}
"""
REWARD = ETHER // 100
STAKE = 2 * ETHER


@pytest.fixture(scope="session")
def deploy_params() -> DeployParams:
    """K=4, quorum 3, short windows (long enough for a restart on a busy machine): three workers
    wait out the commit window, four close it."""
    return DeployParams(
        max_commits=4,
        quorum=3,
        commit_window=20,  # four worker processes on two loaded cores all commit within it
        reveal_window=20,  # a killed worker restarts and reveals within it, even on a loaded CI machine
        unbonding_delay=3600,
        min_reward=ETHER // 1000,
    )


@pytest.fixture(scope="session")
def deployment(project: Any, owner: AccountAPI, deploy_params: DeployParams) -> Deployment:
    """This directory's own deployment with its parameters.

    Overriding ``deploy_params`` alone is not enough: the root ``deployment`` fixture is cached for
    the whole session, so in a full run it would hold the default parameters of an earlier test.
    """
    return deploy(project, owner, deploy_params)


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("worker-e2e")


@pytest.fixture(scope="session")
def store_spec(tmp_root: Path) -> str:
    return f"local:{tmp_root / 'store'}"


@pytest.fixture(scope="session")
def sandbox_cache(compiled_modules: Path) -> Path:
    """The session's compiled-module cache, shared by all workers: both runtimes are compiled
    there once (here, if nothing compiled them earlier in the session), so workers only load them."""
    sandbox = Sandbox(compiled_modules, compile_in_subprocess=False)  # trusted code, no timeout
    try:
        sandbox.warm("js")
        sandbox.warm("python")
    finally:
        sandbox.close()
    return compiled_modules


@pytest.fixture
def hello(registry: ContractInstance, developer: AccountAPI, store_spec: str) -> bytes:
    """A published js function answering "hello <body>"; returns its id."""
    cid = open_store(store_spec).put(HELLO_JS)
    registry.publish(
        "demo", "hello", "js", cid_to_bytes(cid), 50_000_000, 64 * 2**20, 0, sender=developer
    )
    function_id: bytes = registry.functionIdOf(developer, "demo", "hello")
    return function_id


@pytest.fixture
def request_job(
    coordinator: ContractInstance, requester: AccountAPI, chain: Any
) -> Callable[..., bytes]:
    """Factory: requests an execution of ``function_id`` with ``body``; returns the request id."""

    def _request(function_id: bytes, body: str = "world", reply_to: str = "") -> bytes:
        rid = bytes(coordinator.nextRequestId(requester))
        data = canonical_request(
            "POST",
            "/",
            {},
            {"content-type": "text/plain"},
            body,
            request_id=rid,
            block_timestamp=chain.pending_timestamp,
            wallet=requester.address,
            project="demo",
            function="hello",
        )
        coordinator.requestExecution(
            function_id, data, reply_to.encode(), value=REWARD, sender=requester
        )
        return rid

    return _request


@pytest.fixture
def spawn_worker(
    chain_config: ChainConfig, tmp_path: Path, store_spec: str, sandbox_cache: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Factory: starts a worker process for a test account (registering it with 2 ether)."""
    started: list[WorkerProcess] = []

    def _spawn(
        account: Any,
        *,
        name: str | None = None,
        chain: ChainConfig | None = None,
        wait: bool = True,
        program: Sequence[str] = ("-m", "peerhost.worker"),
        **overrides: Any,
    ) -> WorkerProcess:
        settings = WorkerSettings(
            data_dir=tmp_path / (name or account.address),
            store=store_spec,
            sandbox_cache=sandbox_cache,
            sandbox_processes=0,
            stake=STAKE,
            metrics_port=0,
            withdraw_interval=1.0,
            finalize_delay=0.3,
            shutdown_timeout=5.0,
            log_level="debug",
        ).replace(**overrides)
        proc = start_worker(
            chain or chain_config, account.private_key, settings, wait=wait, program=program
        )
        started.append(proc)
        return proc

    yield _spawn
    for proc in started:
        proc.stop(timeout=15)


@pytest.fixture
def spawn_workers(spawn_worker: Callable[..., WorkerProcess]) -> Callable[..., list[WorkerProcess]]:
    """Factory: starts several workers at once and waits until all are ready."""

    def _spawn(accounts: list[Any], **overrides: Any) -> list[WorkerProcess]:
        procs = [spawn_worker(a, wait=False, **overrides) for a in accounts]
        for p in procs:
            p.wait_ready(90)
        return procs

    return _spawn


@pytest.fixture
def inbox() -> Iterator[RecordingInbox]:
    server = RecordingInbox()
    yield server
    server.close()


@pytest.fixture
def proxy(networks: Any) -> Iterator[TcpProxy]:
    """A cuttable TCP proxy in front of anvil (HTTP and WebSocket share the port)."""
    host_port = networks.provider.uri.split("//", 1)[1].rstrip("/")
    host, port = host_port.rsplit(":", 1)
    p = TcpProxy(host, int(port))
    yield p
    p.close()
