"""Contracts as callers on the running stack: a consumer contract requests a function, the
committee the coordinator draws runs it from the router's event, settles it, and a seat relays the
settled envelope to the consumer's callback (examples/consumer/)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ticket_stack import TicketStack, wait_for

from peerhost.consumer import deploy_router
from peerhost.publishing import Publisher, load_project
from peerhost.storage import open_store

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "consumer"
DELIVERED = 2


@pytest.fixture(scope="module")
def consumer_setup(
    tickets_stack: TicketStack, project: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Any, Any, bytes]:
    """The example's ``square`` function published in the examples project, a router on the
    stack's coordinator and the example consumer contract."""
    devnet = tickets_stack.devnet
    folder = tmp_path_factory.mktemp("consumer")
    shutil.copytree(EXAMPLE / "functions", folder / "functions")
    (folder / "project.json").write_text("{}")
    assert devnet.deployment is not None and devnet.settlement is not None
    developer = tickets_stack.developer
    with tickets_stack.ape():
        Publisher(
            devnet.deployment.registry,
            developer,
            open_store(devnet.store_spec),
            tickets_stack.gateway_url,
        ).publish(load_project(folder, tickets_stack.examples))
        fid = bytes(
            devnet.deployment.registry.functionIdOf(developer, tickets_stack.examples, "square")
        )
        router = deploy_router(project, developer, devnet.settlement.coordinator)
        consumer = project.ExampleConsumer.deploy(router, sender=developer)
    return router, consumer, fid


def _ask(
    stack: TicketStack, setup: tuple[Any, Any, bytes], n: int = 0, data: bytes | None = None
) -> bytes:
    router, consumer, fid = setup
    with stack.ape():
        reward = int(stack.devnet.settlement.coordinator.params().minReward)  # type: ignore[union-attr]
        payload = data if data is not None else b'{"query":{"n":"%d"}}' % n
        tx = consumer.ask(fid, payload, 300_000, value=reward, sender=stack.developer)
        return bytes(tx.events.filter(router.Requested)[0].requestId)


def _status(stack: TicketStack, router: Any, rid: bytes) -> int:
    with stack.ape():
        return int(router.requestOf(rid).status)


def test_consumer__requests_square__callback_receives_the_settled_uint256(
    tickets_stack: TicketStack, consumer_setup: tuple[Any, Any, bytes]
) -> None:
    router, consumer, _ = consumer_setup
    rid = _ask(tickets_stack, consumer_setup, 12)
    wait_for(lambda: _status(tickets_stack, router, rid) != 1, timeout=120)
    with tickets_stack.ape():
        output, error = consumer.answerOf(rid)
        assert _status(tickets_stack, router, rid) == DELIVERED
    assert bytes(error) == b""
    assert int.from_bytes(bytes(output), "big") == 144 and len(bytes(output)) == 32


def test_consumer__clf_source_with_args__callback_receives_encode_uint256_bytes(
    tickets_stack: TicketStack,
    consumer_setup: tuple[Any, Any, bytes],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The clf example (a Chainlink Functions source, unchanged) called from a contract: the
    arguments at the top of the contract's input, Functions.encodeUint256's bytes in the
    callback."""
    router, consumer, _ = consumer_setup
    devnet = tickets_stack.devnet
    assert devnet.deployment is not None
    folder = tmp_path_factory.mktemp("clf")
    shutil.copytree(EXAMPLE.parent / "clf" / "functions", folder / "functions")
    shutil.copy(EXAMPLE.parent / "clf" / "project.json", folder / "project.json")
    developer = tickets_stack.developer
    with tickets_stack.ape():
        Publisher(
            devnet.deployment.registry,
            developer,
            open_store(devnet.store_spec),
            tickets_stack.gateway_url,
        ).publish(load_project(folder, tickets_stack.examples))
        fid = bytes(
            devnet.deployment.registry.functionIdOf(developer, tickets_stack.examples, "median")
        )
    rid = _ask(
        tickets_stack,
        (router, consumer, fid),
        data=b'{"args":["3000.5","2999.25","3100"],"bytesArgs":["0x02"]}',
    )
    wait_for(lambda: _status(tickets_stack, router, rid) != 1, timeout=120)
    with tickets_stack.ape():
        output, error = consumer.answerOf(rid)
    assert bytes(error) == b""
    assert bytes(output) == (300050).to_bytes(32, "big")  # 3000.50 with 2 decimals


def test_ape_run_consumer__example_script__prints_the_callback(
    tickets_stack: TicketStack, consumer_setup: tuple[Any, Any, bytes]
) -> None:
    """The example's script as a person runs it against a chain: deploys its own consumer (and
    reuses the router), requests square(7), prints what the callback got."""
    router, _, _ = consumer_setup
    devnet = tickets_stack.devnet
    assert devnet.settlement is not None
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "APE_FOUNDRY_HOST": devnet.rpc_url,
    }
    done = subprocess.run(
        [
            "ape", "run", "consumer", tickets_stack.examples, "7",
            "--account", "TEST::1",
            "--router", str(router.address),
            "--coordinator", str(devnet.settlement.coordinator.address),
            "--deployments", str(devnet.deployments_path),
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "status delivered" in done.stdout, done.stdout
    assert f"0x{49:064x} = 49" in done.stdout, done.stdout
