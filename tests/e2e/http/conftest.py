"""End-to-end over real HTTP: a devnet-style stack shared by every test in this directory.

The stack: a chain (our own anvil, or ape's ``ethereum:mainnet-fork:foundry`` fork of an upstream
anvil holding a saved deployment when ``PEERHOST_E2E_CHAIN=fork``), the contracts, the examples
and an ``e2e`` project published through ``peerhost.publishing``, three worker processes and the
gateway under uvicorn. Tests talk to it with httpx only; chain-side checks go through ape inside
``stack.ape()``.

The stack's chain is not ape's test chain, on purpose: ape's per-test snapshots and reverts
(isolation) would rewind the chain under the long-running workers and gateway. ape connects to
our chain only inside ``stack.ape()``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_http_stack import (
    E2E_PROJECT,
    HERE,
    RUNNING,
    Stack,
    chain_mode,
    write_e2e_project,
)

from peerhost.deploy import ETHER, Deployment
from peerhost.devnet.accounts import REQUESTER, derive
from peerhost.devnet.processes import free_port
from peerhost.devnet.progress import Progress
from peerhost.devnet.stack import Devnet, DevnetConfig
from peerhost.publishing import Publisher, load_project, prepare_project
from peerhost.storage import cid_to_bytes, compute_cid, open_store


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    project: Any,
    networks: Any,
    accounts: Any,
    request: pytest.FixtureRequest,
) -> Iterator[Stack]:
    """The devnet-style stack (see the module docstring); stopped when this directory is done."""
    mode = chain_mode()
    root = tmp_path_factory.mktemp("e2e-http")
    cache = Path(str(request.config.cache.mkdir("peerhost-e2e-workers")))
    config = DevnetConfig(
        workers=3,
        port=0,
        state_dir=root,
        record=True,
        fund=50 * ETHER,
        gateway_settings={
            "fast_timeout": 30.0,
            "verified_timeout": 60.0,
            "rate_limit": 200.0,
            "rate_burst": 400,
            "registry_cache_ttl": 2.0,
        },
        worker_settings={"finalize_delay": 0.2, "shutdown_timeout": 5.0},
    )
    devnet = Devnet(config, Progress(lambda line: print(line, flush=True)))
    deployer, developer = accounts[0], accounts[1]
    # Compiled modules (the JS engine takes ~10 s to compile) survive between sessions.
    for n in range(4):
        target = devnet.worker_dir(n) / "sandbox"
        target.parent.mkdir(parents=True, exist_ok=True)
        (cache / f"worker-{n + 1}").mkdir(exist_ok=True)
        target.symlink_to(cache / f"worker-{n + 1}", target_is_directory=True)

    deployment: Deployment | None = None
    if mode == "fork":
        upstream = request.getfixturevalue("upstream_deployment")
        provider = networks.ethereum.mainnet_fork.use_provider(
            "foundry",
            provider_settings={
                "host": f"http://127.0.0.1:{free_port()}",
                "fork": {"ethereum": {"mainnet": {"upstream_provider": upstream.rpc_url}}},
            },
        )
        with provider as fork:
            devnet.attach(str(fork.uri), chain_id=1)
            deployment = upstream.load(project)
        make_ctx: Callable[[], contextlib.AbstractContextManager[Any]] = lambda: provider  # noqa: E731
    else:
        url = devnet.start_chain()

        def make_ctx() -> contextlib.AbstractContextManager[Any]:
            return networks.ethereum.local.use_provider("foundry", provider_settings={"host": url})

    stack = Stack(
        devnet=devnet,
        ape=make_ctx,
        developer=developer,
        owner=str(developer.address),
        examples="",
    )
    RUNNING.append(stack)
    try:
        with make_ctx():
            report = devnet.setup_chain(project, deployer, developer, deployment)
            stack.examples = report.project
            publisher = Publisher(
                devnet.deployment.registry if devnet.deployment else None,
                developer,
                open_store(devnet.store_spec),
                devnet.gateway_url,
            )
            publisher.publish(load_project(write_e2e_project(root)))
            registry = devnet.deployment.registry  # type: ignore[union-attr]
            never_stored = compute_cid(b"code no worker can fetch " + os.urandom(8))
            registry.publish(
                E2E_PROJECT,
                stack.missing_function,
                "wasi",
                cid_to_bytes(never_stored),
                10_000_000,
                16 * 2**20,
                0,
                sender=developer,
            )
            fid = registry.functionIdOf(developer, E2E_PROJECT, stack.disabled_function)
            registry.setDisabled(fid, True, sender=developer)
            prepare_project(
                devnet.deployment.coordinator,  # type: ignore[union-attr]
                registry,
                developer,
                E2E_PROJECT,
                fund=10 * ETHER,
                gateways=(devnet.gateway_key.address, derive(REQUESTER).address),
            )
        devnet.start_services()
        yield stack
    finally:
        stack.stop()
        if stack in RUNNING:
            RUNNING.remove(stack)


# ape's isolation snapshots and reverts its own test chain around every test; these tests never
# touch that chain, so they opt out (and survive a test chain that is busy or gone).
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


@pytest.hookimpl(trylast=True)  # after the item's own fixtures are torn down
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stops the stack once the last test of this directory ran (session fixtures outlive it,
    and the next tests must not share the chain's worker accounts with live workers)."""
    if nextitem is None or HERE not in Path(str(nextitem.path)).parents:
        while RUNNING:
            RUNNING.pop().stop()


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=120.0) as client:
        yield client
