"""End-to-end edge tests: the devnet's ticket path (a real anvil, the contracts, the examples, two
staked workers on the job feed, the gateway under uvicorn) with short edge limits, so the slow
cases of the corpus take about a second each. Raw sockets only: no HTTP client library between
the corpus and the server.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tickets"))  # the ticket-path stack (ticket_stack.py)

from ticket_stack import (  # noqa: E402  (the isolation opt-outs: fixtures, found here once imported)
    DirectoryStack,
    TicketStack,
    _class_isolation,  # noqa: F401
    _function_isolation,  # noqa: F401
    _module_isolation,  # noqa: F401
    _package_isolation,  # noqa: F401
    _session_isolation,  # noqa: F401
    ticket_config,
)

#: The edge limits the stack's gateway runs with (the corpus's expectations assume them).
EDGE_SETTINGS = {
    "header_timeout": 1.0,
    "body_timeout": 1.0,
    "max_connections_per_client": 8,
    "max_head_bytes": 16 * 1024,
    "max_header_bytes": 8 * 1024,
    "max_feed_message_bytes": 256 * 1024,
    "feed_hello_timeout": 1.0,
    "max_result_bytes": 64 * 1024,
    "rate_limit": 5.0,
    "rate_burst": 20,
}

STACK = DirectoryStack(HERE)


@pytest.fixture(scope="session")
def edge_stack(
    tmp_path_factory: pytest.TempPathFactory,
    project: Any,
    networks: Any,
    accounts: Any,
    compiled_modules: Path,
) -> Iterator[TicketStack]:
    root = tmp_path_factory.mktemp("e2e-edge")
    config = ticket_config(
        root,
        compiled_modules,  # the session's (tests/conftest.py): the runtimes compile once per run
        workers=2,
        gateway_settings=dict(EDGE_SETTINGS),
    )
    yield from STACK.run(config, project, networks, accounts, example_secrets=False)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    STACK.stop_after(nextitem)
