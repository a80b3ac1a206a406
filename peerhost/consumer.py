"""Contracts that call functions (docs/consumers.md): deploying a PeerHostRouter, requesting
through a consumer contract and waiting for its callback, as ``ape run consumer`` and the tests do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ape.api import AccountAPI

from peerhost.deploy import deployment_key, load_settlement_addresses
from peerhost.deployments import DeploymentNotFound, running_devnet
from peerhost.wire.feed import ENGINE_PROFILE

#: IPeerHostRouter.Status
STATUS = ("none", "pending", "delivered", "callback_failed", "no_result")


@dataclass(frozen=True)
class RouterParams:
    """A router's limits (immutable once deployed).

    Attributes:
        ticket_life: Seconds from a request to its deadline (capped at the coordinator's
            maxTicketLife).
        max_input_bytes: Longest input a request may publish (every byte is in an event).
        max_callback_gas: Largest callback gas limit a request may ask for.
        max_envelope_bytes: Longest result envelope whose output is delivered; a longer one
            reaches the consumer as an error.
    """

    ticket_life: int = 600
    max_input_bytes: int = 4096
    max_callback_gas: int = 2_000_000
    max_envelope_bytes: int = 16_384


@dataclass(frozen=True)
class Answer:
    """What a consumer received for one request."""

    status: str
    output: bytes
    error: bytes


def settlement_coordinator(chain: Any, deployments: str | None = None) -> str:
    """The SettlementCoordinator of the connected network: a running devnet's, else the one
    recorded in the deployments file. Raises DeploymentNotFound."""
    devnet = running_devnet(chain)
    if devnet is not None and deployments is None and devnet.contracts.get("settlement"):
        return devnet.contracts["settlement"]
    address = load_settlement_addresses(chain, deployments).get("settlement")
    if not address:
        raise DeploymentNotFound(deployment_key(chain), "no settlement contracts recorded")
    return address


def deploy_router(
    project: Any, deployer: AccountAPI, coordinator: Any, params: RouterParams | None = None
) -> Any:
    """Deploys a PeerHostRouter on ``coordinator`` naming the network's engine profile."""
    p = params or RouterParams()
    return project.PeerHostRouter.deploy(
        coordinator,
        ENGINE_PROFILE,
        p.ticket_life,
        p.max_input_bytes,
        p.max_callback_gas,
        p.max_envelope_bytes,
        sender=deployer,
    )


def ask(
    consumer: Any, router: Any, function_id: bytes, data: bytes, gas: int, fee: int, sender: Any
) -> bytes:
    """``ExampleConsumer.ask`` paid with ``fee``; returns the request id."""
    tx = consumer.ask(function_id, data, gas, value=fee, sender=sender)
    return bytes(tx.events.filter(router.Requested)[0].requestId)


def wait_answer(
    router: Any, consumer: Any, request_id: bytes, timeout: float = 180.0, poll: float = 0.5
) -> Answer:
    """Waits until the request leaves ``pending`` (delivered, callback failed or no result)."""
    deadline = time.monotonic() + timeout
    while True:
        status = int(router.requestOf(request_id).status)
        if status != 1 or time.monotonic() > deadline:
            output, error = consumer.answerOf(request_id)
            return Answer(STATUS[status], bytes(output), bytes(error))
        time.sleep(poll)
