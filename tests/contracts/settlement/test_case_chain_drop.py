"""A tier voter whose chain node drops in the middle of a case still commits and reveals its vote.

Before, a ``ChainUnavailable`` (or an RPC error) anywhere in a case's duty ended that duty for
good: the court's ``Escalated`` log, which starts it, is not read twice, so a voter whose node
restarted in the case's commit window never committed (or, its commitment sent, never revealed)
and was slashed a no-show. The duty now starts again after a short wait and reads the case
afresh; a vote it finds saved (by an earlier run, or by a process killed between saving the vote
and sending it) is committed again with the saved salt when its commitment is not on-chain.
Real anvil, real courts; the drop is raised by the courts' sender, before or after the
``commitVote`` transaction goes out."""

from __future__ import annotations

import time
from typing import Any

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.chain.errors import ChainUnavailable, RpcError, TransactionReverted
from peerhost.chain.sender import TxSender
from peerhost.wire.batch import Leaf
from peerhost.wire.disputes import TIER_ALL, TIER_PANEL
from peerhost.worker.accountability import _COMMIT_TRIES
from peerhost.worker.duties import vote_key

from .conftest import LIE
from .courtkit import CP_COMMIT, CP_DECIDED
from .tier3kit import decided_case, revealed_in_window, status_of, tier3_case, to_reveal_phase
from .worker_harness import ThreadLoop, accountability_of, key_of, wait_for


def _dropping(
    courts: Any, name: str = "commitVote", *, after_sending: bool = False, error: Any = None
) -> list[str]:
    """Makes the courts' first ``name`` send fail as a dropped node would (``error``, by default
    ``ChainUnavailable``): before the transaction goes out, or after it was sent (its receipt
    lost). The names of every send."""
    original = courts.send
    sent: list[str] = []
    error = error or ChainUnavailable("http://127.0.0.1:8545", "connection reset by peer")

    async def send(contract: str, called: str, *args: Any, **options: Any) -> Any:
        sent.append(called)
        if called == name and sent.count(name) == 1:
            if after_sending:
                await original(contract, called, *args, **options)
            raise error
        return await original(contract, called, *args, **options)

    courts.send = send
    return sent


def _following(accountability: Any, b: int) -> Any:
    """Starts the case's duty as the log loop does on its ``Escalated`` log."""

    async def escalated() -> None:
        accountability.escalated(b, 0)

    return escalated()


def test_case_duty__chain_drops_before_the_commitment__duty_again_commits_and_reveals(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    court, b, me, leaves_of, leaf_result = tier3_case(k, accounts_by_address)
    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    sent = _dropping(loop.run(accountability.courts()))
    status = status_of(court, b, str(me.address))
    loop.run(_following(accountability, b))
    try:
        # before: the duty ended at the drop, the vote saved and never committed
        wait_for(lambda: status() >= 1, 30, "the voter's commitment after the node dropped")
        assert sent.count("commitVote") == 2  # the dropped one and the one that landed
        to_reveal_phase(k, court, b, status)
        revealed_in_window(k, court, status)
    finally:
        loop.run(accountability.close(), 30)
        loop.run(rpc.aclose(), 30)


@pytest.mark.parametrize(
    "error",
    [
        ChainUnavailable("http://127.0.0.1:8545", "connection reset by peer"),
        TimeoutError("no receipt within 60 s"),  # the sender's wait for a receipt
    ],
    ids=["dropped", "receipt-late"],
)
def test_case_duty__chain_drops_after_the_commitment_went_out__reveals_with_the_saved_salt(
    error: Exception,
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    court, b, me, leaves_of, leaf_result = tier3_case(k, accounts_by_address)
    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    sent = _dropping(loop.run(accountability.courts()), after_sending=True, error=error)
    status = status_of(court, b, str(me.address))
    loop.run(_following(accountability, b))
    try:
        wait_for(lambda: status() >= 1, 30, "the voter's commitment")
        to_reveal_phase(k, court, b, status)
        # before: the duty ended at the drop and nothing revealed the commitment that stood
        revealed_in_window(k, court, status)
        assert sent.count("commitVote") == 1  # found on-chain after the drop: not sent again
    finally:
        loop.run(accountability.close(), 30)
        loop.run(rpc.aclose(), 30)


def test_case_duty__vote_saved_never_sent__restarted_worker_commits_it_and_reveals(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    """A worker killed between saving its vote and sending the commitment: the restarted
    process finds the vote saved and no commitment on-chain, and commits that vote with its
    salt (before: the saved vote was taken as committed, nothing was sent, a no-show)."""
    court, b, me, leaves_of, leaf_result = tier3_case(k, accounts_by_address)
    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    value, salt = loop.run(leaf_result(b, 0)), b"\x5a" * 32
    accountability.duties.save(vote_key(b, 0, TIER_ALL), value, salt)
    status = status_of(court, b, str(me.address))
    duty = loop.start(accountability.case_duty(b, 0))
    try:
        wait_for(lambda: status() >= 1, 30, "the saved vote's commitment after a restart")
        to_reveal_phase(k, court, b, status)
        revealed_in_window(k, court, status)
        voters = court.c.votersOf(b, 0, TIER_ALL)
        mine = next(v for v in voters if str(v.worker) == str(me.address))
        assert bytes(mine.vote) == value  # the saved vote, opened with the saved salt
    finally:
        duty.cancel()
        loop.run(accountability.close(), 30)
        loop.run(rpc.aclose(), 30)


def test_case_duty__a_read_failed_mid_reorg__duty_again_commits(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    """A view call the node fails without a revert (anvil mid-reorg: "block height is 43 but
    requested was 45") comes out of the courts as ``TransactionReverted``: the duty starts again
    (before: the duty logged it and ended, the voter a no-show)."""
    court, b, me, leaves_of, leaf_result = tier3_case(k, accounts_by_address)
    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    courts = loop.run(accountability.courts())
    original, failed = courts.case_of, []

    async def case_of(batch_id: int, index: int) -> Any:
        if not failed:
            failed.append(batch_id)
            node = RpcError("eth_call", -32000, "block height is 43 but requested was 45")
            raise TransactionReverted("caseOf()", node.rpc_message) from node
        return await original(batch_id, index)

    courts.case_of = case_of
    status = status_of(court, b, str(me.address))
    loop.run(_following(accountability, b))
    try:
        wait_for(lambda: status() >= 1, 30, "the voter's commitment after a failed read")
        assert failed == [b]
    finally:
        loop.run(accountability.close(), 30)
        loop.run(rpc.aclose(), 30)


def test_case_duty__chain_drops_before_the_tier3_challenge__challenge_sent_again(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    """A worker whose own result contradicts the tier-2 decision challenges it (bonding twice
    the challenge bond); the node drops before the challenge goes out. The duty, started again,
    sends it (before: the challenge was marked done before it was sent, and never sent)."""
    court, posted, b, me_address, _ = decided_case(k, accounts_by_address)
    me = accounts_by_address[me_address]

    async def leaves_of(batch_id: int) -> tuple[str, list[Leaf]]:
        return str(k.gateway.address), [Leaf.of(t) for t in posted.tickets]

    async def leaf_result(batch_id: int, index: int) -> bytes:
        return LIE  # this worker's result is not the decided GOOD

    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result, challenges=True)
    sent = _dropping(loop.run(accountability.courts()), "challenge")
    loop.run(_following(accountability, b))
    try:
        assert court.phase(b, 0) == CP_DECIDED and int(court.case(b, 0).tier) == TIER_PANEL

        mined = [time.monotonic()]

        def challenged() -> bool:
            if time.monotonic() - mined[0] >= 0.5:  # the duty reads the case once per block
                k.chain.mine(1)  # (each a second of the chain's clock: the window is 300 s)
                mined[0] = time.monotonic()
            return int(court.case(b, 0).tier) == TIER_ALL

        wait_for(challenged, 30, "the challenge after the drop")
        assert sent.count("challenge") == 2  # the dropped one and the one mined
        assert accountability.challenged == 1
    finally:
        loop.run(accountability.close(), 30)
        loop.run(rpc.aclose(), 30)


class _RefusingSender(TxSender):
    """Sends every ``commitVote`` with too little gas: mined and reverted, each time."""

    commit_selector = b""
    commits = 0

    async def send(self, to: str, data: bytes, *, gas: int, value: int = 0) -> bytes:
        if data[:4] == self.commit_selector:
            self.commits += 1
            gas = 30_000
        return await super().send(to, data, gas=gas, value=value)


def test_case_duty__commitment_refused_for_good__given_up_after_its_tries_despite_rechecks(
    k: Any,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    """A commitment the chain refuses every time is given up after ``_COMMIT_TRIES`` sends, also
    when the head watcher reports breaks (reorgs, skipped blocks) that make the duty look for
    its saved vote's commitment again: the re-check does not send it again (it would cost a
    reverted transaction per block for the rest of the window)."""
    court, b, me, leaves_of, leaf_result = tier3_case(k, accounts_by_address)
    rpc, accountability = accountability_of(v2_config, me, leaves_of, leaf_result)
    sender = _RefusingSender(rpc, key_of(me), v2_config.chain_id)
    sender.commit_selector = bytes(court.c.commitVote.encode_input(b, 0, b"\x01" * 32, 0)[:4])
    accountability.view.sender = sender
    duty = loop.start(accountability.case_duty(b, 0))
    try:
        wait_for(lambda: sender.commits >= _COMMIT_TRIES, 30, "the refused commitments")
        for _ in range(6):  # blocks, each after a break of the head watcher
            accountability.heads.breaks += 1
            k.chain.mine(1)
            time.sleep(0.5)
        assert sender.commits == _COMMIT_TRIES
        assert court.phase(b, 0) == CP_COMMIT  # all within the commit window
    finally:
        duty.cancel()
        loop.run(accountability.close(), 30)
        loop.run(rpc.aclose(), 30)
