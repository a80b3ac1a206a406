"""Data availability: a gateway that refuses a ticket's input to the seats of its batch.

The seats cannot re-execute the ticket, so one of them opens a data-availability challenge on the
EvidenceCourt (bonding ``dataBond``). The gateway publishes nothing; after ``dataWindow`` the
ticket is voided: the gateway's bond pays the project the ticket's reward back and loses
``dataSlash`` besides, and the challenger gets its bond back.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ticket_stack import TicketStack, wait_for

from peerhost.chain.courts import CourtsView
from peerhost.chain.settlement import SettlementView
from peerhost.devnet.accounts import GATEWAY, derive, worker_key

GATEWAY_ADDRESS = derive(GATEWAY).address

pytestmark = pytest.mark.usefixtures("automine")


def test_gateway__refuses_an_input_to_the_seats__ticket_voided_refunded_and_its_bond_charged(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    start = tickets_stack.view(lambda view: view.block_number())
    tickets_stack.restart_gateway(withhold_inputs=True)
    try:
        # attested: the leaf is audited, so its seats need the input
        response = http.get(tickets_stack.example("hello"), headers={"x-peerhost-mode": "attested"})
        assert response.status_code == 200, response.text
        rid = response.headers["x-peerhost-request-id"]
        status = wait_for(lambda: (s := tickets_stack.status(rid))["batch"] and s, 30)
        batch_id, index = status["batch"]["id"], status["batch"]["leaf_index"]
        reward = int(status["ticket"]["reward"])

        async def voided(view: SettlementView) -> list[dict[str, Any]]:
            courts = await CourtsView.load(view)
            logs = await courts.logs("evidence", "TicketVoidedForData", start, batch_id)
            return [args for _, args in logs if int(args["index"]) == index]

        [void] = wait_for(lambda: tickets_stack.view(voided), 90)

        async def evidence(view: SettlementView) -> dict[str, Any]:
            courts = await CourtsView.load(view)
            [(raw, opened)] = [
                (raw, args)
                for raw, args in await courts.logs("evidence", "DataChallenged", start, batch_id)
                if int(args["index"]) == index
            ]
            block = int(raw["blockNumber"], 16)
            holders, _ = await view.holders_of(batch_id)
            credits = [args for _, args in await courts.logs("evidence", "Credited", start)]
            refunds = await view.logs("Refunded", start, contract="gateways")
            charges = await view.logs("BondCharged", start, contract="gateways")
            return {
                "opened": opened,
                "holders": holders,
                "params": await courts.params(),
                "bond_before": await view.bond_of_at(GATEWAY_ADDRESS, block),
                "bond_after": await view.bond_of(GATEWAY_ADDRESS),
                "challenge": await courts.data_challenge_of(batch_id, index),
                "credits": credits,
                "refunds": [args for _, args in refunds],
                "charges": [args for _, args in charges],
            }

        found = tickets_stack.view(evidence)
        params = found["params"]
        challenger = str(found["opened"]["challenger"])
        assert challenger in found["holders"]  # a seat of the batch
        assert challenger in {worker_key(n).address for n in range(3)}
        assert int(found["challenge"]["state"]) == 3  # voided
        # the gateway's bond paid the reward back and lost dataSlash besides, to the wei
        assert int(void["refunded"]) == reward
        assert int(void["charged"]) == reward + int(params["dataSlash"])
        assert found["bond_before"] - found["bond_after"] == int(void["charged"])
        assert [int(c["amount"]) for c in found["charges"]] == [int(void["charged"])]
        assert reward in [int(r["amount"]) for r in found["refunds"]]  # to the project's reserve
        # the challenger's bond came back
        assert {
            (str(c["account"]), int(c["amount"]), int(c["reason"])) for c in found["credits"]
        } == {(challenger, int(params["dataBond"]), 2)}
    finally:
        tickets_stack.restart_gateway(withhold_inputs=False)
