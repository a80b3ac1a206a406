"""A post (or an ``openResults``) the chain refused, whose reason the gateway cannot read at once (its node drops while
it replays the transaction), is not taken for a final refusal: its tickets stay ``posting``, the
next tick reads the reason again and acts on it. Before, an unread reason was "reverted", and
every ticket of the batch was rejected for good: after an outage (a ``SeqAlreadyPosted`` from a
ticket an attester had posted as an orphan meanwhile), the batch's other tickets were never
posted, and their projects' calls never paid. Real anvil, the real coordinator, the gateway's
real poster; the drop is raised by its replay of the refused transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.chain.errors import ChainUnavailable
from peerhost.gateway.poster import _OPEN_TRIES
from peerhost.gateway.ticketbook import ISSUED, POSTED, POSTING
from peerhost.wire.ticket import sign_ticket

from .test_gateway_reorg import (
    BATCH_CLOSED,
    BATCH_FINALIZED,
    Gateway,
    attested_batch,
    settle_all_agreeing,
)
from .worker_harness import key_of, mined_before_revert


def _replay_dropping(gw: Gateway, url: str, times: int = 1) -> list[str]:
    """The poster's replay of a refused transaction fails ``times`` times as a dropped node
    would (then reads the reason); the hashes it failed on."""
    replay, drops = gw.poster._revert_reason, []

    async def dropped(receipt: dict[str, Any]) -> str:
        if len(drops) < times:
            drops.append(receipt["transactionHash"])
            raise ChainUnavailable(url, "connection reset by peer")
        return await replay(receipt)

    gw.poster._revert_reason = dropped  # type: ignore[method-assign]
    return drops


def _finalized_unopened(kit: Any, gw: Gateway, accounts_by_address: Any) -> int:
    """A batch of two attested tickets the gateway posted, settled and finalized; the gateway
    believes its challenge window passed (the chain does not) and opens it without
    co-signatures (no feed). Its id."""
    attested_batch(kit, gw, accounts_by_address)
    batch_id = gw.book.batches("posted")[0].batch_id
    assert batch_id is not None
    settle_all_agreeing(kit, batch_id, accounts_by_address)
    assert int(kit.coordinator.getBatch(batch_id).state) == BATCH_FINALIZED
    gw.poster._challenge_window = 0
    gw.poster._asked[batch_id] = 0.0
    gw.sender.signer.forget_nonce()  # the kit sent the seat draw from the gateway's account
    return int(batch_id)


def test_poster__refused_post_reason_unread__tickets_kept_and_posted_after_the_reason(
    ready: Any, v2_config: ChainConfig, chain: Any, tmp_path: Path, stranger: Any
) -> None:
    kit = ready
    gw = Gateway(v2_config, key_of(kit.gateway), tmp_path)
    try:
        tickets = kit.tickets(3)
        gw.issue(tickets, kit.project_id)
        read = gw.book.in_state(ISSUED)
        # an attester posts the first ticket as an orphan; the gateway has not seen it (no scan)
        chain.mine(deltatime=kit.params.orphan_delay)
        coordinator = str(kit.coordinator.address)
        signature = sign_ticket(kit.gateway.private_key, chain.chain_id, coordinator, tickets[0])
        kit.coordinator.postOrphans(
            [tickets[0].as_tuple()], [signature], bytes(32), sender=stranger
        )
        drops = _replay_dropping(gw, v2_config.rpc_url)
        profile = tickets[0].engine_profile
        assert gw.run(gw.poster.post(kit.project_id, profile, read)) is None  # SeqAlreadyPosted
        assert len(drops) == 1
        # before: all three rejected for good
        assert gw.states(tickets) == [POSTING] * 3

        gw.run(gw.poster.reconcile())  # the next tick: the reason read, acted on
        assert gw.states(tickets)[1:] == [ISSUED, ISSUED]
        batch_id = gw.run(gw.poster.post(kit.project_id, profile, gw.book.in_state(ISSUED)))
        assert batch_id is not None
        assert gw.states(tickets)[1:] == [POSTED, POSTED]
        for t in tickets:  # every seq on-chain once: the orphan's and the new batch's
            assert kit.coordinator.isSeqPosted(kit.gateway.address, t.seq)
    finally:
        gw.close()
        mined_before_revert(chain)


def test_poster__open_refused_reason_unread__opened_again_and_batch_closed(
    ready: Any, v2_config: ChainConfig, chain: Any, tmp_path: Path, accounts_by_address: Any
) -> None:
    """``openResults`` refused (the challenge window still open by the chain's clock) while the
    node drops as the gateway replays it: opened again later, the batch closes and its attesters
    are paid. Before, the unread reason was a final refusal: the batch stayed Finalized for good
    and no attester was paid."""
    kit = ready
    gw = Gateway(v2_config, key_of(kit.gateway), tmp_path)
    try:
        batch_id = _finalized_unopened(kit, gw, accounts_by_address)
        drops = _replay_dropping(gw, v2_config.rpc_url)
        gw.tick()
        assert len(drops) == 1, "the open was not refused"
        assert int(kit.coordinator.getBatch(batch_id).state) == BATCH_FINALIZED
        gw.poster._challenge_window = None  # read from the court again
        kit.wait_challenge_window(batch_id)
        for _ in range(10):
            gw.tick()
            if int(kit.coordinator.getBatch(batch_id).state) == BATCH_CLOSED:
                break
        # before: given up at the unread refusal ("its attesters are not paid")
        assert int(kit.coordinator.getBatch(batch_id).state) == BATCH_CLOSED
    finally:
        gw.close()
        mined_before_revert(chain)


def test_poster__open_refused_and_reason_never_read__sent_at_most_its_tries(
    ready: Any, v2_config: ChainConfig, chain: Any, tmp_path: Path, accounts_by_address: Any
) -> None:
    """A node that never answers the replay of a refused ``openResults``: the gateway opens again
    at most ``_OPEN_TRIES`` times (each a reverted transaction), not once per tick for ever."""
    kit = ready
    gw = Gateway(v2_config, key_of(kit.gateway), tmp_path)
    try:
        batch_id = _finalized_unopened(kit, gw, accounts_by_address)
        _replay_dropping(gw, v2_config.rpc_url, times=10**6)  # never answered
        address = str(kit.gateway.address)
        sent = int(kit.request("eth_getTransactionCount", [address, "latest"]), 16)
        for _ in range(_OPEN_TRIES + 5):
            gw.tick()
        after = int(kit.request("eth_getTransactionCount", [address, "latest"]), 16)
        assert after - sent == _OPEN_TRIES
        assert int(kit.coordinator.getBatch(batch_id).state) == BATCH_FINALIZED
    finally:
        gw.close()
        mined_before_revert(chain)
