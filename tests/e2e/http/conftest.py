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
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tickets"))  # ticket_stack.py

from e2e_http_stack import (  # noqa: E402
    E2E_PROJECT,
    HERE,
    RUNNING,
    Stack,
    chain_mode,
    write_e2e_project,
)

# ape's isolation snapshots and reverts its own test chain around every test; these tests never
# touch that chain, so they opt out (fixtures, found here once imported).
from ticket_stack import (  # noqa: E402
    _class_isolation,  # noqa: F401
    _function_isolation,  # noqa: F401
    _module_isolation,  # noqa: F401
    _package_isolation,  # noqa: F401
    _session_isolation,  # noqa: F401
)

from peerhost.deploy import ETHER, Deployment
from peerhost.devnet.accounts import REQUESTER, derive
from peerhost.devnet.processes import free_port
from peerhost.devnet.progress import Progress
from peerhost.devnet.stack import Devnet, DevnetConfig
from peerhost.publishing import Publisher, load_project, prepare_project
from peerhost.storage import cid_to_bytes, compute_cid, open_store


@dataclass
class ChainTarget:
    """Where the stack's chain is, and how ape connects to it."""

    url: str
    chain_id: int
    ape: Callable[[], contextlib.AbstractContextManager[Any]]
    deployment: Callable[[Any], Deployment] | None  # contracts already there (fork), else None
    close: Callable[[], None]


def local_chain(devnet: Devnet, networks: Any) -> ChainTarget:
    """Our own anvil; ape attaches to it by URL."""
    url = devnet.start_chain()

    def connect() -> contextlib.AbstractContextManager[Any]:
        return networks.ethereum.local.use_provider("foundry", provider_settings={"host": url})

    return ChainTarget(url, 31337, connect, None, devnet.stop_chain)


def forked_chain(root: Path, networks: Any) -> ChainTarget:
    """An upstream anvil (chain id 1) loaded from a saved state holding a PeerHost deployment
    (tests/fork/upstream.py builds it), forked through ape's ``ethereum:mainnet-fork:foundry``.
    The fork stays connected (and its anvil alive) until ``close``."""
    from fork.upstream import build_state, start_upstream, stop_anvil  # tests/fork

    state_file = root / "upstream-state.json"
    upstream_state = build_state(state_file)
    upstream, upstream_url = start_upstream(state_file)
    fork_url = f"http://127.0.0.1:{free_port()}"
    settings = {
        "host": fork_url,
        "fork": {"ethereum": {"mainnet": {"upstream_provider": upstream_url}}},
    }

    def connect() -> contextlib.AbstractContextManager[Any]:
        return networks.ethereum.mainnet_fork.use_provider("foundry", provider_settings=settings)

    def existing(project: Any) -> Deployment:
        from peerhost.deploy import deployment_key

        chain = networks.provider.chain_manager
        return Deployment(
            registry=project.FunctionRegistry.at(upstream_state.registry),
            workers=project.WorkerRegistry.at(upstream_state.workers),
            coordinator=project.ExecutionCoordinator.at(upstream_state.coordinator),
            deployer="",
            block_number=upstream_state.block_number,
            key=deployment_key(chain),
            existing=True,
        )

    def close() -> None:
        with contextlib.suppress(Exception), connect() as provider:
            provider.disconnect()
        stop_anvil(upstream)

    try:
        with connect() as provider:
            assert int(provider.chain_id) == 1
    except BaseException:
        stop_anvil(upstream)
        raise
    return ChainTarget(fork_url, 1, connect, existing, close)


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    project: Any,
    networks: Any,
    accounts: Any,
    compiled_modules: Path,
) -> Iterator[Stack]:
    """The devnet-style stack (see the module docstring); stopped when this directory is done."""
    root = tmp_path_factory.mktemp("e2e-http")
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
        sandbox_cache=compiled_modules,  # the session's (see tests/conftest.py)
    )
    devnet = Devnet(config, Progress(lambda line: print(line, flush=True)))
    deployer, developer = accounts[0], accounts[1]
    target = (
        forked_chain(root, networks) if chain_mode() == "fork" else local_chain(devnet, networks)
    )
    devnet.attach(target.url, target.chain_id)
    stack = Stack(
        devnet=devnet,
        ape=target.ape,
        developer=developer,
        owner=str(developer.address),
        examples="",
    )
    RUNNING.append(stack)
    try:
        with target.ape():
            existing = target.deployment(project) if target.deployment else None
            stack.examples = devnet.setup_chain(project, deployer, developer, existing).project
            publish_e2e_project(stack, root)
        devnet.start_services()
        yield stack
    finally:
        stack.stop()
        target.close()
        if stack in RUNNING:
            RUNNING.remove(stack)


def publish_e2e_project(stack: Stack, root: Path) -> None:
    """The ``e2e`` project: a JS hello, a disabled function, and one whose code no store holds."""
    devnet, developer = stack.devnet, stack.developer
    deployment = stack.deployment
    Publisher(
        deployment.registry, developer, open_store(devnet.store_spec), devnet.gateway_url
    ).publish(load_project(write_e2e_project(root)))
    registry = deployment.registry
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
        deployment.coordinator,
        registry,
        developer,
        E2E_PROJECT,
        fund=10 * ETHER,
        gateways=(devnet.gateway_key.address, derive(REQUESTER).address),
    )


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
