"""A lab devnet with the strategies that coordinate an owner's identities, as worker *processes*
among honest ones on the real ticket path (``bin/devnet --workers honest,…,self-dealing``):

- ``withholder`` attests honestly, commits its owner's lie as a seat and reveals it only when its
  owner holds a quorum of seats (alone, it seldom does: it is slashed as a no-show);
- ``captured-committee`` (two identities of one owner) votes honestly until the owner holds a
  quorum of a batch's seats, then both reveal one lie; an honest attester or seat challenges it,
  the tier-2 panel overturns it and the liars are slashed;
- ``spam-challenger`` challenges leaves it agrees with and loses its bonds;
- ``self-dealing`` attests its owner's lie and presents it itself once the leaf settles: the
  presenter's share does not cover the slash.

Calls flow until each of them has acted (a seat for the withholder, a captured committee, a
challenge by the spammer, an attestation by the self-dealer), a bounded number of rounds. Every
answer served where the cartel held no quorum of the batch's seats is the honest result; on-chain
each deviating identity (the cartel: its owner) ends with less wei than an honest identity's mean
(balance, credits in the three contracts and stake, gas included). A stack of its own (eight workers).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from lab_holdings import all_settled, holdings, slashed_wei
from ticket_stack import TicketStack, running_stack, sandbox_cache_dir, ticket_config, wait_for

from peerhost.chain.courts import CourtsView
from peerhost.chain.settlement import SettlementView
from peerhost.devnet.accounts import worker_key
from peerhost.devnet.settlement import devnet_settlement_params
from peerhost.devnet.stack import parse_workers

WORKERS = (
    "honest,honest,honest,withholder,captured-committee,captured-committee,"
    "spam-challenger,self-dealing"
)
HONEST, WITHHOLDER, CARTEL, SPAM, SELF_DEALING = (0, 1, 2), 3, (4, 5), 6, 7
NAMES = dict(enumerate(WORKERS.split(",")))
HELLO = "Hello from PeerHost!"
#: Rounds of three concurrent calls before the test gives up on a strategy that never acted.
ROUNDS = 40
QUORUM = 2


@pytest.fixture(scope="module")
def cartel_stack(
    tmp_path_factory: pytest.TempPathFactory,
    project: Any,
    networks: Any,
    accounts: Any,
    request: pytest.FixtureRequest,
) -> Iterator[TicketStack]:
    root = tmp_path_factory.mktemp("e2e-strategies-cartel")
    count, strategies = parse_workers(WORKERS)
    # a withheld reveal holds its batch until the reveal window ends: short windows
    params = dataclasses.replace(
        devnet_settlement_params(count), commit_window=60, reveal_window=30
    )
    config = ticket_config(
        root,
        sandbox_cache_dir(request.config, root / "sandbox-cache"),
        workers=count,
        strategies=strategies,
        settlement_params=params,
        gateway_settings={"fast_timeout": 60.0},
    )
    with running_stack(config, project, networks, accounts) as stack:
        yield stack


async def seats_of(view: SettlementView, batch_id: int) -> dict[str, int]:
    """Seat holder -> seats, once the batch's committee is drawn (empty before)."""
    holders, counts = await view.holders_of(batch_id)
    return dict(zip(holders, counts, strict=True))


async def challengers(view: SettlementView, start: int) -> set[str]:
    courts = await CourtsView.load(view)
    escalated = await courts.logs("dispute", "Escalated", start + 1, to_block="latest")
    return {str(args["challenger"]).lower() for _, args in escalated}


def _call(url: str) -> httpx.Response:
    return httpx.get(url, headers={"x-peerhost-mode": "attested"}, timeout=240.0)


def _request_id(response: httpx.Response) -> str:
    """The request id of an answer, or of a timeout (no answer in time: nothing served)."""
    assert response.status_code in (200, 504), response.text
    if response.status_code == 504:
        return str(response.json()["request_id"])
    return response.headers["x-peerhost-request-id"]


@pytest.mark.slow  # a stack of eight workers, calls until a committee is captured: minutes
def test_cartel_strategy_processes__traffic_until_each_acted__answers_right_and_each_loses(
    cartel_stack: TicketStack,
) -> None:
    stack = cartel_stack
    devnet = stack.devnet
    workers = [worker_key(n).address for n in range(devnet.config.workers)]
    for n, name in enumerate(WORKERS.split(",")):  # each process runs the strategy it was given
        assert [e["strategy"] for e in devnet.workers[n].events("worker_active")] == [name]
    cartel = {workers[n] for n in CARTEL}
    # a first call compiles and caches the function in every worker it reaches
    wait_for(lambda: _call(stack.example("hello")).status_code == 200, 300)
    start = stack.view(lambda view: view.block_number())
    before = {w: stack.view(lambda view, w=w: holdings(view, w)) for w in workers}

    acted = {"withholder seated": False, "committee captured": False}
    acted |= {"spam challenged": False, "self-dealer attested": False}
    requests: list[str] = []
    batches: dict[int, dict[str, int]] = {}  # batch id -> its seats, once drawn
    with ThreadPoolExecutor(3) as pool:
        for _ in range(ROUNDS):
            for response in pool.map(_call, [stack.example("hello")] * 3):
                rid = _request_id(response)
                requests.append(rid)
                status = stack.status(rid)
                if workers[SELF_DEALING] in {a["worker"] for a in status["attestations"]}:
                    acted["self-dealer attested"] = True
                if response.status_code != 200:
                    continue  # a busy machine: no answer in time, nothing served
                if response.headers["x-peerhost-mode"] == "attested":
                    assert response.text == HELLO  # two matching attestations: honest ones
                    continue
                # a disagreement is answered from the batch's settlement: the honest result
                # unless the cartel held a quorum of the committee's seats
                seats = stack.view(lambda view, b=status["batch"]["id"]: seats_of(view, b))
                if sum(n for w, n in seats.items() if w in cartel) < QUORUM:
                    assert response.text == HELLO, (seats, response.text)
            for rid in requests:
                batch = stack.status(rid)["batch"]
                if batch is not None and not batches.get(int(batch["id"])):
                    batches[int(batch["id"])] = stack.view(
                        lambda view, b=int(batch["id"]): seats_of(view, b)
                    )
            for seats in batches.values():
                acted["withholder seated"] |= workers[WITHHOLDER] in seats
                acted["committee captured"] |= (
                    sum(n for w, n in seats.items() if w in cartel) >= QUORUM
                )
            spam = workers[SPAM].lower() in stack.view(lambda view: challengers(view, start))
            acted["spam challenged"] |= spam
            if all(acted.values()):
                break
    assert all(acted.values()), f"not every strategy acted in {ROUNDS} rounds: {acted}"

    # every leaf settles (windows pass, cases close), then the slashes land
    def posted() -> set[tuple[int, int]] | None:
        leaves = set()
        for rid in requests:
            batch = stack.status(rid)["batch"]
            if batch is None:
                return None
            leaves.add((int(batch["id"]), int(batch["leaf_index"])))
        return leaves

    leaves = wait_for(posted, 120)
    wait_for(lambda: stack.view(lambda view: all_settled(view, leaves)), 600)
    for n in (WITHHOLDER, SELF_DEALING):
        wait_for(lambda n=n: stack.view(lambda view: slashed_wei(view, workers[n], start)), 150)
    wait_for(
        lambda: sum(stack.view(lambda view, w=w: slashed_wei(view, w, start)) for w in cartel),
        150,
    )
    after = {w: stack.view(lambda view, w=w: holdings(view, w)) for w in workers}
    gain = {w: after[w]["total"] - before[w]["total"] for w in workers}
    # against an honest identity's mean gain: seats, panels and slash pots are drawn by lot, and
    # one honest worker's luck may differ from another's by more than a small deviation costs
    honest = sum(gain[workers[n]] for n in HONEST) // len(HONEST)
    print(
        "gain in wei by strategy:", {f"{n}:{name}": gain[workers[n]] for n, name in NAMES.items()}
    )
    assert gain[workers[WITHHOLDER]] < honest, gain
    assert gain[workers[SPAM]] < honest, gain
    assert gain[workers[SELF_DEALING]] < honest, gain
    # the cartel's owner (two identities) against two honest identities
    assert sum(gain[w] for w in cartel) < 2 * honest, gain
