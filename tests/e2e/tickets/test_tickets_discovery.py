"""Workers discover gateways on-chain: a worker configured with no gateway finds the devnet's
gateway through its ``GatewayEndpoint`` announcement, answers its calls, and drops it once the
gateway's bond is gone. A stack of its own (one worker), since it ends by unbonding the gateway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ticket_stack import TicketStack, running_stack, ticket_config, wait_for

from peerhost.chain.sender import TxSender
from peerhost.chain.settlement import SettlementView
from peerhost.devnet.accounts import worker_key
from peerhost.wire.feed import parse_attestations_header


@pytest.fixture(scope="module")
def discovering(
    tmp_path_factory: pytest.TempPathFactory,
    project: Any,
    networks: Any,
    accounts: Any,
    compiled_modules: Path,
) -> Iterator[TicketStack]:
    root = tmp_path_factory.mktemp("e2e-discovery")
    config = ticket_config(
        root,
        compiled_modules,  # the session's (tests/conftest.py)
        workers=1,
        worker_settings={"gateways": "", "discover": True, "discovery_interval": 0.5},
    )
    with running_stack(config, project, networks, accounts) as stack:
        yield stack


def feed_links(stack: TicketStack) -> int:
    return int(httpx.get(f"{stack.gateway_url}/_health", timeout=10).json()["feed_links"])


def test_worker__no_gateway_configured__discovers_it_on_chain_and_answers(
    discovering: TicketStack,
) -> None:
    devnet = discovering.devnet
    assert devnet.worker_settings(0).gateway_urls == []
    gateway = devnet.gateway_key.address
    announced = discovering.view(lambda view: view.endpoint_of(gateway))
    assert announced == devnet.gateway_url

    response = httpx.get(
        discovering.example("hello"), headers={"x-peerhost-mode": "fast"}, timeout=60
    )

    assert response.status_code == 200, response.text
    assert response.text == "Hello from PeerHost!"
    pairs = parse_attestations_header(response.headers["x-peerhost-attestations"])
    assert [worker.lower() for worker, _ in pairs] == [worker_key(0).address.lower()]


def test_gateway__restarted_with_same_url__announces_nothing_new(discovering: TicketStack) -> None:
    discovering.restart_gateway()

    events = discovering.view(lambda view: view.logs("GatewayEndpoint", 0, contract="gateways"))

    assert [args["url"] for _, args in events] == [discovering.gateway_url]


def test_worker__gateway_bond_withdrawn__drops_its_feed(discovering: TicketStack) -> None:
    devnet = discovering.devnet
    chain = devnet.chain_config
    assert chain is not None and feed_links(discovering) == 1

    async def unbond(view: SettlementView) -> None:
        sender = TxSender(view.rpc, devnet.gateway_key.private_key, chain.chain_id)
        bond = await view.bond_of(devnet.gateway_key.address)
        data = view.gateways.encode_call("requestBondWithdrawal", bond)
        receipt = await sender.wait(await sender.send(chain.gateways, data, gas=200_000))
        assert int(receipt["status"], 16) == 1

    discovering.view(unbond)

    wait_for(lambda: feed_links(discovering) == 0, timeout=30)
