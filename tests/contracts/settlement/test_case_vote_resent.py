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
from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.chain.sender import TxSender

from .tier3kit import revealed_in_window, status_of, tier3_case, to_reveal_phase
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


def test_case_duty__commitment_copy_refused__keeps_salt_and_reveals(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    court, b, me, leaves_of, leaf_result = tier3_case(k, accounts_by_address)
    me_address = str(me.address)
    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    sender = ResendingSender(rpc, key_of(me), v2_config.chain_id)
    sender.commit_selector = bytes(court.c.commitVote.encode_input(b, 0, b"\x01" * 32, 0)[:4])
    accountability.view.sender = sender
    duty = loop.start(accountability.case_duty(b, 0))

    status = status_of(court, b, me_address)

    try:
        wait_for(lambda: status() >= 1, 30, "the voter's tier-3 commitment")
        # the commit window runs out, the voter reveals with the salt of the commitment that
        # landed (before: a new salt saved at each block, the reveal phase found none: no-show)
        to_reveal_phase(k, court, b, status)

        # within the reveal window (before: no reveal at all)
        revealed_in_window(k, court, status)
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
    court, b, me, leaves_of, leaf_result = tier3_case(k, accounts_by_address)
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

    status = status_of(court, b, me_address)

    try:
        wait_for(lambda: status() >= 1, 30, "the voter's tier-3 commitment")
        k.chain.mine(1)  # the next block: the worker sends its commitment again
        time.sleep(2.0)
        assert not lagging[0]  # the lagging read was taken
        to_reveal_phase(k, court, b, status)
        revealed_in_window(k, court, status)
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
    court, b, me, leaves_of, leaf_result = tier3_case(k, accounts_by_address)
    me_address = str(me.address)
    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    sender = ShortGasSender(rpc, key_of(me), v2_config.chain_id)
    sender.reveal_selector = bytes(
        court.c.revealVote.encode_input(b, 0, b"\x01" * 32, b"\x02" * 32)[:4]
    )
    accountability.view.sender = sender
    duty = loop.start(accountability.case_duty(b, 0))

    status = status_of(court, b, me_address)

    try:
        wait_for(lambda: status() >= 1, 30, "the voter's tier-3 commitment")
        to_reveal_phase(k, court, b, status)
        # the first reveal refused (out of gas), the next one at a later block lands (before:
        # marked done after the refusal, never revealed: a no-show)
        revealed_in_window(k, court, status)
        assert sender.reveal_selector == b""  # the refused reveal was sent
    finally:
        duty.cancel()
        loop.run(accountability.close(), 30)
        loop.run(rpc.aclose(), 30)
