"""The ticket-path stack the e2e tests drive (imported by module name, never from a conftest)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import SettlementView
from peerhost.deploy import ETHER
from peerhost.devnet.progress import Progress
from peerhost.devnet.stack import Devnet, DevnetConfig
from peerhost.publishing.checks import CACHE_ENV

#: The ``ape`` of this environment, for the commands a developer runs against the stack.
APE = str(Path(sys.executable).with_name("ape"))


def sandbox_cache_dir(config: Any, fallback: Path) -> Path:
    """The compiled-module cache the e2e stacks share (pytest's cache dir when there is one)."""
    cache = getattr(config, "cache", None)
    return Path(str(cache.mkdir("peerhost-e2e-sandbox"))) if cache is not None else fallback


def ticket_config(root: Path, sandbox_cache: Path, **overrides: Any) -> DevnetConfig:
    """The ticket-path devnet the e2e tests run (three workers, short timeouts), ``overrides``
    replacing any of its fields; ``worker_settings`` and ``gateway_settings`` are merged."""
    gateway = {"fast_timeout": 30.0, "verified_timeout": 90.0, "rate_limit": 500.0}
    worker = {"finalize_delay": 0.2, "shutdown_timeout": 5.0, "orphan_grace": 12.0}
    gateway.update(overrides.pop("gateway_settings", {}))
    worker.update(overrides.pop("worker_settings", {}))
    fields: dict[str, Any] = {
        "workers": 3,
        "port": 0,
        "state_dir": root,
        "record": False,
        "fund": 20 * ETHER,
        "tickets": True,
        "sandbox_cache": sandbox_cache,
    }
    fields.update(overrides)
    return DevnetConfig(gateway_settings=gateway, worker_settings=worker, **fields)


@dataclass
class TicketStack:
    devnet: Devnet
    networks: Any
    developer: Any
    examples: str = ""

    @property
    def gateway_url(self) -> str:
        return self.devnet.gateway_url

    @property
    def owner(self) -> str:
        return str(self.developer.address)

    def example(self, function: str) -> str:
        return f"{self.gateway_url}/{self.owner}/{self.examples}/{function}"

    def ape(self) -> contextlib.AbstractContextManager[Any]:
        return self.networks.ethereum.local.use_provider(
            "foundry", provider_settings={"host": self.devnet.rpc_url}
        )

    def view(self, coro: Callable[[SettlementView], Awaitable[Any]]) -> Any:
        """Runs ``coro(view)`` against the stack's chain (plain JSON-RPC, no ape)."""
        chain = self.devnet.chain_config
        assert chain is not None

        async def main() -> Any:
            rpc = RpcClient(chain.rpc_url)
            try:
                return await coro(SettlementView(chain, rpc))
            finally:
                await rpc.aclose()

        return asyncio.run(main())

    def restart_gateway(self, *, crash: bool = False, **settings: Any) -> None:
        """Stops the gateway (SIGKILL when ``crash``), starts it with ``settings`` changed (same
        ticket book) and waits until the workers are back on its feed."""
        devnet = self.devnet
        if crash:
            devnet.gateway.kill()
            devnet.gateway = None
        else:
            devnet.stop_gateway()
        devnet.config.gateway_settings.update(settings)
        devnet.start_gateway()
        devnet.wait_for_feeds(devnet.config.workers)

    def ape_run(
        self, devnet_dir: Path, *args: str, account: str = "TEST::1"
    ) -> subprocess.CompletedProcess[str]:
        """``ape run ARGS --account ACCOUNT`` as a developer runs it next to ``bin/devnet``: the
        stack's chain, ``devnet_dir`` holding its recorded ``devnet.json`` (the ``recorded``
        fixture), its compiled-module cache. Returns the finished process (never raises on a
        non-zero exit: tests assert on it)."""
        env = {
            **os.environ,
            "APE_FOUNDRY_HOST": self.devnet.rpc_url,
            "PEERHOST_DEVNET_DIR": str(devnet_dir),
            CACHE_ENV: str(self.devnet.sandbox_cache),
        }
        return subprocess.run(
            [APE, "run", *args, "--account", account],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def set_secret(self, project: str, name: str, value: str) -> None:
        """Sets ``project``'s secret ``name`` as its developer does (``ape run secrets set``'s
        path: sealed to the active workers, pointer on-chain). Sends transactions through ape."""
        from peerhost.secrets import ApeSecretsChain, SecretsTool, ape_signer
        from peerhost.storage import open_store

        devnet = self.devnet
        assert devnet.deployment is not None
        with self.ape():
            from ape import chain

            SecretsTool(
                chain=ApeSecretsChain(
                    devnet.deployment.registry, devnet.deployment.workers, self.developer
                ),
                store=open_store(devnet.store_spec),
                signer=ape_signer(self.developer),
                owner=self.owner,
                chain_id=int(chain.chain_id),
                registry=str(devnet.deployment.registry.address),
            ).set(project, name, value)

    def publish(self, folder: Path, *, reserve: int = ETHER) -> dict[str, str]:
        """Publishes the project in ``folder`` as its developer, authorizes the stack's gateway on
        its ticket reserve (at least ``reserve`` wei) and returns each function's URL. Sends
        transactions through ape."""
        from peerhost.publishing import Publisher, load_project
        from peerhost.publishing.billing import prepare_reserve
        from peerhost.storage import open_store

        devnet = self.devnet
        assert devnet.deployment is not None and devnet.settlement is not None
        project = load_project(folder)
        with self.ape():
            store = open_store(devnet.store_spec)
            publisher = Publisher(
                devnet.deployment.registry, self.developer, store, self.gateway_url
            )
            urls = publisher.publish(project).urls()
            prepare_reserve(
                devnet.settlement.gateways,
                self.developer,
                project.name,
                devnet.gateway_key.address,
                minimum=reserve,
            )
        return urls

    def status(self, request_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.gateway_url}/_status/requests/{request_id}")
        response.raise_for_status()
        doc: dict[str, Any] = response.json()
        return doc


def _started(
    devnet: Devnet, project: Any, networks: Any, accounts: Any, *, example_secrets: bool
) -> TicketStack:
    """Deploys and funds the devnet's chain (its chain already started), then starts its services."""
    stack = TicketStack(devnet, networks, accounts[1])
    with stack.ape():
        stack.examples = devnet.setup_chain(project, accounts[0], accounts[1]).project
    devnet.start_services()
    if example_secrets:
        with stack.ape():
            devnet.set_example_secrets(accounts[1])  # as bin/devnet does
    return stack


@contextlib.contextmanager
def running_stack(
    config: DevnetConfig, project: Any, networks: Any, accounts: Any
) -> Iterator[TicketStack]:
    """A stack of its own (chain, contracts, examples, gateway, workers), stopped on exit."""
    devnet = Devnet(config, Progress(lambda line: print(line, flush=True)))
    devnet.start_chain()
    try:
        yield _started(devnet, project, networks, accounts, example_secrets=False)
    finally:
        devnet.stop()


class DirectoryStack:
    """The stack one test directory shares: started by its session fixture, stopped once the
    directory's last test ran (session fixtures outlive it, and the next tests must not share the
    chain's worker accounts with live workers). The directory's conftest calls :meth:`run` from
    its fixture and :meth:`stop_after` from ``pytest_runtest_teardown``."""

    devnet_class: type[Devnet] = Devnet  # the faults' stack puts its node behind a proxy

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._running: list[Devnet] = []

    def run(
        self,
        config: DevnetConfig,
        project: Any,
        networks: Any,
        accounts: Any,
        *,
        example_secrets: bool = True,
    ) -> Iterator[TicketStack]:
        """Starts the stack, yields it, stops it (unless :meth:`stop_after` did already)."""
        devnet = self.devnet_class(config, Progress(lambda line: print(line, flush=True)))
        devnet.start_chain()
        self._running.append(devnet)
        try:
            yield _started(devnet, project, networks, accounts, example_secrets=example_secrets)
        finally:
            if devnet in self._running:
                self._running.remove(devnet)
                devnet.stop()

    def stop_after(self, nextitem: Any) -> None:
        """Stops the stack when ``nextitem`` (pytest's next test) is outside the directory."""
        if nextitem is None or self.directory not in Path(str(nextitem.path)).parents:
            while self._running:
                self._running.pop().stop()


# The ticket-path tests never touch ape's own test chain: their conftests import these to opt out
# of its isolation snapshots (and survive a test chain that is busy or gone).
@pytest.fixture(scope="session")
def _session_isolation() -> Iterator[None]:
    yield


@pytest.fixture(scope="package")
def _package_isolation() -> Iterator[None]:
    yield


@pytest.fixture(scope="module")
def _module_isolation() -> Iterator[None]:
    yield


@pytest.fixture(scope="class")
def _class_isolation() -> Iterator[None]:
    yield


@pytest.fixture
def _function_isolation() -> Iterator[None]:
    yield


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Polls ``predicate`` until it returns something truthy (returned); fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout} s")
