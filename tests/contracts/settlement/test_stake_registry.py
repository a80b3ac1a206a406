"""StakeRegistry: stake, the capped candidate set, epochs with frozen cumulative arrays, seat draws,
unbonding that outlasts every batch its epoch can seat, slashing (coordinator only, capped, jailing)."""

from __future__ import annotations

import dataclasses

import pytest

from peerhost.deploy import ETHER, deploy_settlement
from peerhost.wire.batch import draw_seats

from .conftest import KEY


@pytest.fixture
def stakes(settlement):
    return settlement.stakes


def _array(stakes, epoch):
    info = stakes.epochInfo(epoch)
    entries = [stakes.entryAt(epoch, i) for i in range(info.members)]
    return [str(a) for a, _ in entries], [int(c) for _, c in entries]


def test_register__min_stake__joins_candidates_but_not_current_epoch(kit, stakes, workers):
    epoch = stakes.currentEpoch()
    stakes.register(KEY, value=ETHER, sender=workers[0])
    assert str(workers[0].address) in [str(m) for m in stakes.members()]
    assert stakes.eligibleStake(workers[0]) == ETHER
    assert stakes.epochInfo(epoch).totalStake == 0  # takes effect next epoch
    kit.advance_epoch()
    members, cumulative = _array(stakes, epoch + 1)
    assert members == [str(workers[0].address)] and cumulative == [ETHER]


def test_register__twice_zero_key_or_low_stake__reverts(stakes, workers, reverts_with):
    with reverts_with(stakes.InvalidEncryptionKey):
        stakes.register(bytes(32), value=ETHER, sender=workers[0])
    with reverts_with(stakes.InsufficientStake):
        stakes.register(KEY, value=ETHER - 1, sender=workers[0])
    stakes.register(KEY, value=ETHER, sender=workers[0])
    with reverts_with(stakes.AlreadyRegistered):
        stakes.register(KEY, value=ETHER, sender=workers[0])


def test_add_stake__counts_from_next_epoch(kit, stakes, workers, reverts_with):
    kit.stake(workers[:2], ETHER)
    e = stakes.currentEpoch()
    stakes.addStake(value=3 * ETHER, sender=workers[0])
    assert stakes.epochInfo(e).totalStake == 2 * ETHER
    kit.advance_epoch()
    assert _array(stakes, e + 1)[1] == [4 * ETHER, 5 * ETHER]
    with reverts_with(stakes.InvalidAmount):
        stakes.addStake(value=0, sender=workers[0])
    with reverts_with(stakes.NotRegistered):
        stakes.addStake(value=1, sender=workers[4])


def test_set_encryption_key__zero__reverts_and_new_key__stored(stakes, workers, reverts_with):
    stakes.register(KEY, value=ETHER, sender=workers[0])
    with reverts_with(stakes.InvalidEncryptionKey):
        stakes.setEncryptionKey(bytes(32), sender=workers[0])
    stakes.setEncryptionKey(b"\x22" * 32, sender=workers[0])
    assert bytes(stakes.getStaker(workers[0]).encryptionKey) == b"\x22" * 32


def test_advance_epoch__before_epoch_length__reverts_epoch_not_over(kit, stakes, reverts_with):
    kit.advance_epoch()
    with reverts_with(stakes.EpochNotOver):
        stakes.advanceEpoch(sender=kit.gateway)


def test_advance_epoch__unbonding_jailed_and_below_min__not_counted(
    kit, stakes, workers, settlement
):
    kit.stake(workers[:3], 2 * ETHER)
    stakes.requestUnbonding(ETHER // 2, sender=workers[0])  # 1.5 ether still bonded
    stakes.requestUnbonding(3 * ETHER // 2, sender=workers[1])  # 0.5 ether: below the minimum
    kit.advance_epoch()
    members, cumulative = _array(stakes, stakes.currentEpoch())
    assert members == [str(workers[0].address), str(workers[2].address)]
    assert cumulative == [3 * ETHER // 2, 3 * ETHER // 2 + 2 * ETHER]


def test_join_leave__membership_changes_next_epoch(kit, stakes, workers, reverts_with):
    kit.stake(workers[:2], ETHER)
    stakes.leave(sender=workers[0])
    with reverts_with(stakes.MembershipUnchanged):
        stakes.leave(sender=workers[0])
    assert _array(stakes, stakes.currentEpoch())[0][0] == str(workers[0].address)  # frozen
    kit.advance_epoch()
    assert _array(stakes, stakes.currentEpoch())[0] == [str(workers[1].address)]
    stakes.join(workers[0], sender=workers[0])
    with reverts_with(stakes.MembershipUnchanged):
        stakes.join(workers[0], sender=workers[0])


def test_join__full_set__displaces_only_a_smaller_member(
    project, owner, deployment, chain, workers, reverts_with
):
    params = dataclasses.replace(_small_params(), max_active=2)
    s = deploy_settlement(project, owner, deployment.registry, params)
    stakes = s.stakes
    stakes.register(KEY, value=ETHER, sender=workers[0])
    stakes.register(KEY, value=3 * ETHER, sender=workers[1])
    stakes.register(KEY, value=2 * ETHER, sender=workers[2])  # no room: registered, not a member
    assert not stakes.getStaker(workers[2]).member
    with reverts_with(stakes.ActiveSetFull):
        stakes.join("0x0000000000000000000000000000000000000000", sender=workers[2])
    with reverts_with(stakes.CannotDisplace):
        stakes.join(workers[1], sender=workers[2])  # more stake than the joiner
    stakes.join(workers[0], sender=workers[2])
    assert {str(m) for m in stakes.members()} == {str(workers[1].address), str(workers[2].address)}


def _small_params():
    from .conftest import short_epoch_params

    return short_epoch_params()


def test_request_unbonding__zero_or_above_stake__reverts(stakes, workers, reverts_with):
    stakes.register(KEY, value=ETHER, sender=workers[0])
    with reverts_with(stakes.InvalidAmount):
        stakes.requestUnbonding(0, sender=workers[0])
    with reverts_with(stakes.InvalidAmount):
        stakes.requestUnbonding(ETHER + 1, sender=workers[0])


def test_withdraw_stake__waits_for_delay_and_next_epoch_plus_batch_life(
    kit, stakes, workers, chain, reverts_with
):
    kit.stake(workers[:1], 2 * ETHER)
    stakes.requestUnbonding(ETHER, sender=workers[0])
    assert stakes.unbondingReadyAt(workers[0]) == 2**256 - 1  # its epoch is still current
    with reverts_with(stakes.UnbondingNotReady):
        stakes.withdrawStake(sender=workers[0])
    chain.mine(deltatime=kit.params.unbonding_delay)
    with reverts_with(stakes.UnbondingNotReady):
        stakes.withdrawStake(sender=workers[0])  # delay passed, but the epoch has not ended
    stakes.advanceEpoch(sender=kit.gateway)
    ready = stakes.unbondingReadyAt(workers[0])
    started = stakes.epochStartedAt(stakes.currentEpoch())
    assert ready == started + kit.params.batch_life
    with reverts_with(stakes.UnbondingNotReady):
        stakes.withdrawStake(sender=workers[0])
    chain.mine(deltatime=kit.params.batch_life + 1)
    before = workers[0].balance
    tx = stakes.withdrawStake(sender=workers[0])
    assert workers[0].balance == before + ETHER - tx.total_fees_paid
    with reverts_with(stakes.InvalidAmount):
        stakes.withdrawStake(sender=workers[0])


def test_draw_seats__matches_python_over_the_frozen_array(kit, stakes, workers):
    kit.stake(workers[:5], ETHER)
    stakes.addStake(value=4 * ETHER, sender=workers[2])
    kit.advance_epoch()
    epoch = stakes.currentEpoch()
    members, cumulative = _array(stakes, epoch)
    for i in range(20):
        seed = (i * 7919).to_bytes(32, "big")
        assert [str(a) for a in stakes.drawSeats(epoch, seed, 5)] == draw_seats(
            cumulative, members, seed, 5
        )


def test_draw_holders__repeated_seat__one_holder_with_its_count(kit, stakes, workers):
    kit.stake(workers[:1], ETHER)
    seats, holders, counts = stakes.drawHolders(stakes.currentEpoch(), b"\x01" * 32, 3)
    assert [str(s) for s in seats] == [str(workers[0].address)] * 3
    assert [str(h) for h in holders] == [str(workers[0].address)] and counts == 3


def test_draw_seats__unavailable_or_empty_epoch__reverts(kit, stakes, workers, reverts_with):
    e = stakes.currentEpoch()
    with reverts_with(stakes.EpochUnavailable):
        stakes.drawSeats(e + 1, b"\x01" * 32, 3)
    with reverts_with(stakes.EmptyEpoch):
        stakes.drawSeats(e, b"\x01" * 32, 3)
    kit.stake(workers[:1])
    kit.advance_epoch()
    stakes.drawSeats(e + 1, b"\x01" * 32, 3)  # the previous epoch's array is still there
    kit.advance_epoch()
    with reverts_with(stakes.EpochUnavailable):
        stakes.drawSeats(e + 1, b"\x01" * 32, 3)  # overwritten by the double buffer
    with reverts_with(stakes.EpochUnavailable):
        stakes.entryAt(e + 1, 0)


def test_slash__not_coordinator__reverts(stakes, workers, stranger, reverts_with):
    with reverts_with(stakes.NotCoordinator):
        stakes.slash(workers[0], 1, sender=stranger)


def test_join__stake_below_minimum__reverts_insufficient_stake(stakes, workers, reverts_with):
    stakes.register(KEY, value=2 * ETHER, sender=workers[0])
    stakes.leave(sender=workers[0])
    stakes.requestUnbonding(3 * ETHER // 2, sender=workers[0])
    with reverts_with(stakes.InsufficientStake):
        stakes.join(workers[0], sender=workers[0])
