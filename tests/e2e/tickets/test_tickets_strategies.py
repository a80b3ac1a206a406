"""A lab devnet: deviating worker *processes* chosen per worker (``bin/devnet --workers
honest,honest,honest,lazy``) among honest ones, on the real ticket path.

The lazy worker answers every ticket without running it (``peerhost.worker.strategies.Lazy``):
its attestations and, when it is seated, its reveals contradict the honest result. Traffic flows
through the gateway; the answers served are the honest workers' (attested answers need two
matching attestations; a disagreement falls back to the committee); on-chain the lazy worker is
slashed (its contradicted attestation is presented, its wrong seat punished) and ends with less
wei than every honest worker. A stack of its own (four workers, one of them lazy).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lab_holdings import all_settled, holdings, slashed_wei
from ticket_stack import TicketStack, running_stack, ticket_config, wait_for

from peerhost.chain.settlement import SettlementView
from peerhost.devnet.accounts import worker_key
from peerhost.devnet.stack import parse_workers

WORKERS = "honest,honest,honest,lazy"
LAZY = 3
HELLO = "Hello from PeerHost!"


@pytest.fixture(scope="module")
def lab_stack(
    tmp_path_factory: pytest.TempPathFactory,
    project: Any,
    networks: Any,
    accounts: Any,
    compiled_modules: Path,
) -> Iterator[TicketStack]:
    root = tmp_path_factory.mktemp("e2e-strategies")
    count, strategies = parse_workers(WORKERS)
    config = ticket_config(
        root,
        compiled_modules,  # the session's (tests/conftest.py)
        workers=count,
        strategies=strategies,
    )
    with running_stack(config, project, networks, accounts) as stack:
        yield stack


def test_lazy_worker_process__traffic_flows__answers_correct_and_it_loses_to_honest(
    lab_stack: TicketStack,
) -> None:
    devnet = lab_stack.devnet
    workers = [worker_key(n).address for n in range(devnet.config.workers)]
    lazy = workers[LAZY]
    assert [devnet.config.strategy_of(n) for n in range(4)] == WORKERS.split(",")
    # each process runs the strategy it was given
    assert [e["strategy"] for e in devnet.workers[LAZY].events("worker_active")] == ["lazy"]
    assert [e["strategy"] for e in devnet.workers[0].events("worker_active")] == ["honest"]
    start = lab_stack.view(lambda view: view.block_number())
    before = {w: lab_stack.view(lambda view, w=w: holdings(view, w)) for w in workers}

    lazy_attested, requests = 0, []
    with httpx.Client(timeout=120.0) as http:
        for _ in range(10):
            response = http.get(lab_stack.example("hello"), headers={"x-peerhost-mode": "attested"})
            assert response.status_code == 200, response.text
            requests.append(response.headers["x-peerhost-request-id"])
            status = lab_stack.status(requests[-1])
            lazy_attested += lazy in {a["worker"] for a in status["attestations"]}
            if response.headers["x-peerhost-mode"] == "attested":
                assert response.text == HELLO  # two matching attestations: the honest result
                continue
            # a disagreement (the lazy worker attested) is answered from the batch's settlement:
            # the honest result unless the lazy worker held a majority of the committee's seats
            batch_id = status["batch"]["id"]

            async def lazy_seats(view: SettlementView, batch_id: int = batch_id) -> int:
                holders, counts = await view.holders_of(batch_id)
                return dict(zip(holders, counts, strict=True)).get(lazy, 0)

            if lab_stack.view(lazy_seats) < 2:  # of K = 3 seats, quorum 2
                assert response.text == HELLO
    assert lazy_attested, "the gateway never asked the lazy worker in 10 calls"

    # every leaf settles: its window passes, and a leaf the lazy worker captured is challenged by
    # an honest worker and its case closes (the challenger's bond is back, with a share); the lazy
    # worker's contradicted attestations are presented and its wrong reveals punished
    def posted() -> set[tuple[int, int]] | None:
        leaves = set()
        for request_id in requests:  # an attested answer comes before its batch is posted
            batch = lab_stack.status(request_id)["batch"]
            if batch is None:
                return None
            leaves.add((int(batch["id"]), int(batch["leaf_index"])))
        return leaves

    leaves = wait_for(posted, 120)
    wait_for(lambda: lab_stack.view(lambda view: all_settled(view, leaves)), 300)
    first = wait_for(lambda: lab_stack.view(lambda view: slashed_wei(view, lazy, start)), 150)
    after = {w: lab_stack.view(lambda view, w=w: holdings(view, w)) for w in workers}
    gain = {w: after[w]["total"] - before[w]["total"] for w in workers}
    lost_stake = before[lazy]["stake"] - after[lazy]["stake"]
    # its stake dropped by what the stake registry took (slashes keep landing while we read)
    assert 0 < first <= lost_stake <= lab_stack.view(lambda view: slashed_wei(view, lazy, start))
    assert gain[lazy] < 0
    assert all(gain[lazy] < gain[w] for w in workers[:LAZY]), gain
