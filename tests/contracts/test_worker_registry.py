"""WorkerRegistry: stake, unbonding, keys, coordinator-only lock/unlock/slash, reputation."""

from __future__ import annotations

import ape
import pytest

from peerhost.deploy import ETHER

KEY = bytes.fromhex("11" * 32)
KEY2 = bytes.fromhex("22" * 32)
MIN_STAKE = 1 * ETHER
DELAY = 24 * 3600
WON, AGREED, SLASHED, MISSED = 0, 1, 2, 3


@pytest.fixture
def solo(project, owner):
    """A WorkerRegistry wired to a MockCoordinator, so tests can call lock/unlock/slash directly."""
    registry = project.WorkerRegistry.deploy(MIN_STAKE, DELAY, sender=owner)
    mock = project.MockCoordinator.deploy(registry.address, 60, sender=owner)
    registry.setCoordinator(mock.address, sender=owner)
    return registry, mock


@pytest.fixture
def staked(solo, workers):
    """Two workers in ``solo`` with 2 ether each."""
    registry, _ = solo
    for w in workers[:2]:
        registry.register(KEY, value=2 * ETHER, sender=w)
    return workers[:2]


# ---------------------------------------------------------------------------- register


def test_register__min_stake__active_and_listed(worker_registry, workers, chain):
    tx = worker_registry.register(KEY, value=MIN_STAKE, sender=workers[0])

    assert tx.events == [
        worker_registry.WorkerRegistered(worker=workers[0], stake=MIN_STAKE, encryptionKey=KEY)
    ]
    w = worker_registry.getWorker(workers[0])
    assert (w.registered, w.encryptionKey, w.stake, w.locked, w.unbonding) == (
        True,
        KEY,
        MIN_STAKE,
        0,
        0,
    )
    assert w.registeredAt == chain.blocks.head.timestamp
    assert worker_registry.isActive(workers[0])
    assert worker_registry.freeStake(workers[0]) == MIN_STAKE
    assert worker_registry.workerCount() == 1
    assert worker_registry.workers(0, 10) == [workers[0]]


def test_register__twice__reverts(worker_registry, workers):
    worker_registry.register(KEY, value=MIN_STAKE, sender=workers[0])
    with ape.reverts(worker_registry.AlreadyRegistered):
        worker_registry.register(KEY, value=MIN_STAKE, sender=workers[0])


def test_register__zero_key__reverts(worker_registry, workers):
    with ape.reverts(worker_registry.InvalidEncryptionKey):
        worker_registry.register(b"\x00" * 32, value=MIN_STAKE, sender=workers[0])


def test_register__below_min_stake__reverts(worker_registry, workers):
    with ape.reverts(worker_registry.InsufficientStake):
        worker_registry.register(KEY, value=MIN_STAKE - 1, sender=workers[0])


def test_constructor__zero_min_stake__reverts(project, owner, reverts_with):
    with reverts_with(project.WorkerRegistry.InsufficientStake):
        project.WorkerRegistry.deploy(0, DELAY, sender=owner)


# ---------------------------------------------------------------------------- addStake / keys


def test_add_stake__registered__increases_stake(worker_registry, workers):
    worker_registry.register(KEY, value=MIN_STAKE, sender=workers[0])
    tx = worker_registry.addStake(value=ETHER // 2, sender=workers[0])

    assert tx.events == [
        worker_registry.StakeAdded(
            worker=workers[0], amount=ETHER // 2, stake=MIN_STAKE + ETHER // 2
        )
    ]
    assert worker_registry.getWorker(workers[0]).stake == MIN_STAKE + ETHER // 2


def test_add_stake__not_registered__reverts(worker_registry, workers):
    with ape.reverts(worker_registry.NotRegistered):
        worker_registry.addStake(value=ETHER, sender=workers[0])


def test_add_stake__zero__reverts(worker_registry, workers):
    worker_registry.register(KEY, value=MIN_STAKE, sender=workers[0])
    with ape.reverts(worker_registry.InvalidAmount):
        worker_registry.addStake(value=0, sender=workers[0])


def test_set_encryption_key__registered__replaces_key(worker_registry, workers):
    worker_registry.register(KEY, value=MIN_STAKE, sender=workers[0])
    tx = worker_registry.setEncryptionKey(KEY2, sender=workers[0])

    assert tx.events == [
        worker_registry.EncryptionKeyChanged(worker=workers[0], encryptionKey=KEY2)
    ]
    assert worker_registry.getWorker(workers[0]).encryptionKey == KEY2


def test_set_encryption_key__not_registered__reverts(worker_registry, workers):
    with ape.reverts(worker_registry.NotRegistered):
        worker_registry.setEncryptionKey(KEY2, sender=workers[0])


def test_set_encryption_key__zero__reverts(worker_registry, workers):
    worker_registry.register(KEY, value=MIN_STAKE, sender=workers[0])
    with ape.reverts(worker_registry.InvalidEncryptionKey):
        worker_registry.setEncryptionKey(b"\x00" * 32, sender=workers[0])


# ---------------------------------------------------------------------------- unbonding


def test_request_unbonding__free_stake__moves_to_unbonding(worker_registry, workers, chain):
    worker_registry.register(KEY, value=2 * ETHER, sender=workers[0])
    tx = worker_registry.requestUnbonding(ETHER // 2, sender=workers[0])

    ready_at = chain.blocks.head.timestamp + DELAY
    assert tx.events == [
        worker_registry.UnbondingRequested(worker=workers[0], amount=ETHER // 2, readyAt=ready_at)
    ]
    w = worker_registry.getWorker(workers[0])
    assert (w.stake, w.unbonding, w.unbondingReadyAt) == (
        2 * ETHER - ETHER // 2,
        ETHER // 2,
        ready_at,
    )
    assert worker_registry.isActive(workers[0])


def test_request_unbonding__below_min_stake__worker_inactive(worker_registry, workers):
    worker_registry.register(KEY, value=MIN_STAKE, sender=workers[0])
    worker_registry.requestUnbonding(1, sender=workers[0])
    assert not worker_registry.isActive(workers[0])


def test_request_unbonding__zero__reverts(worker_registry, workers):
    worker_registry.register(KEY, value=MIN_STAKE, sender=workers[0])
    with ape.reverts(worker_registry.InvalidAmount):
        worker_registry.requestUnbonding(0, sender=workers[0])


def test_request_unbonding__more_than_free__reverts(solo, staked):
    registry, mock = solo
    mock.lock(staked[0], ETHER, sender=staked[0])
    with ape.reverts(registry.InvalidAmount):
        registry.requestUnbonding(ETHER + 1, sender=staked[0])
    registry.requestUnbonding(ETHER, sender=staked[0])  # all the free stake is fine


def test_request_unbonding__not_registered__reverts(worker_registry, workers):
    with ape.reverts(worker_registry.NotRegistered):
        worker_registry.requestUnbonding(1, sender=workers[0])


def test_request_unbonding__again__restarts_delay(worker_registry, workers, chain):
    worker_registry.register(KEY, value=2 * ETHER, sender=workers[0])
    worker_registry.requestUnbonding(ETHER // 4, sender=workers[0])
    chain.mine(deltatime=DELAY // 2)
    worker_registry.requestUnbonding(ETHER // 4, sender=workers[0])

    w = worker_registry.getWorker(workers[0])
    assert w.unbonding == ETHER // 2
    assert w.unbondingReadyAt == chain.blocks.head.timestamp + DELAY


def test_withdraw_stake__before_delay__reverts(worker_registry, workers, chain):
    worker_registry.register(KEY, value=2 * ETHER, sender=workers[0])
    worker_registry.requestUnbonding(ETHER, sender=workers[0])
    chain.mine(deltatime=DELAY - 10)
    with ape.reverts(worker_registry.UnbondingNotReady):
        worker_registry.withdrawStake(sender=workers[0])


def test_withdraw_stake__after_delay__pays_exactly(worker_registry, workers, chain):
    worker_registry.register(KEY, value=2 * ETHER, sender=workers[0])
    worker_registry.requestUnbonding(ETHER, sender=workers[0])
    chain.pending_timestamp += DELAY
    before = workers[0].balance

    tx = worker_registry.withdrawStake(sender=workers[0])

    assert tx.events == [worker_registry.StakeWithdrawn(worker=workers[0], amount=ETHER)]
    assert workers[0].balance == before + ETHER - tx.total_fees_paid
    w = worker_registry.getWorker(workers[0])
    assert (w.stake, w.unbonding, w.unbondingReadyAt) == (ETHER, 0, 0)
    assert worker_registry.balance == ETHER


def test_withdraw_stake__nothing_unbonding__reverts(worker_registry, workers):
    worker_registry.register(KEY, value=MIN_STAKE, sender=workers[0])
    with ape.reverts(worker_registry.InvalidAmount):
        worker_registry.withdrawStake(sender=workers[0])


def test_withdraw_stake__not_registered__reverts(worker_registry, workers):
    with ape.reverts(worker_registry.NotRegistered):
        worker_registry.withdrawStake(sender=workers[0])


def test_withdraw_stake__receiver_rejects_ether__reverts(
    project, worker_registry, owner, chain, reverts_with
):
    rejecter = project.EtherRejecter.deploy(sender=owner)
    call = worker_registry.register.encode_input(KEY)
    rejecter.forward(worker_registry.address, call, value=MIN_STAKE, sender=owner)
    rejecter.forward(
        worker_registry.address, worker_registry.requestUnbonding.encode_input(1), sender=owner
    )
    chain.pending_timestamp += DELAY
    with reverts_with(worker_registry.TransferFailed):
        rejecter.forward(
            worker_registry.address, worker_registry.withdrawStake.encode_input(), sender=owner
        )


# ---------------------------------------------------------------------------- coordinator only


def test_lock__free_stake__locks(solo, staked):
    registry, mock = solo
    tx = mock.lock(staked[0], ETHER, sender=staked[1])

    assert registry.StakeLocked(worker=staked[0], amount=ETHER) in tx.events
    assert registry.getWorker(staked[0]).locked == ETHER
    assert registry.freeStake(staked[0]) == ETHER


def test_lock__more_than_free__reverts(solo, staked, reverts_with):
    registry, mock = solo
    mock.lock(staked[0], ETHER, sender=staked[0])
    with reverts_with(registry.InvalidAmount):
        mock.lock(staked[0], ETHER + 1, sender=staked[0])


@pytest.mark.parametrize("method", ["lock", "unlock", "slash"])
def test_coordinator_calls__unregistered_worker__reverts(solo, workers, reverts_with, method):
    registry, mock = solo
    with reverts_with(registry.NotRegistered):
        getattr(mock, method)(workers[4], 1, sender=workers[4])


@pytest.mark.parametrize("method", ["lock", "unlock", "slash"])
def test_coordinator_only__called_by_other__reverts(worker_registry, workers, method):
    with ape.reverts(worker_registry.NotCoordinator):
        getattr(worker_registry, method)(workers[0], 1, sender=workers[0])


def test_record_outcome__called_by_other__reverts(worker_registry, workers):
    with ape.reverts(worker_registry.NotCoordinator):
        worker_registry.recordOutcome(workers[0], WON, sender=workers[0])


def test_unlock__locked_stake__unlocks(solo, staked):
    registry, mock = solo
    mock.lock(staked[0], ETHER, sender=staked[0])
    tx = mock.unlock(staked[0], ETHER // 4, sender=staked[0])

    assert registry.StakeUnlocked(worker=staked[0], amount=ETHER // 4) in tx.events
    assert registry.getWorker(staked[0]).locked == ETHER - ETHER // 4


def test_unlock__more_than_locked__reverts(solo, staked, reverts_with):
    registry, mock = solo
    mock.lock(staked[0], ETHER, sender=staked[0])
    with reverts_with(registry.InvalidAmount):
        mock.unlock(staked[0], ETHER + 1, sender=staked[0])


def test_slash__within_lock__takes_stake_and_pays_coordinator(solo, staked):
    registry, mock = solo
    mock.lock(staked[0], ETHER, sender=staked[0])
    tx = mock.slash(staked[0], ETHER // 10, sender=staked[0])

    assert registry.StakeSlashed(worker=staked[0], amount=ETHER // 10) in tx.events
    w = registry.getWorker(staked[0])
    assert (w.stake, w.locked) == (2 * ETHER - ETHER // 10, ETHER - ETHER // 10)
    assert mock.received() == ETHER // 10
    assert mock.balance == ETHER // 10


def test_slash__more_than_locked__capped_at_locked(solo, staked):
    registry, mock = solo
    mock.lock(staked[0], ETHER // 2, sender=staked[0])
    tx = mock.slash(staked[0], 5 * ETHER, sender=staked[0])

    assert registry.StakeSlashed(worker=staked[0], amount=ETHER // 2) in tx.events
    w = registry.getWorker(staked[0])
    assert (w.stake, w.locked) == (2 * ETHER - ETHER // 2, 0)
    assert mock.received() == ETHER // 2


def test_slash__nothing_locked__slashes_nothing(solo, staked):
    registry, mock = solo
    tx = mock.slash(staked[0], ETHER, sender=staked[0])

    assert not tx.events.filter(registry.StakeSlashed)
    assert registry.getWorker(staked[0]).stake == 2 * ETHER
    assert mock.received() == 0


def test_slash__below_min_stake__worker_inactive(solo, workers):
    registry, mock = solo
    registry.register(KEY, value=MIN_STAKE, sender=workers[0])
    mock.lock(workers[0], 1, sender=workers[0])
    mock.slash(workers[0], 1, sender=workers[0])
    assert not registry.isActive(workers[0])


def test_record_outcome__each_outcome__counts(solo, staked):
    registry, mock = solo
    for outcome in (WON, AGREED, AGREED, SLASHED, MISSED, MISSED, MISSED):
        mock.recordOutcome(staked[0], outcome, sender=staked[0])
    r = registry.reputation(staked[0])
    assert (r.jobsWon, r.jobsAgreed, r.jobsSlashed, r.revealsMissed) == (1, 2, 1, 3)
    assert tuple(registry.reputation(staked[1])) == (0, 0, 0, 0)


def test_record_outcome__unknown_outcome__reverts(solo, staked, reverts_with):
    registry, mock = solo
    with reverts_with(registry.InvalidOutcome):
        mock.recordOutcome(staked[0], 4, sender=staked[0])


# ---------------------------------------------------------------------------- setCoordinator


def test_set_coordinator__deployment__wired_once(deployment, worker_registry, coordinator, owner):
    assert worker_registry.coordinator() == coordinator.address
    assert worker_registry.owner() == owner
    with ape.reverts(worker_registry.CoordinatorAlreadySet):
        worker_registry.setCoordinator(owner, sender=owner)


def test_set_coordinator__not_owner__reverts(project, owner, stranger):
    registry = project.WorkerRegistry.deploy(MIN_STAKE, DELAY, sender=owner)
    mock = project.MockCoordinator.deploy(registry.address, 60, sender=owner)
    with ape.reverts(registry.CoordinatorAlreadySet):
        registry.setCoordinator(mock.address, sender=stranger)


def test_set_coordinator__delay_not_longer_than_request_lifetime__reverts(project, owner):
    registry = project.WorkerRegistry.deploy(MIN_STAKE, 60, sender=owner)
    mock = project.MockCoordinator.deploy(registry.address, 60, sender=owner)
    with ape.reverts(registry.UnbondingDelayTooShort):
        registry.setCoordinator(mock.address, sender=owner)


def test_set_coordinator__fresh__emits(project, owner):
    registry = project.WorkerRegistry.deploy(MIN_STAKE, 61, sender=owner)
    mock = project.MockCoordinator.deploy(registry.address, 60, sender=owner)
    tx = registry.setCoordinator(mock.address, sender=owner)
    assert tx.events == [registry.CoordinatorSet(coordinator=mock.address)]


# ---------------------------------------------------------------------------- views


def test_views__parameters__match_deploy_params(worker_registry, deploy_params):
    assert worker_registry.minStake() == deploy_params.min_stake
    assert worker_registry.unbondingDelay() == deploy_params.unbonding_delay


def test_workers__pagination__pages_in_registration_order(worker_registry, registered_workers):
    assert worker_registry.workerCount() == 5
    assert worker_registry.workers(0, 2) == registered_workers[:2]
    assert worker_registry.workers(3, 10) == registered_workers[3:]
    assert worker_registry.workers(5, 1) == []
    assert worker_registry.workers(1, 0) == []


def test_views__unknown_worker__empty(worker_registry, stranger):
    assert not worker_registry.isActive(stranger)
    assert worker_registry.freeStake(stranger) == 0
    assert not worker_registry.getWorker(stranger).registered
