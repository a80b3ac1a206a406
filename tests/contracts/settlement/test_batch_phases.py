"""A batch's phase derived off-chain (``peerhost.chain.phases``) from its stored record and the
block's timestamp matches the contract's ``phaseOf`` at every block of a batch's whole life:
posted, seated, committed by some (the window ends by time), revealed by one (the reveal window
ends by time), finalized; a batch every holder committed and revealed early; a batch expired
unseated. The worker's :class:`BatchBook` gives the chain's phase after each step, and reads a
batch's record again only when a block arrives."""

from __future__ import annotations

from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.chain.phases import BatchBook, phase_at
from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import SettlementView

from .conftest import (
    PH_AWAITING,
    PH_CLOSED,
    PH_COMMIT,
    PH_EXPIRED,
    PH_REVEAL,
    PH_SETTLE,
    Kit,
    distinct,
    seat_until,
    vector,
)
from .worker_harness import ThreadLoop


@pytest.fixture
def k(kit: Kit, workers: list[Any]) -> Kit:
    kit.stake(workers[:5])
    kit.open_project()
    return kit


@pytest.fixture
def by(accounts_by_address: dict[str, Any]) -> Any:
    return lambda address: accounts_by_address[str(address)]


@pytest.fixture
def view(v2_config: ChainConfig, loop: ThreadLoop) -> Any:
    rpc = RpcClient(v2_config.rpc_url)
    yield SettlementView(v2_config, rpc)
    loop.run(rpc.aclose())


class _Life:
    """Compares the book's phase with ``phaseOf`` after each step, and every block afterwards."""

    def __init__(self, k: Kit, view: SettlementView, loop: ThreadLoop, batch_id: int) -> None:
        self.k, self.view, self.loop, self.batch_id = k, view, loop, batch_id
        self.first = int(k.chain.blocks.head.number)
        self.book = BatchBook(view, tick=0.0)  # every ask reads the head: no feeder
        self.seen: list[int] = []

    def step(self) -> None:
        chain_phase = int(self.k.coordinator.phaseOf(self.batch_id))
        assert self.loop.run(self.book.phase(self.batch_id)) == chain_phase
        self.seen.append(chain_phase)

    def every_block(self) -> set[int]:
        """Checks :func:`phase_at` against ``phaseOf`` at each block since the first step."""
        phases = set()
        for number in range(self.first, int(self.k.chain.blocks.head.number) + 1):
            at = hex(number)
            record = self.loop.run(
                self.view._call(
                    self.view.coordinator,
                    self.view.config.settlement,
                    "getBatch",
                    self.batch_id,
                    block=at,
                )
            )
            chain_phase = int(
                self.loop.run(
                    self.view._call(
                        self.view.coordinator,
                        self.view.config.settlement,
                        "phaseOf",
                        self.batch_id,
                        block=at,
                    )
                )
            )
            stamp = int(self.k.chain.blocks[number].timestamp)
            assert phase_at(record, stamp) == chain_phase, f"block {number}"
            phases.add(chain_phase)
        return phases


def test_phase_at__no_show_and_windows_ending_by_time__matches_phase_of_every_block(
    k: Kit, by: Any, chain: Any, view: SettlementView, loop: ThreadLoop
) -> None:
    posted, holders = seat_until(k, distinct(3))
    b = posted.batch_id
    life = _Life(k, view, loop, b)
    life.step()
    a, silent, _absent = (by(h) for h in holders)
    k.commit(b, a, vector(1))
    life.step()
    k.commit(b, silent, vector(1))
    life.step()
    chain.mine(deltatime=k.params.commit_window)  # the commit window ends by time
    life.step()
    k.reveal(b, a, vector(1))
    life.step()
    chain.mine(deltatime=k.params.reveal_window)  # the reveal window ends by time
    life.step()
    k.coordinator.finalize(b, [vector(1)], k.hl(b), sender=a)
    life.step()
    # (no quorum: the disputed leaf's batch closes, the court holds its reward)
    assert life.seen == [PH_COMMIT] * 3 + [PH_REVEAL] * 2 + [PH_SETTLE, PH_CLOSED]
    assert {PH_COMMIT, PH_REVEAL, PH_SETTLE, PH_CLOSED} <= life.every_block()


def test_phase_at__all_commit_and_reveal_early__matches_phase_of_every_block(
    k: Kit, by: Any, view: SettlementView, loop: ThreadLoop
) -> None:
    posted = k.post(1)
    b = posted.batch_id
    life = _Life(k, view, loop, b)
    life.step()
    holders = k.seat(b)
    life.step()
    for h in holders:
        k.commit(b, by(h), vector(1))
        life.step()
    for h in holders:
        k.reveal(b, by(h), vector(1))
        life.step()
    # the last agreeing reveal settles the batch; without attesters it closes as it settles
    assert life.seen[0] == PH_AWAITING and life.seen[-1] in (PH_SETTLE, PH_CLOSED)
    assert PH_REVEAL in life.seen  # every holder committed before the deadline
    assert {PH_AWAITING, PH_COMMIT, PH_REVEAL} <= life.every_block()


def test_phase_at__unseated_past_seat_window__expired_matches_phase_of_every_block(
    k: Kit, chain: Any, view: SettlementView, loop: ThreadLoop
) -> None:
    b = k.post(2).batch_id
    life = _Life(k, view, loop, b)
    life.step()
    chain.mine(deltatime=k.params.seat_window + 1)
    life.step()
    k.coordinator.expire(b, sender=k.gateway)
    life.step()
    assert life.seen == [PH_AWAITING, PH_AWAITING, PH_EXPIRED]
    assert life.every_block() == {PH_AWAITING, PH_EXPIRED}


def test_batch_book__no_new_block__reads_no_record_again(
    k: Kit, view: SettlementView, loop: ThreadLoop, chain: Any
) -> None:
    batches = [k.post(1).batch_id for _ in range(3)]
    book = BatchBook(view, tick=0.0)
    for b in batches:
        loop.run(book.phase(b))
    assert book.reads == 3
    for _ in range(5):  # no block: the records are kept
        for b in batches:
            loop.run(book.phase(b))
    assert book.reads == 3
    chain.mine(1)  # a block the book did not see the events of: every record read again once
    for _ in range(3):
        for b in batches:
            loop.run(book.phase(b))
    assert book.reads == 6
