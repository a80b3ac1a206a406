"""End-to-end on the ticket path: a real anvil, the request and settlement contracts, the examples,
three staked workers on the gateway's job feed and the gateway under uvicorn, as ``bin/devnet``
runs them. Tests talk HTTP to the gateway and JSON-RPC to the chain; ape connects to the chain
only inside ``stack.ape()`` (the stack's chain is not ape's test chain, whose per-test snapshots
would rewind it under the long-running processes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ticket_stack import (  # the isolation opt-outs: fixtures, found here once imported
    DirectoryStack,
    TicketStack,
    _class_isolation,  # noqa: F401
    _function_isolation,  # noqa: F401
    _module_isolation,  # noqa: F401
    _package_isolation,  # noqa: F401
    _session_isolation,  # noqa: F401
    ticket_config,
)

from peerhost import devnet_state

HERE = Path(__file__).resolve().parent
#: ``PEERHOST_E2E_BLOCK_TIME=1``: the stack's chain mines a block a second once it is set up (the
#: modules that send transactions through ape are skipped then: they need a block per transaction).
BLOCK_TIME = float(os.environ.get("PEERHOST_E2E_BLOCK_TIME", "0") or 0)
#: ``PEERHOST_E2E_SLOW=1`` runs the ``slow`` ticket-path tests too (minutes each: the lab's cartel
#: devnet). CI skips them; docs/economics.md gives the command and the figures of their runs.
SLOW = os.environ.get("PEERHOST_E2E_SLOW", "") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SLOW:
        return
    skip = pytest.mark.skip(reason="a slow ticket-path test: PEERHOST_E2E_SLOW=1 runs it")
    for item in items:
        if HERE in Path(str(item.path)).parents and item.get_closest_marker("slow"):
            item.add_marker(skip)


STACK = DirectoryStack(HERE)


@pytest.fixture(scope="session")
def tickets_stack(
    tmp_path_factory: pytest.TempPathFactory,
    project: Any,
    networks: Any,
    accounts: Any,
    compiled_modules: Path,
) -> Iterator[TicketStack]:
    root = tmp_path_factory.mktemp("e2e-tickets")
    # the session's compiled-module cache (tests/conftest.py): the runtimes compile once per run
    config = ticket_config(root, compiled_modules, block_time=BLOCK_TIME)
    yield from STACK.run(config, project, networks, accounts)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    STACK.stop_after(nextitem)


@pytest.fixture(scope="module")
def automine() -> None:
    """For tests that send transactions through ape: skipped on a chain with a block time."""
    if BLOCK_TIME:
        pytest.skip("sends transactions through ape, which needs a block per transaction")


@pytest.fixture(scope="module")
def recorded(tickets_stack: TicketStack, automine: None) -> Iterator[Path]:
    """The stack's ``devnet.json`` written to its state directory, so ``ape run`` commands
    (``TicketStack.ape_run``) find the stack as they find ``bin/devnet``; cleared afterwards."""
    devnet = tickets_stack.devnet
    devnet.save_state()
    try:
        yield devnet.state_dir
    finally:
        devnet_state.clear(devnet.state_dir)


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=120.0) as client:
        yield client
