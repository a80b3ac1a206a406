"""postBatch, postOrphans and single requests: every leaf checked, ids, roots and digests equal to
``peerhost.wire``, each seq paid at most once, tickets judged at issuedAt and never bouncing."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from eth_utils import keccak

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import SettlementView
from peerhost.deploy import ETHER
from peerhost.wire.batch import (
    LEAF_BYTES,
    POSTED_LEAF_BYTES,
    BatchHead,
    Leaf,
    batch_root,
    encode_posted,
    merkle_proof,
    verify_proof,
)
from peerhost.wire.ticket import (
    MODE_FAST,
    attestation_digest,
    recover_attester,
    request_id,
    sign_attestation,
    sign_ticket,
    ticket_digest,
    ticket_hash,
)

from .conftest import PROFILE, PROJECT, S_POSTED


@pytest.fixture
def k(ready):
    return ready


def _post_raw(k, tickets, *, head=None, leaves=None, sender=None, project_id=None):
    if leaves is None:
        head, leaves = encode_posted([Leaf.of(t) for t in tickets])
    return k.coordinator.postBatch(
        project_id or k.project_id,
        PROFILE,
        head.as_tuple(),
        bytes(32),
        leaves,
        sender=sender or k.gateway,
    )


def test_post_batch__seven_leaves__root_proofs_ids_match_wire(k, chain):
    before = k.s.gateways.reserveOf(k.project_id).balance
    tickets = k.tickets(7)
    posted = k.post(tickets=tickets)
    b = k.coordinator.getBatch(posted.batch_id)
    leaves = [Leaf.of(t) for t in tickets]
    assert bytes(b.root) == batch_root(leaves)
    assert (b.leafCount, b.state, b.reward, b.gateway) == (
        7,
        S_POSTED,
        tickets[0].reward,
        k.gateway.address,
    )
    assert b.seedBlock == chain.blocks.head.number + k.params.beacon_delay
    hashes = [leaf.hash() for leaf in leaves]
    verify = k.s.tickets.verifyLeaf
    for i, h in enumerate(hashes):
        assert verify(b.root, 7, i, h, merkle_proof(hashes, i))
        assert verify_proof(bytes(b.root), h, i, 7, merkle_proof(hashes, i))
    assert not verify(b.root, 7, 1, hashes[0], merkle_proof(hashes, 0))
    assert not verify(b.root, 7, 9, hashes[0], merkle_proof(hashes, 0))
    assert not verify(b.root, 7, 0, hashes[0], merkle_proof(hashes, 0)[:-1])
    for t in tickets:
        assert k.coordinator.isSeqPosted(k.gateway, t.seq)
        assert bytes(k.coordinator.requestIdOf(k.gateway, t.seq)) == request_id(
            chain.chain_id, str(k.coordinator.address), str(k.gateway.address), t.seq
        )
    assert not k.coordinator.isSeqPosted(k.gateway, 7)
    assert k.s.gateways.reserveOf(k.project_id).balance == before - 7 * tickets[0].reward


def test_post_batch__fast_leaves__marked_in_fast_mask(k):
    tickets = k.tickets(2) + k.tickets(1, mode=MODE_FAST)
    posted = k.post(tickets=tickets, attesters=[k.gateway])
    assert k.coordinator.getBatch(posted.batch_id).fastMask == 0b100


def test_post_batch__without_results_commitment__audited_in_full(k):
    posted = k.post(tickets=k.tickets(2, mode=MODE_FAST))
    assert k.coordinator.getBatch(posted.batch_id).fastMask == 0


def test_post_batch__bad_leaf_blobs__revert_invalid_leaves(k, reverts_with):
    head, leaf = encode_posted([Leaf.of(k.tickets(1)[0])])
    assert len(leaf) == POSTED_LEAF_BYTES
    full = Leaf.of(k.tickets(1)[0]).encode()  # the 103-byte hashed leaf is not what is posted
    for blob in (b"", leaf[:-1], leaf + b"\x00", full):
        with reverts_with(k.coordinator.InvalidLeaves):
            _post_raw(k, None, head=head, leaves=blob)
    too_many = k.tickets(k.params.max_leaves + 1)
    with reverts_with(k.coordinator.InvalidLeaves):
        _post_raw(k, too_many)


def test_post_batch__each_bad_ticket__reverts_with_its_error(k, reverts_with, chain):
    c = k.coordinator
    [t] = k.tickets(1)
    now = k.now()
    cases = [
        (c.RewardTooLow, dataclasses.replace(t, reward=k.params.min_reward - 1)),
        (c.TicketExpired, dataclasses.replace(t, issued_at=now - 100, deadline=now - 50)),
        (c.InvalidTicketTimes, dataclasses.replace(t, issued_at=now + 100, deadline=now + 200)),
        (
            c.InvalidTicketTimes,
            dataclasses.replace(t, issued_at=now - 10, deadline=now + k.params.max_ticket_life),
        ),
        (c.InvalidMode, dataclasses.replace(t, mode=3)),
        (c.UnknownVersion, dataclasses.replace(t, version=2)),
        (c.UnknownVersion, dataclasses.replace(t, version=0)),
    ]
    for error, ticket in cases:
        with reverts_with(error):
            _post_raw(k, [ticket])


def test_post_batch__head_names_another_reward_or_secrets_version__root_binds_the_head(k):
    """A gateway cannot post a leaf under another price or secrets version than it signed: the
    root is over the 103-byte leaves rebuilt from the head, so the committee, the courts and the
    workers' proofs see the head's values, and a ticket signed with others is not in the batch."""
    tickets = k.tickets(2, reward=2 * k.params.min_reward)
    signed = [Leaf.of(t) for t in tickets]
    _, blob = encode_posted(signed)
    cheaper = BatchHead(k.function_id, 1, k.params.min_reward, 7)
    tx = _post_raw(k, None, head=cheaper, leaves=blob)
    b = k.coordinator.getBatch(tx.events.filter(k.coordinator.BatchPosted)[0].batchId)
    rebuilt = [dataclasses.replace(x, reward=cheaper.reward, secrets_version=7) for x in signed]
    assert bytes(b.root) == batch_root(rebuilt) != batch_root(signed)
    assert int(b.reward) == cheaper.reward


def test_post_batch__function_of_another_project__reverts(k, registry, stranger, reverts_with):
    registry.publish("other", "fn", "wasi", b"\x01" * 36, 1000, 1 << 20, 0, sender=stranger)
    [t] = k.tickets(1)
    foreign = dataclasses.replace(
        t, function_id=bytes(registry.functionIdOf(stranger, "other", "fn"))
    )
    with reverts_with(k.coordinator.FunctionNotInProject):
        _post_raw(k, [foreign])


def test_post_batch__unknown_function__reverts_unknown_function(k, registry, reverts_with):
    [t] = k.tickets(1)
    with reverts_with(registry.UnknownFunction):
        _post_raw(k, [dataclasses.replace(t, function_id=keccak(b"nothing"))])


def test_post_batch__seq_twice__reverts_seq_already_posted(k, reverts_with):
    tickets = k.tickets(2)
    with reverts_with(k.coordinator.SeqAlreadyPosted):
        _post_raw(k, [tickets[0], tickets[1], tickets[0]])
    k.post(tickets=tickets)
    with reverts_with(k.coordinator.SeqAlreadyPosted):
        _post_raw(k, [tickets[1]])


def test_post_batch__issued_before_authorization_or_after_revocation__reverts(
    k, chain, reverts_with
):
    auth = k.s.gateways.authorizationOf(k.project_id, k.gateway)
    [t] = k.tickets(1)
    early = dataclasses.replace(t, issued_at=auth.validFrom - 1)
    with reverts_with(k.s.gateways.GatewayNotAuthorized):
        _post_raw(k, [early])
    k.s.gateways.setGatewayAuthorization(PROJECT, k.gateway, False, sender=k.developer)
    chain.mine(deltatime=2)
    _post_raw(k, [t])  # issued while authorized: still accepted after the revocation
    [late] = k.tickets(1)
    with reverts_with(k.s.gateways.GatewayNotAuthorized):
        _post_raw(k, [late])


def test_post_batch__gateway_without_bond__reverts_bond_too_low(k, stranger, reverts_with, chain):
    k.s.gateways.setGatewayAuthorization(PROJECT, stranger, True, sender=k.developer)
    chain.mine(deltatime=1)
    k.gateway = stranger
    [t] = k.tickets(1)
    with reverts_with(k.s.gateways.BondTooLow):
        _post_raw(k, [t], sender=stranger)


def test_post_batch__reserve_withdrawn_after_issue__ticket_still_paid(k, chain):
    tickets = k.tickets(2)
    reserve = k.s.gateways.reserveOf(k.project_id)
    k.s.gateways.requestReserveWithdrawal(PROJECT, reserve.balance, sender=k.developer)
    k.post(
        tickets=tickets
    )  # drawn from the leaving part: the owner cannot pull it from under a ticket
    assert k.s.gateways.reserveOf(k.project_id).leaving == reserve.balance - 2 * tickets[0].reward


def test_post_batch__gateway_over_issues__its_bond_pays_then_refuses(k, reverts_with):
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    bond = k.s.gateways.bondOf(k.gateway).amount
    reward = ETHER
    n = reserve // reward + 1  # one ticket more than the reserve covers
    tx = k.post(tickets=k.tickets(int(n), reward=reward))
    assert k.s.gateways.bondOf(k.gateway).amount == bond - (n * reward - reserve)
    assert tx.batch_id == k.coordinator.batchCount()
    with reverts_with(k.s.gateways.InsufficientFunds):
        _post_raw(k, k.tickets(2, reward=reward))


def test_post_batch__no_stake_in_epoch__reverts_no_active_stake(kit, reverts_with):
    kit.open_project()
    with reverts_with(kit.coordinator.NoActiveStake):
        _post_raw(kit, kit.tickets(1))


def test_ticket_digests__contract__equal_wire(k, chain, accounts):
    [t] = k.tickets(1)
    coordinator = str(k.coordinator.address)
    assert bytes(k.s.tickets.ticketHash(t.as_tuple())) == ticket_hash(t)
    assert bytes(k.s.tickets.ticketDigest(coordinator, t.as_tuple())) == ticket_digest(
        chain.chain_id, coordinator, t
    )
    sig = sign_ticket(k.gateway.private_key, chain.chain_id, coordinator, t)
    assert k.s.tickets.ticketSigner(coordinator, t.as_tuple(), sig) == k.gateway.address
    result = keccak(b"result")
    assert bytes(
        k.s.tickets.attestationDigest(coordinator, ticket_hash(t), result)
    ) == attestation_digest(chain.chain_id, coordinator, ticket_hash(t), result)
    w = accounts[5]
    att = sign_attestation(w.private_key, chain.chain_id, coordinator, ticket_hash(t), result)
    assert recover_attester(chain.chain_id, coordinator, ticket_hash(t), result, att) == w.address
    high_s = sig[:32] + (2**256 - 1).to_bytes(32, "big") + sig[64:]
    assert int(k.s.tickets.ticketSigner(coordinator, t.as_tuple(), high_s), 16) == 0
    assert int(k.s.tickets.ticketSigner(coordinator, t.as_tuple(), sig[:64]), 16) == 0


def _signed(k, chain, tickets, key=None):
    coordinator = str(k.coordinator.address)
    return [
        sign_ticket(key or k.gateway.private_key, chain.chain_id, coordinator, t) for t in tickets
    ]


def test_post_orphans__stranger_posts_gateway_tickets__bond_refunds_its_gas(k, chain, stranger):
    tickets = k.tickets(3)[::-1]  # out of order
    chain.mine(deltatime=k.params.orphan_delay)  # the gateway did not post them in time
    bond = k.s.gateways.bondOf(k.gateway).amount
    tx = k.coordinator.postOrphans(
        [t.as_tuple() for t in tickets], _signed(k, chain, tickets), bytes(32), sender=stranger
    )
    batch_id = tx.events.filter(k.coordinator.OrphansPosted)[0].batchId
    refund = 3 * k.params.orphan_refund
    assert k.coordinator.pendingWithdrawal(stranger) == refund
    assert k.s.gateways.bondOf(k.gateway).amount == bond - refund
    b = k.coordinator.getBatch(batch_id)
    assert (
        bytes(b.root) == batch_root([Leaf.of(t) for t in tickets])
        and b.gateway == k.gateway.address
    )
    assert all(k.coordinator.isSeqPosted(k.gateway, t.seq) for t in tickets)


def test_post_orphans__forged_or_mixed_or_replayed__reverts(k, chain, stranger, reverts_with):
    tickets = k.tickets(2)
    rows = [t.as_tuple() for t in tickets]
    chain.mine(deltatime=k.params.orphan_delay)
    with reverts_with(k.s.tickets.BadTicketSignature):
        k.coordinator.postOrphans(
            rows, _signed(k, chain, tickets, stranger.private_key), bytes(32), sender=stranger
        )
    with reverts_with(k.s.tickets.OrphansMismatch):
        k.coordinator.postOrphans(rows, _signed(k, chain, tickets)[:1], bytes(32), sender=stranger)
    for other in (
        dataclasses.replace(tickets[1], reward=tickets[1].reward * 2),
        dataclasses.replace(tickets[1], secrets_version=3),
        dataclasses.replace(tickets[1], version=2),
        dataclasses.replace(tickets[1], engine_profile=keccak(b"other engine")),
    ):
        mixed = [tickets[0], other]  # another head: one orphan post per head
        with reverts_with(k.s.tickets.OrphansMismatch):
            k.coordinator.postOrphans(
                [t.as_tuple() for t in mixed], _signed(k, chain, mixed), bytes(32), sender=stranger
            )
    k.post(tickets=tickets[:1])  # the gateway posted one of them itself
    with reverts_with(k.coordinator.SeqAlreadyPosted):
        k.coordinator.postOrphans(rows, _signed(k, chain, tickets), bytes(32), sender=stranger)
    with reverts_with(k.s.tickets.OrphansMismatch):
        k.coordinator.postOrphans([], [], bytes(32), sender=stranger)


def test_request_execution__contract_single_request__one_leaf_batch(
    k, chain, requester, reverts_with
):
    reward = k.params.min_reward
    deadline = k.now() + 300
    args = (k.function_id, 1, keccak(b"input"), 2, deadline, 0, PROFILE)
    tx = k.coordinator.requestExecution(*args, value=reward, sender=requester)
    event = tx.events.filter(k.coordinator.SingleRequested)[0]
    seq = (1 << 63) | int(event.batchId)  # its batch's id
    assert bytes(event.requestId) == request_id(
        chain.chain_id, str(k.coordinator.address), str(requester.address), seq
    )
    b = k.coordinator.getBatch(event.batchId)
    leaf = Leaf(seq, k.function_id, 1, keccak(b"input"), reward, b.postedAt, deadline, 2, 0)
    assert bytes(b.root) == leaf.hash() and len(leaf.encode()) == LEAF_BYTES
    assert (b.leafCount, b.payer, bytes(b.projectId)) == (1, requester.address, bytes(32))
    with reverts_with(k.coordinator.RewardTooLow):
        k.coordinator.requestExecution(*args, value=reward - 1, sender=requester)


def test_request_execution__value_above_uint96__reverts_wrong_value(
    k, requester, chain, reverts_with
):
    chain.set_balance(requester.address, 2**100)
    args = (k.function_id, 1, keccak(b"x"), 2, k.now() + 300, 0, PROFILE)
    with reverts_with(k.coordinator.WrongValue):
        k.coordinator.requestExecution(*args, value=2**96, sender=requester)


def test_post_orphans__more_than_max_leaves__reverts_invalid_leaves(k, stranger, reverts_with):
    tickets = k.tickets(k.params.max_leaves + 1)
    with reverts_with(k.coordinator.InvalidLeaves):
        k.coordinator.postOrphans(
            [t.as_tuple() for t in tickets], [b""] * len(tickets), bytes(32), sender=stranger
        )


def test_post_orphans__before_orphan_delay__reverts_orphan_too_early(
    k, chain, stranger, reverts_with
):
    # front-running a gateway's own batch with its fresh tickets would drain its bond: refused
    tickets = k.tickets(2)
    with reverts_with(k.s.tickets.OrphanTooEarly):
        k.coordinator.postOrphans(
            [t.as_tuple() for t in tickets], _signed(k, chain, tickets), bytes(32), sender=stranger
        )
    chain.mine(deltatime=k.params.orphan_delay)
    k.coordinator.postOrphans(
        [t.as_tuple() for t in tickets], _signed(k, chain, tickets), bytes(32), sender=stranger
    )


def test_authorization__revoked_then_renewed__earlier_tickets_still_paid(k, chain):
    [early] = k.tickets(1)
    k.s.gateways.setGatewayAuthorization(PROJECT, k.gateway, False, sender=k.developer)
    chain.mine(deltatime=5)
    k.s.gateways.setGatewayAuthorization(PROJECT, k.gateway, True, sender=k.developer)
    k.post(tickets=[early])  # issued under the first window: not bounced by the renewal
    assert k.coordinator.isSeqPosted(k.gateway, early.seq)


def test_post_batch__seq_in_the_single_request_half__reverts_seq_reserved(k, reverts_with):
    [t] = k.tickets(1)
    reserved = dataclasses.replace(t, seq=1 << 63)
    with reverts_with(k.coordinator.SeqReserved):
        _post_raw(k, [reserved])


def test_request_execution__seq_is_its_batch_id__posted_once_each_without_a_bitmap(
    k, requester, stranger
):
    """A single request's seq is 2^63 + its batch id: each is posted once, for its requester only; a
    gateway's batch id, another requester, or a batch not posted yet never reads as posted."""
    args = (k.function_id, 1, keccak(b"input"), 2, k.now() + 300, 0, PROFILE)
    c = k.coordinator
    gateway_batch = k.post(1).batch_id
    ids = []
    for _ in range(2):
        tx = c.requestExecution(*args, value=k.params.min_reward, sender=requester)
        ids.append(int(tx.events.filter(c.SingleRequested)[0].batchId))
    assert ids[1] == ids[0] + 1
    assert all(c.isSeqPosted(requester, (1 << 63) + b) for b in ids)
    assert not any(c.isSeqPosted(stranger, (1 << 63) + b) for b in ids)
    assert not c.isSeqPosted(
        k.gateway, (1 << 63) + gateway_batch
    )  # a posted batch, not a single request
    assert not c.isSeqPosted(requester, (1 << 63) + ids[1] + 1)
    assert not c.isSeqPosted(requester, 1 << 63)  # batch 0 never exists
    assert not c.isSeqPosted(requester, 0)


def test_posted_leaves__post_batch_post_orphans_and_other_calls__leaves_or_value_error(
    k, chain, deployment, stranger
):
    """The one decoder the committee and the fault scenarios read posted leaves with."""
    uri = str(chain.provider.uri)
    config = ChainConfig(
        uri,
        uri,
        chain.chain_id,
        **deployment.addresses,
        stakes=k.s.addresses["stakes"],
        gateways=k.s.addresses["gateways"],
        settlement=k.s.addresses["settlement"],
    )
    batched = k.tickets(4)
    batch_tx = _post_raw(k, batched).txn_hash
    orphans = k.tickets(3)[::-1]
    chain.mine(deltatime=k.params.orphan_delay)
    orphans_tx = k.coordinator.postOrphans(
        [t.as_tuple() for t in orphans], _signed(k, chain, orphans), bytes(32), sender=stranger
    ).txn_hash
    transfer_tx = stranger.transfer(k.gateway, 1).txn_hash

    async def read() -> tuple[list[Leaf], list[Leaf], str]:
        rpc = RpcClient(uri)
        view = SettlementView(config, rpc)
        try:
            got_batch = await view.posted_leaves(str(batch_tx))
            got_orphans = await view.posted_leaves(str(orphans_tx))
            with pytest.raises(ValueError) as refused:
                await view.posted_leaves(str(transfer_tx))
            return got_batch, got_orphans, str(refused.value)
        finally:
            await rpc.aclose()

    got_batch, got_orphans, refusal = asyncio.run(read())
    assert got_batch == [Leaf.of(t) for t in batched]
    assert got_orphans == [Leaf.of(t) for t in orphans]
    assert "postOrphans" in refusal
