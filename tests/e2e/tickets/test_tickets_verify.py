"""The client verifier: genuine answers verify offline and on-chain; tampered ones do not."""

from __future__ import annotations

import httpx
import pytest
from ticket_stack import TicketStack

from peerhost.chain.settlement import SettlementView
from peerhost.client import check_attestations, check_settled
from peerhost.console import CallResult, PeerHost
from peerhost.devnet.accounts import worker_key


def answer(stack: TicketStack, http: httpx.Client, mode: str) -> httpx.Response:
    response = http.get(stack.example("hello"), headers={"x-peerhost-mode": mode})
    assert response.status_code == 200, response.text
    return response


def offline(stack: TicketStack, headers: dict[str, str], active: list[str]) -> list[str]:
    chain = stack.devnet.chain_config
    assert chain is not None
    return check_attestations(headers, chain.chain_id, chain.settlement, active).problems


@pytest.fixture(scope="module")
def active(tickets_stack: TicketStack) -> list[str]:
    async def members(view: SettlementView) -> list[str]:
        return list((await view.active_set()).members)

    return list(tickets_stack.view(members))


@pytest.mark.parametrize("mode", ["fast", "attested"])
def test_verify__genuine_answer__passes_offline(
    tickets_stack: TicketStack, http: httpx.Client, active: list[str], mode: str
) -> None:
    response = answer(tickets_stack, http, mode)
    assert offline(tickets_stack, dict(response.headers), active) == []


def test_verify__result_hash_swapped__fails(
    tickets_stack: TicketStack, http: httpx.Client, active: list[str]
) -> None:
    headers = dict(answer(tickets_stack, http, "attested").headers)
    headers["x-peerhost-result-hash"] = "0x" + "ab" * 32
    problems = offline(tickets_stack, headers, active)
    assert any("not its own" in p for p in problems), problems


def test_verify__attester_not_in_the_epoch__fails(
    tickets_stack: TicketStack, http: httpx.Client, active: list[str]
) -> None:
    headers = dict(answer(tickets_stack, http, "fast").headers)
    problems = offline(tickets_stack, headers, [worker_key(9).address])
    assert any("not active" in p for p in problems), problems


def test_verify__attested_with_one_attestation__fails(
    tickets_stack: TicketStack, http: httpx.Client, active: list[str]
) -> None:
    headers = dict(answer(tickets_stack, http, "attested").headers)
    first = headers["x-peerhost-attestations"].split(",")[0]
    headers["x-peerhost-attestations"] = first
    problems = offline(tickets_stack, headers, active)
    assert any("needed for this mode" in p for p in problems), problems


def test_verify__verified_answer__settled_on_chain_and_a_wrong_hash_is_caught(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    response = answer(tickets_stack, http, "verified")
    status = tickets_stack.status(response.headers["x-peerhost-request-id"])
    good = response.headers["x-peerhost-result-hash"]

    async def both(view: SettlementView) -> tuple[list[str], list[str]]:
        right = await check_settled(view, status, good)
        wrong = await check_settled(view, status, "0x" + "cd" * 32)
        return right.problems, wrong.problems

    right, wrong = tickets_stack.view(both)
    assert right == []
    assert wrong == ["the chain finalized another result"]


def test_console_verify__verified_answer__ok(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    response = answer(tickets_stack, http, "verified")
    devnet = tickets_stack.devnet
    assert devnet.deployment is not None and devnet.settlement is not None
    with tickets_stack.ape():
        from ape import chain

        console = PeerHost(
            devnet.deployment,
            chain,
            gateway_url=devnet.gateway_url,
            contracts={**devnet.deployment.addresses, **devnet.settlement.addresses},
        )
        result = CallResult(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.content,
            0.0,
        )
        check = console.verify(result, settled=True)
    assert check.ok, check
    assert check.attesters
