"""A schedule key on the existing contracts: holders that issue one due time sign one ticket, and
the chain pays it once however many of them post it."""

from __future__ import annotations

from peerhost.wire.schedule_ticket import ScheduledRun
from peerhost.wire.ticket import MODE_FAST, sign_ticket

from .conftest import PROFILE, PROJECT


def _run(k, due: int, since: int) -> ScheduledRun:
    return ScheduledRun(
        schedule_key=str(k.gateway.address),  # the bonded, authorized identity the holders share
        chain_id=k.chain.chain_id,
        coordinator=str(k.coordinator.address),
        function_id=k.function_id,
        wallet=str(k.developer.address),
        project=PROJECT,
        function="v2-fn",
        expression="*/2 * * * * *",
        due=due,
        since=since,
        version=1,
        reward=k.params.min_reward,
        secrets_version=0,
        ticket_life=600,
        mode=MODE_FAST,
        engine_profile=PROFILE,
    )


def test_post_orphans__two_holders_post_one_due_time__paid_once(
    ready, chain, stranger, accounts, reverts_with
):
    k = ready
    since = k.now() - 1  # the key was authorized just before
    chain.mine(deltatime=6)
    due = since + 4 - (since + 4) % 2  # a due time of every 2 s, passed
    key = bytes.fromhex(str(k.gateway.private_key).removeprefix("0x"))
    coordinator = str(k.coordinator.address)
    # each holder builds and signs the run on its own
    first, second = _run(k, due, since).ticket(), _run(k, due, since).ticket()
    signature_a = sign_ticket(key, chain.chain_id, coordinator, first)
    signature_b = sign_ticket(key, chain.chain_id, coordinator, second)
    chain.mine(deltatime=k.params.orphan_delay)
    reserve = k.s.gateways.reserveOf(k.project_id).balance

    k.coordinator.postOrphans([first.as_tuple()], [signature_a], bytes(32), sender=stranger)
    with reverts_with(k.coordinator.SeqAlreadyPosted):
        k.coordinator.postOrphans([second.as_tuple()], [signature_b], bytes(32), sender=accounts[9])
    with reverts_with(k.coordinator.SeqAlreadyPosted):  # nor the primary through its own batch
        k.post(tickets=[second])

    assert k.s.gateways.reserveOf(k.project_id).balance == reserve - first.reward
    assert k.coordinator.isSeqPosted(k.gateway, first.seq)
    assert not k.coordinator.isSeqPosted(k.gateway, _run(k, due + 2, since).ticket().seq)
