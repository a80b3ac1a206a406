"""A seat that cannot run every audited leaf before its batch's commit window closes commits what
it has, the leaves it could not run as abstentions, ``commit_margin`` seconds before the deadline:
an abstention is a valid value and never slashed, a seat that does not commit is a no-show and is
slashed. Real anvil, real contracts; the slow part is a real HTTP gateway that holds a leaf's input
request (as a gateway restarting, or a data-availability challenge outlasting the window, does)."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.chain.settlement import SettlementView
from peerhost.wire.batch import ABSTAIN, vector_hash
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.committee import Committee, commit_margin

from .worker_harness import (
    QuietHandler,
    ThreadLoop,
    http_server,
    key_of,
    seated_two_holders,
    wait_for,
)

GOOD = b"\x11" * 32
PH_COMMIT, PH_REVEAL, PH_SETTLE, PH_FINALIZED = 2, 3, 4, 5
NO_SHOW = 1  # SeatSlashed reason
#: Seconds the chain's head is old when the seat's duty starts: more than the devnet's 30 s commit
#: margin (a missed slot on L1 leaves a head 24 s old)
HEAD_AGE = 60


@pytest.fixture
def slow_gateway() -> Iterator[str]:
    """A gateway whose input endpoint holds every request until the test ends (then 404)."""
    release = threading.Event()

    class Hold(QuietHandler):
        def do_GET(self) -> None:
            release.wait(120)
            self.send_error(404)

    with http_server(Hold) as url:
        yield url
        release.set()


@pytest.fixture
def latest_as_pending(v2_config: ChainConfig) -> Iterator[str]:
    """The URL of a JSON-RPC proxy to the chain that answers the latest block when asked for the
    ``pending`` one (as op-geth does by default, and some other nodes)."""
    upstream = v2_config.rpc_url

    class Proxy(QuietHandler):
        def do_POST(self) -> None:
            call = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if call.get("method") == "eth_getBlockByNumber" and call["params"][0] == "pending":
                call["params"][0] = "latest"
            request = urllib.request.Request(
                upstream, json.dumps(call).encode(), {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                data = response.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with http_server(Proxy) as url:
        yield url


def test_committee__leaves_not_run_by_commit_margin__commits_abstentions_and_is_not_slashed(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    slow_gateway: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Leaf 0's result is known (the worker attested it); leaf 1's input never comes (the gateway
    holds the request). The chain's clock is moved to 3 s before the seat's cutoff: the seat
    commits [its result, ABSTAIN] in time, reveals it, and loses nothing. Before the cutoff it
    waited for the input (retries, then a data-availability challenge) past the commit deadline
    and was slashed as a no-show."""
    _commits_by_cutoff_not_slashed(
        ready, v2_config, accounts_by_address, loop, slow_gateway, tmp_path, caplog, to_cutoff=3
    )


def test_committee__node_answers_latest_for_pending_head_a_minute_old__cutoff_by_chain_clock(
    ready: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    slow_gateway: str,
    latest_as_pending: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """As above through a node that answers the latest block for ``pending`` (op-geth by
    default), its head 60 s old and the chain's clock 3 s past the seat's cutoff (the worker's
    clock the chain's): the seat commits at once, in time, and loses nothing. Before, the
    ``pending`` block's timestamp, the head's, counted as the chain's clock: 60 s behind, it
    moved the cutoff past the commit deadline (no commitment in the 15 s waited; on the chain a
    no-show slash)."""
    _commits_by_cutoff_not_slashed(
        ready,
        dataclasses.replace(v2_config, rpc_url=latest_as_pending),
        accounts_by_address,
        loop,
        slow_gateway,
        tmp_path,
        caplog,
        to_cutoff=-3,
        head_age=HEAD_AGE,
    )


def _commits_by_cutoff_not_slashed(
    kit: Any,
    config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
    gateway: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    *,
    to_cutoff: int,
    head_age: int = 0,
) -> None:
    """The seat's duty started with the chain's clock ``to_cutoff`` seconds before its cutoff
    (negative: past it) and its head ``head_age`` seconds old, the worker's clock the chain's
    when the head is old: it commits [GOOD, ABSTAIN] in time, reveals, and is not slashed."""
    caplog.set_level(logging.WARNING, logger="peerhost.worker.committee")
    posted, holders = seated_two_holders(kit, 2)
    batch_id = posted.batch_id
    coordinator = kit.coordinator
    assert int(coordinator.getBatch(batch_id).auditMask) & 0b11 == 0b11  # verified: both audited
    me = accounts_by_address[holders[0]]
    others = [accounts_by_address[h] for h in holders[1:]]
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite"))
    ledger.claim(posted.tickets[0], b"\x01" * 32, kit.project_id, b"\x02" * 65)
    ledger.attest(posted.tickets[0], GOOD, b"\x03" * 65)  # leaf 0: this worker ran it already
    rpc = RpcClient(config.rpc_url)
    view = SettlementView(config, rpc, TxSender(rpc, key_of(me), config.chain_id))
    committee = Committee(
        view,
        None,  # type: ignore[arg-type]  # never runs a leaf: leaf 1's input never arrives
        ledger,
        key_of(me),
        str(me.address),
        lambda: {str(kit.gateway.address).lower(): gateway},
        challenges=False,
        poll=0.1,
    )
    stake_before = int(kit.s.stakes.getStaker(me.address).stake)
    from_block = int(kit.chain.blocks.head.number)
    # the chain's clock: ``to_cutoff`` s before the seat's cutoff (commit deadline less the margin)
    margin = commit_margin(int(kit.params.commit_window))
    deadline = int(coordinator.getBatch(batch_id).commitDeadline)
    to_head = deadline - margin - to_cutoff - head_age - kit.now()
    kit.request("evm_increaseTime", [max(0, int(to_head))])
    kit.request("evm_mine", [])
    if head_age:  # the clock moves on, no block is mined
        kit.request("evm_increaseTime", [head_age])
        chain_lead = kit.now() - time.time()
        committee.clock = lambda: time.time() + chain_lead
    duty = loop.start(committee._duty(batch_id, {}))

    def vote() -> bytes:
        return bytes(kit.vote_of(batch_id, me.address))

    wait_for(lambda: vote() != bytes(32), max(0, to_cutoff) + 15, "the seat's commitment")
    assert coordinator.phaseOf(batch_id) in (PH_COMMIT, PH_REVEAL)
    # leaf 1's first fetch was in flight at the cutoff: the input deadline (passed already) is
    # for inputs refused once, never for a fetch still waiting for its answer
    assert "committed as abstentions" in caplog.text
    assert "input not in hand" not in caplog.text
    for other in others:
        kit.commit(batch_id, other, [GOOD, GOOD])
    wait_for(lambda: coordinator.phaseOf(batch_id) == PH_REVEAL, 30, "the reveal phase")
    wait_for(lambda: vote() == vector_hash([GOOD, ABSTAIN]), 30, "the seat's reveal")
    for other in others:
        kit.reveal(batch_id, other, [GOOD, GOOD])
    wait_for(lambda: coordinator.phaseOf(batch_id) >= PH_FINALIZED, 60, "the batch finalized")
    slashed = [
        log
        for log in coordinator.SeatSlashed.range(from_block, int(kit.chain.blocks.head.number) + 1)
        if str(log.worker).lower() == str(me.address).lower()
    ]
    assert slashed == []
    assert int(kit.s.stakes.getStaker(me.address).stake) == stake_before
    duty.cancel()
    loop.run(committee.close(), 30)
    loop.run(rpc.aclose(), 30)
    ledger.close()
