"""Shared role and factory fixtures for the contract tests (and everything built on them)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from ape.exceptions import ContractLogicError
from eth_utils import keccak

from peerhost.chain import ChainConfig
from peerhost.deploy import ETHER, Deployment, DeployParams, deploy

PROJECT = "shop"
FUNCTION = "orders-create"
RUNTIME = "wasi"
CODE_CID = bytes.fromhex("01551220") + bytes(range(32))
FUEL = 1_000_000
MEMORY = 16 * 1024 * 1024
ENCRYPTION_KEY = bytes.fromhex("11" * 32)


@contextmanager
def _reverts_with(error: Any) -> Iterator[None]:
    selector = keccak(text=error.abi.selector)[:4].hex()
    with pytest.raises(ContractLogicError) as info:
        yield
    decoded = getattr(info.value, "abi", None)
    if decoded is not None:  # ape decoded it (it knows the contract that raised it)
        assert decoded.selector == error.abi.selector, (
            f"expected {error.abi.name}, got {info.value!r}"
        )
    else:
        assert selector in str(info.value), f"expected {error.abi.name}, got {info.value!r}"


@pytest.fixture(scope="session")
def reverts_with() -> Callable[[Any], AbstractContextManager[None]]:
    """``with reverts_with(contract.SomeError): view()``: checks the custom error's selector.

    ape decodes custom errors of transactions (use ``ape.reverts`` there) but not of view calls or
    deployments on this anvil, where ``ape.reverts`` accepts any error; this checks the selector.
    """
    return _reverts_with


@pytest.fixture(scope="session")
def compiled_modules(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """One compiled-module cache (a :class:`~peerhost.sandbox.cache.ModuleCache` directory) for
    every sandbox, worker, devnet and ``ape run`` of the session: the JS engine takes seconds and
    the Python runtime tens of seconds to compile, so each is compiled once and loaded after.
    It lives in pytest's cache when that plugin is on (reused by later sessions), else in the
    session's temporary directory (CI runs with ``-p no:cacheprovider``). Under pytest-xdist
    (``bin/test`` runs ``-n 2``) the workers share one directory, the run's base temporary
    directory: the cache locks each module while one process compiles it, so each is still
    compiled once per run, not once per worker."""
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        return Path(str(cache.mkdir("peerhost-compiled-modules")))
    if os.environ.get("PYTEST_XDIST_WORKER"):  # each worker's basetemp is <run's basetemp>/<worker>
        shared = tmp_path_factory.getbasetemp().parent / "compiled-modules"
        shared.mkdir(exist_ok=True)
        return shared
    return tmp_path_factory.mktemp("compiled-modules")


@pytest.fixture(scope="session")
def owner(accounts: Any) -> AccountAPI:
    """Deploys the contracts and owns the treasury."""
    return accounts[0]


@pytest.fixture(scope="session")
def developer(accounts: Any) -> AccountAPI:
    """Publishes functions and funds its projects."""
    return accounts[1]


@pytest.fixture(scope="session")
def gateway(accounts: Any) -> AccountAPI:
    """Turns HTTP calls into requests, paid from a project balance."""
    return accounts[2]


@pytest.fixture(scope="session")
def requester(accounts: Any) -> AccountAPI:
    """Pays for a request with the call itself."""
    return accounts[3]


@pytest.fixture(scope="session")
def workers(accounts: Any) -> list[AccountAPI]:
    """Five would-be workers."""
    return [accounts[i] for i in range(4, 9)]


@pytest.fixture(scope="session")
def stranger(accounts: Any) -> AccountAPI:
    """Someone with no role."""
    return accounts[9]


@pytest.fixture(scope="session")
def deploy_params() -> DeployParams:
    return DeployParams()


@pytest.fixture(scope="session")
def deployment(project: Any, owner: AccountAPI, deploy_params: DeployParams) -> Deployment:
    """The three contracts, freshly deployed and wired with the default parameters."""
    return deploy(project, owner, deploy_params)


@pytest.fixture
def chain_config(deployment: Deployment, chain: Any) -> ChainConfig:
    """Where the hot path (worker, gateway, raw JSON-RPC) reaches this session's deployment."""
    return deployment.chain_config(chain.provider)


@pytest.fixture
def registry(deployment: Deployment) -> ContractInstance:
    return deployment.registry


@pytest.fixture
def worker_registry(deployment: Deployment) -> ContractInstance:
    return deployment.workers


@pytest.fixture
def coordinator(deployment: Deployment) -> ContractInstance:
    return deployment.coordinator


@pytest.fixture
def publish(registry: ContractInstance, developer: AccountAPI) -> Callable[..., bytes]:
    """Factory: publishes a version of (developer, project, name) and returns the function id."""

    def _publish(
        name: str = FUNCTION,
        project: str = PROJECT,
        *,
        runtime: str = RUNTIME,
        code_cid: bytes = CODE_CID,
        fuel: int = FUEL,
        memory: int = MEMORY,
        mode: int = 0,
        sender: AccountAPI | None = None,
    ) -> bytes:
        account = sender or developer
        registry.publish(project, name, runtime, code_cid, fuel, memory, mode, sender=account)
        function_id: bytes = registry.functionIdOf(account, project, name)
        return function_id

    return _publish


@pytest.fixture
def published_function(publish: Callable[..., bytes]) -> bytes:
    """The id of developer's shop/orders-create, version 1 active."""
    return publish()


@pytest.fixture
def register_worker(
    worker_registry: ContractInstance, deploy_params: DeployParams
) -> Callable[..., AccountAPI]:
    """Factory: registers an account as a worker with ``stake`` (default: the minimum)."""

    def _register(account: AccountAPI, stake: int | None = None) -> AccountAPI:
        value = deploy_params.min_stake if stake is None else stake
        worker_registry.register(ENCRYPTION_KEY, value=value, sender=account)
        return account

    return _register


@pytest.fixture
def registered_workers(
    workers: list[AccountAPI], register_worker: Callable[..., AccountAPI]
) -> list[AccountAPI]:
    """All five workers, registered with 2 ether each."""
    return [register_worker(w, 2 * ETHER) for w in workers]


E2E = Path(__file__).resolve().parent / "e2e"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup`` (``bin/test``), one xdist process runs a whole end-to-end
    directory: its stack (started by the directory's session fixture, stopped after its last test)
    starts once, and never stops between two of its files. Other tests are grouped by file."""
    if not getattr(config.option, "loadgroup", False):  # xdist sets it in each of its processes
        return
    for item in items:
        path = Path(str(item.path))
        if E2E in path.parents:
            group = "e2e-" + path.relative_to(E2E).parts[0]
        else:
            group = item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
