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


def test_post_orphans__due_time_not_come__reverts_too_early(ready, chain, stranger, reverts_with):
    """A holder signing a run before it is due cannot get it paid early: the orphan is refused
    until ``orphanDelay`` after its due time (and then it is the due time's one ticket)."""
    k = ready
    since = k.now() - 1
    due = since + 20 - (since + 20) % 2  # not come yet
    ticket = _run(k, due, since).ticket()
    key = bytes.fromhex(str(k.gateway.private_key).removeprefix("0x"))
    signature = sign_ticket(key, chain.chain_id, str(k.coordinator.address), ticket)
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    with reverts_with(k.s.tickets.OrphanTooEarly):
        k.coordinator.postOrphans([ticket.as_tuple()], [signature], bytes(32), sender=stranger)
    assert k.s.gateways.reserveOf(k.project_id).balance == reserve
    assert not k.coordinator.isSeqPosted(k.gateway, ticket.seq)


def test_post_orphans__beyond_the_reserve_and_the_key_bond__reverts_unpaid(
    kit, workers, chain, stranger, reverts_with
):
    """Over-issuing: once the project's reserve (and the key's bond) are spent, a further due
    time's ticket is not payable; what was posted before is paid once each."""
    k = kit
    k.stake(workers[:3])
    k.open_project(reserve=2 * k.params.min_reward, bond=0)
    since = k.now() - 1
    chain.mine(deltatime=10)
    first = since + 2 - (since + 2) % 2
    dues = [first + 2, first + 4, first + 6]
    key = bytes.fromhex(str(k.gateway.private_key).removeprefix("0x"))
    coordinator = str(k.coordinator.address)
    tickets = [_run(k, due, since).ticket() for due in dues]
    signatures = [sign_ticket(key, chain.chain_id, coordinator, t) for t in tickets]
    chain.mine(deltatime=k.params.orphan_delay)
    for ticket, signature in zip(tickets[:2], signatures[:2], strict=True):
        k.coordinator.postOrphans([ticket.as_tuple()], [signature], bytes(32), sender=stranger)
    with reverts_with(k.s.gateways.InsufficientFunds):
        k.coordinator.postOrphans(
            [tickets[2].as_tuple()], [signatures[2]], bytes(32), sender=stranger
        )
    assert k.s.gateways.reserveOf(k.project_id).balance == 0
    assert not k.coordinator.isSeqPosted(k.gateway, tickets[2].seq)
