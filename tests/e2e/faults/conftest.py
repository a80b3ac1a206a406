"""Fault injection on the ticket path: one stack for the directory (a real anvil, the contracts,
the examples, three staked workers and the gateway as processes, as ``bin/devnet`` runs them), with
commit and reveal windows short enough that a dead seat's no-show settles within a test, and a
gateway that posts every two seconds (so a crash finds tickets unposted). The scenarios live in
``fault_scenarios.py`` (``bench/faults.py`` runs them many times with different seeds).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_scenarios import fault_config
from ticket_stack import TicketStack

from peerhost.devnet.progress import Progress
from peerhost.devnet.stack import Devnet

HERE = Path(__file__).resolve().parent
#: ``PEERHOST_FAULT_SEED``: the seed every scenario runs with (fixed by default: CI is repeatable).
SEED = int(os.environ.get("PEERHOST_FAULT_SEED", "18"))
#: ``PEERHOST_FAULTS=all`` runs the ``slow`` scenarios too (CI runs one of each kind).
ALL = os.environ.get("PEERHOST_FAULTS", "") == "all"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ALL:
        return
    skip = pytest.mark.skip(reason="a slow fault scenario: PEERHOST_FAULTS=all runs it")
    for item in items:
        if HERE in Path(str(item.path)).parents and item.get_closest_marker("slow"):
            item.add_marker(skip)


RUNNING: list[Devnet] = []


@pytest.fixture(scope="session")
def faults_stack(
    tmp_path_factory: pytest.TempPathFactory,
    project: Any,
    networks: Any,
    accounts: Any,
    request: pytest.FixtureRequest,
) -> Iterator[TicketStack]:
    root = tmp_path_factory.mktemp("e2e-faults")
    config = fault_config(root, request.config)
    devnet = Devnet(config, Progress(lambda line: print(line, flush=True)))
    devnet.start_chain()
    RUNNING.append(devnet)
    stack = TicketStack(devnet, networks, accounts[1])
    try:
        with stack.ape():
            stack.examples = devnet.setup_chain(project, accounts[0], accounts[1]).project
        devnet.start_services()
        with stack.ape():
            devnet.set_example_secrets(accounts[1])  # as bin/devnet does
        yield stack
    finally:
        if devnet in RUNNING:
            RUNNING.remove(devnet)
            devnet.stop()


# These tests never touch ape's own test chain: no isolation snapshots around them.
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


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stops the stack once the last test of this directory ran."""
    if nextitem is None or HERE not in Path(str(nextitem.path)).parents:
        while RUNNING:
            RUNNING.pop().stop()


@pytest.fixture
def seed() -> int:
    return SEED
