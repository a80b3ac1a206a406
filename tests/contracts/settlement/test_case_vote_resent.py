"""A tier voter whose vote commitment landed keeps the salt that opens it when a copy of the
transaction is refused: the sender judged the first transaction lost and sent the same calldata
again, the first mined (committed with salt S1), the copy reverted ``BadCommit``. Before, the
refusal forgot the saved vote, the next block committed a new salt (refused again, and again), and
the reveal phase found nothing to open: a no-show slashed while its commitment stood on-chain.
A refused reveal is tried again with the same salt at the next block (before, it was marked done
after one try: a no-show). Real anvil, real courts; the sender sends each ``commitVote`` twice, as
its resend does, or its first ``revealVote`` with too little gas (a real refusal)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.chain.sender import TxSender
from peerhost.wire.batch import Leaf
from peerhost.wire.disputes import TIER_ALL

from .conftest import GOOD
from .courtkit import CP_COMMIT, CP_DECIDE, CP_DECIDED, CP_REVEAL, Court
from .worker_harness import ThreadLoop, accountability_of, key_of, wait_for


class ResendingSender(TxSender):
    """Sends a ``commitVote`` twice, the copy after the first mined (what ``wait`` does when it
    judges a transaction lost that a reorg brings back); returns the copy's hash."""

    commit_selector = b""

    async def send(self, to: str, data: bytes, *, gas: int, value: int = 0) -> bytes:
        first = await super().send(to, data, gas=gas, value=value)
        if data[:4] != self.commit_selector:
            return first
        await super().wait(first)
        return await super().send(to, data, gas=gas, value=value)


class ShortGasSender(TxSender):
    """Sends its first ``revealVote`` with too little gas: mined and reverted."""

    reveal_selector = b""

    async def send(self, to: str, data: bytes, *, gas: int, value: int = 0) -> bytes:
        if data[:4] == self.reveal_selector:
            self.reveal_selector = b""
            gas = 30_000
        return await super().send(to, data, gas=gas, value=value)


def _tier3_case(k: Any, accounts_by_address: dict[str, Any]) -> tuple[Any, int, Any, Any, Any]:
    """(court, batch, a tier-3 voter's account, leaves_of, leaf_result) of a case in tier 3's
    commit phase the voter has not voted in."""
    court = Court(k, accounts_by_address)
    posted, b = court.escalated_leaf()
    panel = court.seat_panel(b, 0)
    court.vote(b, 0, lambda w: GOOD)  # tier 2 decides GOOD
    assert court.phase(b, 0) == CP_DECIDED
    stakes, epoch = k.s.stakes, int(court.case(b, 0).epoch)
    members = [
        str(stakes.entryAt(epoch, j)[0]) for j in range(int(stakes.epochInfo(epoch).members))
    ]
    # every member votes in tier 3 (a tier-2 seat too): one off the panel when there is one
    me_address = next((w for w in members if w not in panel), members[0])
    me = accounts_by_address[me_address]
    challenger = next(a for x, a in accounts_by_address.items() if x in members and x != me_address)
    court.challenge(b, 0, challenger)
    assert int(court.case(b, 0).tier) == TIER_ALL and court.phase(b, 0) == CP_COMMIT

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), [Leaf.of(t) for t in posted.tickets]

    async def leaf_result(batch_id: int, index: int) -> bytes:
        return GOOD

    return court, b, me, leaves_of, leaf_result


def _status_of(court: Any, b: int, address: str) -> Callable[[], int]:
    """The voter's tier-3 status (0 none, 1 committed, 2 revealed), read from the court."""

    def status() -> int:
        voters = court.c.votersOf(b, 0, TIER_ALL)
        return next((int(v.status) for v in voters if str(v.worker) == address), 0)

    return status


def _to_reveal_phase(k: Any, court: Any, b: int, status: Callable[[], int]) -> None:
    """One block at the case's commit deadline, to the second: its reveal phase (a jump of a
    whole window from a loaded machine's clock could pass the reveal window too). The voter may
    reveal at once, before the phase is read: its reveal, the only one, ends the phase early."""
    k.request("evm_mine", [int(court.case(b, 0).commitDeadline)])
    phase = court.phase(b, 0)
    assert phase == CP_REVEAL or (phase == CP_DECIDE and status() == 2), phase


def _revealed_in_window(k: Any, court: Any, status: Callable[[], int]) -> None:
    """Waits for the voter's reveal within the reveal window, a block mined every second (each
    moves the chain's clock 1 s, not the whole window at once)."""
    mined = [time.monotonic()]

    def revealed() -> bool:
        if time.monotonic() - mined[0] >= 1.0:
            k.chain.mine(1)
            mined[0] = time.monotonic()
        return status() == 2

    wait_for(revealed, min(20, int(court.params.revealWindow) - 2), "the voter's reveal")


def test_case_duty__commitment_copy_refused__keeps_salt_and_reveals(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    court, b, me, leaves_of, leaf_result = _tier3_case(k, accounts_by_address)
    me_address = str(me.address)
    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    sender = ResendingSender(rpc, key_of(me), v2_config.chain_id)
    sender.commit_selector = bytes(court.c.commitVote.encode_input(b, 0, b"\x01" * 32, 0)[:4])
    accountability.view.sender = sender
    duty = loop.start(accountability.case_duty(b, 0))

    status = _status_of(court, b, me_address)

    try:
        wait_for(lambda: status() >= 1, 30, "the voter's tier-3 commitment")
        # the commit window runs out, the voter reveals with the salt of the commitment that
        # landed (before: a new salt saved at each block, the reveal phase found none: no-show)
        _to_reveal_phase(k, court, b, status)

        # within the reveal window (before: no reveal at all)
        _revealed_in_window(k, court, status)
    finally:
        duty.cancel()
        loop.run(accountability.close(), 30)
        loop.run(rpc.aclose(), 30)


def test_case_duty__commitment_copy_refused_read_lagging__same_salt_sent_again_and_revealed(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    """The copy refused and the voters read from a node behind the block that mined the first
    (a load-balanced provider): the worker sees no commitment. It sends the SAME commitment again
    (refused too) and keeps the salt that opens the one on-chain. Before, it forgot that salt,
    committed a new one (refused: the first stands) and could reveal nothing: a no-show."""
    court, b, me, leaves_of, leaf_result = _tier3_case(k, accounts_by_address)
    me_address = str(me.address)
    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    sender = ResendingSender(rpc, key_of(me), v2_config.chain_id)
    sender.commit_selector = bytes(court.c.commitVote.encode_input(b, 0, b"\x01" * 32, 0)[:4])
    accountability.view.sender = sender
    reads = accountability._my_commitment
    lagging = [True]

    async def lagging_read(*args: Any) -> bytes | None:
        if lagging[0]:  # the first read after the refusal comes from a node one block behind
            lagging[0] = False
            return None
        return await reads(*args)

    accountability._my_commitment = lagging_read  # type: ignore[method-assign]
    duty = loop.start(accountability.case_duty(b, 0))

    status = _status_of(court, b, me_address)

    try:
        wait_for(lambda: status() >= 1, 30, "the voter's tier-3 commitment")
        k.chain.mine(1)  # the next block: the worker sends its commitment again
        time.sleep(2.0)
        assert not lagging[0]  # the lagging read was taken
        _to_reveal_phase(k, court, b, status)
        _revealed_in_window(k, court, status)
    finally:
        duty.cancel()
        loop.run(accountability.close(), 30)
        loop.run(rpc.aclose(), 30)


def test_case_duty__reveal_refused_once__revealed_at_a_later_block(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    court, b, me, leaves_of, leaf_result = _tier3_case(k, accounts_by_address)
    me_address = str(me.address)
    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    sender = ShortGasSender(rpc, key_of(me), v2_config.chain_id)
    sender.reveal_selector = bytes(
        court.c.revealVote.encode_input(b, 0, b"\x01" * 32, b"\x02" * 32)[:4]
    )
    accountability.view.sender = sender
    duty = loop.start(accountability.case_duty(b, 0))

    status = _status_of(court, b, me_address)

    try:
        wait_for(lambda: status() >= 1, 30, "the voter's tier-3 commitment")
        _to_reveal_phase(k, court, b, status)
        # the first reveal refused (out of gas), the next one at a later block lands (before:
        # marked done after the refusal, never revealed: a no-show)
        _revealed_in_window(k, court, status)
        assert sender.reveal_selector == b""  # the refused reveal was sent
    finally:
        duty.cancel()
        loop.run(accountability.close(), 30)
        loop.run(rpc.aclose(), 30)
