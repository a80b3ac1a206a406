"""Admission control on the real gateway app: while the batch poster is half the attesters'
orphan grace behind (its oldest unposted ticket that old), a new call gets 503 with Retry-After
and a message saying why, before any ticket is signed; once the poster caught up, calls are taken
again. Without it the backlog grew past the grace, the attesters posted the tickets as orphans,
the gateway's bond paid their gas until it fell below the minimum and every worker refused it."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from peerhost.chain.config import ChainConfig
from peerhost.gateway import create_app
from peerhost.gateway.errors import PosterBehind
from peerhost.gateway.poster import _GAS_PER_WORD, post_gas, tickets_per_block
from peerhost.gateway.ticketbook import ISSUED
from peerhost.wire.ticket import request_id

from .conftest import PROJECT
from .gateway_harness import PosterOnChain, gateway_settings
from .worker_harness import key_of


def save(gw: PosterOnChain, kit: Any, tickets: Any) -> None:
    """Puts ``tickets`` in ``gw``'s book as issued, signed and with an input (no attester waits)."""
    for t in tickets:
        gw.book.save(t, t.seq.to_bytes(32, "big"), kit.project_id, b"\x01" * 65, b"in")


def post_one(gw: PosterOnChain, kit: Any) -> None:
    """One ticket issued and posted: the poster's first round (it reads the chain's parameters)."""
    save(gw, kit, kit.tickets(1))
    gw.poster._last_block = -1
    gw.run(gw.poster.post_ready())
    assert gw.book.in_state(ISSUED) == []


def test_call__poster_behind_half_the_orphan_grace__503_retry_after_until_it_caught_up(
    ready: Any, v2_config: ChainConfig, chain: Any, tmp_path: Path
) -> None:
    kit = ready
    # the tickets are issued by the wall clock: a shared chain whose clock a snapshot's revert set
    # behind it would refuse their post (issued after the block) until it caught up
    kit.clock_on_the_wall()
    settings = gateway_settings(kit, v2_config, tmp_path, orphan_grace=20.0)
    with TestClient(create_app(settings)) as client:
        gateway = client.app.state.gateway  # type: ignore[attr-defined]
        address = str(kit.gateway.address)
        url = f"/{kit.developer.address}/{PROJECT}/v2-fn"
        issued_at = int(time.time()) - 11  # past half of the 20 s grace, not posted yet
        tickets = [dataclasses.replace(t, issued_at=issued_at) for t in kit.tickets(3)]

        head = int(chain.blocks.head.number)

        def behind() -> None:  # the book as a poster that fell behind leaves it, seen by a tick
            # the poster's own first tick may come later: posted once this block, it waits for the
            # next (no transaction mines one here), so it only sees the backlog too
            gateway.poster._last_block = head
            for t in tickets:
                rid = request_id(chain.chain_id, v2_config.settlement, address, t.seq)
                gateway.book.save(t, rid, kit.project_id, b"\x01" * 65, b"in")
            gateway.poster.watch_backlog()

        client.portal.call(behind)  # type: ignore[union-attr]
        seq = gateway.book.next_seq()
        refused = client.post(url, content=b"{}")
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "PosterBehind"
        assert "wait to be posted" in refused.json()["detail"]
        # how far behind the poster is stays in the gateway: no count, no lag, no grace
        said = refused.json()["detail"].split("retry in")[0]
        assert "backlog" not in refused.json() and not any(c.isdigit() for c in said), said
        assert 1 <= int(refused.headers["Retry-After"]) <= 10
        assert gateway.book.next_seq() == seq  # refused before anything was signed

        gateway.poster._last_block = -1
        client.portal.call(gateway.poster.tick)  # type: ignore[union-attr]  # it caught up
        assert not [t for t in gateway.book.in_state(ISSUED)]
        taken = client.post(url, content=b"{}")
        # past admission: this chain has no linked worker to attest it
        assert taken.json()["error"] == "NoAttesters", taken.text


def test_admit__first_post_small_backlog_young__admitted(
    ready: Any, v2_config: ChainConfig, tmp_path: Path
) -> None:
    """A poster that just posted its first few tickets while many young ones wait (they wait for
    their attesters) is not behind: its rate of one post says nothing of what it can post."""
    kit = ready
    gw = PosterOnChain(v2_config, key_of(kit.gateway), tmp_path)
    try:
        first, waiting = kit.tickets(1), kit.tickets(60)
        save(gw, kit, first)
        gw.run(gw.poster.post_ready())
        assert gw.poster.batches_posted == 1
        now = int(time.time())
        for t in waiting:
            young = dataclasses.replace(t, issued_at=now)
            gw.book.save(young, t.seq.to_bytes(32, "big"), kit.project_id, b"\x01" * 65, b"in")
        gw.poster.watch_backlog()
        gw.poster.admit()  # not behind: nothing raised
    finally:
        gw.close()


def test_admit__poster_stuck_no_tick_since__backlog_read_from_the_book__refused(
    ready: Any, v2_config: ChainConfig, tmp_path: Path
) -> None:
    """A poster whose ticks stopped (blocked on receipts, failing on a node that went away, or a
    task that died) never refreshes a snapshot: admission reads the backlog from the book at each
    call, so tickets issued meanwhile and aging past half the orphan grace still refuse calls
    (a snapshot left at 0 admitted every call: each one later posted as an orphan, bond paid)."""
    kit = ready
    gw = PosterOnChain(v2_config, key_of(kit.gateway), tmp_path)
    try:
        budget = gw.poster.orphan_grace * gw.poster.admission_share
        gw.run(gw.poster.post_ready())  # a last tick that saw nothing: then no tick again
        gw.poster.admit()
        old = int(time.time() - budget - 1)
        for t in kit.tickets(3):
            aged = dataclasses.replace(t, issued_at=old)
            gw.book.save(aged, t.seq.to_bytes(32, "big"), kit.project_id, b"\x01" * 65, b"in")
        with pytest.raises(PosterBehind):
            gw.poster.admit()
        gw.run(gw.poster.post_ready())  # it caught up
        gw.poster.admit()
    finally:
        gw.close()


def test_admit__chain_clock_behind__ticket_waits_for_it__admitted_until_old_on_its_clock(
    ready: Any, v2_config: ChainConfig, tmp_path: Path
) -> None:
    """A chain whose clock is behind the wall clock (anvil's after a reorg: 15 s, for good) refuses
    a batch holding a ticket issued after its block; the ticket waits for its clock, and so does
    the attesters' orphan grace. Admission judged the ticket's age by the wall clock and refused
    every call for the lag less the budget after each ticket (a store-down run got 503 with
    nothing at risk); by the chain's clock it admits them, and still refuses once a ticket waits
    past the budget on that clock."""
    kit = ready
    gw = PosterOnChain(v2_config, key_of(kit.gateway), tmp_path)
    try:
        post_one(gw, kit)  # a first post: the poster reads the chain's parameters
        budget = gw.poster.orphan_grace * gw.poster.admission_share
        lag = int(budget) + 10
        kit.request("evm_setTime", [int(time.time()) - lag])  # the chain's clock behind, for good
        kit.chain.mine()
        gw.poster._last_block = -1
        older, aged = kit.tickets(2)  # the book's oldest is its lowest unposted seq
        issued = int(time.time() - budget - 2)  # past the budget by the wall, ahead of the chain
        aged = dataclasses.replace(aged, issued_at=issued)
        save(gw, kit, [aged])
        gw.run(gw.poster.post_ready())  # refused: issued after the chain's clock
        assert gw.poster.batches_posted == 1
        assert [t.ticket.seq for t in gw.book.in_state(ISSUED)] == [aged.seq]
        assert gw.poster._lag >= lag
        gw.poster.admit()  # younger than the budget on the chain's clock: nothing raised
        # one that waits past the budget on the chain's clock too (a stalled poster) is refused
        stalled = int(time.time()) - lag - int(budget) - 2
        older = dataclasses.replace(older, issued_at=stalled)
        save(gw, kit, [older])
        with pytest.raises(PosterBehind):
            gw.poster.admit()
    finally:
        gw.close()
        kit.clock_on_the_wall()


def test_admit__batch_refused_for_the_chain_clock__its_tickets_not_counted_ready_to_post(
    ready: Any, v2_config: ChainConfig, tmp_path: Path
) -> None:
    """A batch the chain refused because its tickets were issued after its clock (behind the
    gateway's) puts them back to wait for that clock. Admission also refuses calls when the
    tickets ready to post would take longer than the grace to post; its count of them, taken
    before the post, still held the refused ones, and they made minutes of work: the next call was
    refused 503 (store-down seed 1214)."""
    kit = ready
    gw = PosterOnChain(v2_config, key_of(kit.gateway), tmp_path)
    try:
        post_one(gw, kit)
        # a forecast they would tip: rounds as slow as a 2 s chain's, one ticket a block
        gw.poster._rounds.extend([2.0] * 8)
        gw.poster._per_block = 1
        kit.request("evm_setTime", [int(time.time()) - 30])  # the chain's clock behind
        kit.chain.mine()
        gw.poster._last_block = -1
        now = int(time.time())
        many = int(gw.poster.orphan_grace / 2.0) + 5  # past the grace, counted ready
        assert gw.poster.drain_seconds(many) >= gw.poster.orphan_grace
        for t in kit.tickets(many):
            t = dataclasses.replace(t, issued_at=now)
            save(gw, kit, [t])
        gw.run(gw.poster.post_ready())  # refused: issued after the chain's clock
        assert gw.poster.batches_posted == 1 and len(gw.book.in_state(ISSUED)) == many
        gw.poster.admit()  # nothing raised: they wait for the chain, not for the poster
    finally:
        gw.close()
        kit.clock_on_the_wall()


def test_admit__restarted_with_tickets_a_run_before_left__behind_only_from_its_start(
    ready: Any, v2_config: ChainConfig, tmp_path: Path
) -> None:
    """A gateway restarted with tickets its last run left unposted has not been behind for them
    before its poster started: its first posting round posts them. Admission judged them by their
    age and refused the restarted gateway's first calls 503 until that round came (a start of
    7.7 s on a loaded machine: the CI's traced-stages test got 503). A poster that then does not
    post them within the budget of its start is behind, and refuses calls."""
    kit = ready
    # the tickets are issued by the wall clock: a chain whose clock a snapshot's revert set behind
    # it refuses their post until it caught up (the CI's full run: nothing posted)
    kit.clock_on_the_wall()
    gw = PosterOnChain(v2_config, key_of(kit.gateway), tmp_path)
    budget = gw.poster.orphan_grace * gw.poster.admission_share
    old = int(time.time() - budget - 5)
    try:
        for t in kit.tickets(3):
            aged = dataclasses.replace(t, issued_at=old)
            gw.book.save(aged, t.seq.to_bytes(32, "big"), kit.project_id, b"\x01" * 65, b"in")
        with pytest.raises(PosterBehind):  # this run had them for all that time
            gw.poster.admit()
    finally:
        gw.close()
    again = PosterOnChain(v2_config, key_of(kit.gateway), tmp_path)
    try:
        assert again.book.backlog() == (3, old)
        again.poster.admit()  # just started: nothing raised
        young = kit.tickets(1)[0]  # taken by this run: judged by its own age
        young = dataclasses.replace(young, issued_at=int(time.time()))
        save(again, kit, [young])
        again.poster.admit()
        again.poster._started_at -= budget + 1  # its start that long ago, and nothing posted
        with pytest.raises(PosterBehind):
            again.poster.admit()
        again.run(again.poster.post_ready())  # it posted them
        assert again.book.backlog() == (0, None)
        again.poster.admit()
    finally:
        again.close()


def test_admit__a_burst_after_a_quiet_spell__admitted(
    ready: Any, v2_config: ChainConfig, tmp_path: Path
) -> None:
    """A quiet gateway (a ticket posted, ten seconds later another) takes a burst of calls: 60
    tickets ready to post. A round posts them all, in a block: the poster is not behind.
    Admission took the tickets it had posted per second over the last 10 s (the calls' rate, 0.1
    here) for what it could post, forecast 600 s of posting and refused the burst's calls 503
    until the next round posted them a second later (clock-skewed-worker seed 3600: 6 tickets in
    10 s, then 25 ready)."""
    kit = ready
    kit.clock_on_the_wall()
    gw = PosterOnChain(v2_config, key_of(kit.gateway), tmp_path)
    try:
        post_one(gw, kit)
        time.sleep(10.5)  # the quiet spell
        kit.clock_on_the_wall()
        post_one(gw, kit)  # and one call in it
        assert gw.poster.batches_posted == 2
        now = int(time.time())
        burst = [dataclasses.replace(t, issued_at=now) for t in kit.tickets(60)]
        save(gw, kit, burst)
        gw.poster.watch_backlog()
        assert gw.poster._ready_backlog == 60
        assert gw.poster._per_block >= 60  # the chain's gas limit read: one block takes them
        gw.poster.admit()  # not behind: nothing raised
        gw.poster._last_block = -1
        gw.run(gw.poster.post_ready())  # and one round posts them all
        assert gw.book.in_state(ISSUED) == []
    finally:
        gw.close()


def test_admit__ready_tickets_more_blocks_than_the_grace_holds__refused(
    ready: Any, v2_config: ChainConfig, tmp_path: Path
) -> None:
    """Tickets ready to post that blocks cannot take within the orphan grace (the chain's gas
    limit takes few a block, and rounds take two seconds) refuse calls before the oldest of them
    is half the grace old: each would wait past the grace, and be posted as an orphan."""
    kit = ready
    kit.clock_on_the_wall()
    limit = int(kit.request("eth_getBlockByNumber", ["latest", False])["gasLimit"], 16)
    kit.request("anvil_setBlockGasLimit", [hex(1_000_000)])
    kit.chain.mine()
    gw = PosterOnChain(v2_config, key_of(kit.gateway), tmp_path)
    try:
        post_one(gw, kit)
        per_block = gw.poster._per_block
        assert per_block == tickets_per_block(1_000_000, gw.poster.max_tickets) < 200
        # rounds as slow as a 2 s chain's (automine: milliseconds), the real one pushed out
        gw.poster._rounds.extend([2.0] * 8)
        fit = int(gw.poster.orphan_grace / 2.0) - 1  # blocks within the grace, one spare
        now = int(time.time())
        tickets = [dataclasses.replace(t, issued_at=now) for t in kit.tickets(per_block * fit)]
        save(gw, kit, tickets)
        gw.poster.watch_backlog()
        gw.poster.admit()  # they fit: nothing raised
        more = [dataclasses.replace(t, issued_at=now) for t in kit.tickets(2 * per_block)]
        save(gw, kit, more)
        gw.poster.watch_backlog()
        with pytest.raises(PosterBehind) as refused:
            gw.poster.admit()
        assert refused.value.behind >= gw.poster.orphan_grace  # the forecast, not a ticket's age
    finally:
        gw.close()
        kit.request("anvil_setBlockGasLimit", [hex(limit)])
        kit.chain.mine()


@pytest.mark.parametrize("size", [1, 64, 256])
@pytest.mark.parametrize("gas_limit", [400_000, 1_000_000, 30_000_000])
def test_tickets_per_block__posts_of_that_many_fit_one_more_does_not(
    size: int, gas_limit: int
) -> None:
    n = tickets_per_block(gas_limit, size)
    batches = [list(range(i, min(n, i + size))) for i in range(0, n, size)]
    # each post's seqs may span two bitmap words
    used = sum(post_gas(b) + _GAS_PER_WORD for b in batches)
    assert used <= gas_limit or n == 1
    one_more = [list(range(i, min(n + 1, i + size))) for i in range(0, n + 1, size)]
    assert sum(post_gas(b) + _GAS_PER_WORD for b in one_more) > gas_limit


def test_drain_seconds__a_round_of_several_blocks__counted_by_the_block_one_slow_round_not(
    ready: Any, v2_config: ChainConfig, tmp_path: Path
) -> None:
    """A round of more tickets than a block takes lasts the blocks they need: its time is counted
    per block, or a backlog of several blocks was forecast as blocks x (blocks x block time). One
    round slowed by something else (a receipt read late) does not count for the rounds after."""
    gw = PosterOnChain(v2_config, key_of(ready.gateway), tmp_path)
    try:
        gw.poster._per_block = 100
        for _ in range(8):
            gw.poster._round_took(6.0, 300)  # three blocks of 2 s each
        assert gw.poster.drain_seconds(100) == 2.0
        assert gw.poster.drain_seconds(300) == 6.0
        assert gw.poster.drain_seconds(301) == 8.0
        gw.poster._round_took(60.0, 1)  # one round that waited a minute
        assert gw.poster.drain_seconds(100) == 2.0
    finally:
        gw.close()
