"""ExecutionCoordinator: escrow, commit-reveal, quorum, payouts, slashing, refunds, pull payments.

Defaults (peerhost.deploy.DeployParams): K=3, quorum=2, 30 s commit and reveal windows, 20 % speed
bonus, 0.01 ether locked per commitment, 0.01 ether wrong-reveal slash, 0.002 ether missed-reveal slash.
"""

from __future__ import annotations

import json
from typing import Any

import ape
import pytest
from eth_utils import keccak

from peerhost.deploy import (
    ETHER,
    DeployParams,
    deploy,
    deployment_key,
    ensure_deployment,
    load_deployment,
)
from peerhost.wire import commitment, request_id_of, result_hash

REWARD = ETHER // 100
INPUT = b'{"body":"","method":"GET","path":"/"}'
REPLY_TO = b"http://127.0.0.1:8080/inbox"
SALT = b"\x5a" * 32
GOOD = b'{"status":200,"body":"ok"}'
BAD = b'{"status":200,"body":"lie"}'
INPUT_CID = bytes.fromhex("01551220") + b"\x33" * 32

# Phase enum
NONE, COMMIT, REVEAL, SETTLE, FINALIZED, REFUNDED = range(6)
# Status enum
S_PENDING, S_FINALIZED, S_REFUNDED = 1, 2, 3
# WorkerSlashed reasons
WRONG_REVEAL, MISSED_REVEAL = 0, 1


def salt_of(worker: Any) -> bytes:
    return keccak(bytes.fromhex(str(worker.address)[2:]) + SALT)


def commitment_of(
    chain: Any, coordinator: Any, rid: bytes, worker: Any, result: bytes, salt: bytes
) -> bytes:
    return commitment(
        chain.chain_id, coordinator.address, rid, str(worker.address), result_hash(result), salt
    )


def do_commit(coordinator: Any, rid: bytes, worker: Any, result: bytes = GOOD) -> Any:
    c = coordinator.commitmentFor(rid, worker, result_hash(result), salt_of(worker))
    return coordinator.commit(rid, c, sender=worker)


def do_reveal(coordinator: Any, rid: bytes, worker: Any, result: bytes = GOOD) -> Any:
    return coordinator.reveal(rid, result_hash(result), salt_of(worker), sender=worker)


def request_of(tx: Any, coordinator: Any) -> bytes:
    rid: bytes = tx.events.filter(coordinator.ExecutionRequested)[0].requestId
    return rid


def owed(coordinator: Any, accounts: list[Any], project_ids: list[bytes] = ()) -> int:  # type: ignore[assignment]
    """Everything the coordinator owes among ``accounts`` and ``project_ids``, plus the treasury."""
    return (
        sum(coordinator.pendingWithdrawal(a) for a in accounts)
        + sum(coordinator.projectAccount(p).balance for p in project_ids)
        + coordinator.treasury()
    )


@pytest.fixture
def rid(coordinator, published_function, requester) -> bytes:
    """A request paid with the call (REWARD), in its Commit phase."""
    tx = coordinator.requestExecution(
        published_function, INPUT, REPLY_TO, value=REWARD, sender=requester
    )
    return request_of(tx, coordinator)


@pytest.fixture
def trio(registered_workers) -> list[Any]:
    return registered_workers[:3]


@pytest.fixture
def project_id(registry, developer) -> bytes:
    pid: bytes = registry.projectIdOf(developer, "shop")
    return pid


@pytest.fixture
def funded_project(coordinator, developer, gateway, project_id, published_function) -> bytes:
    """developer's "shop": price 2x minReward, balance for 3 requests, ``gateway`` authorized."""
    price = 2 * coordinator.params().minReward
    coordinator.setProjectPrice("shop", price, sender=developer)
    coordinator.fundProject(developer, "shop", value=3 * price, sender=developer)
    coordinator.setGatewayAuthorization("shop", gateway, True, sender=developer)
    return project_id


# ---------------------------------------------------------------------------- constructor & params


def test_params__defaults__match_deploy_params(coordinator, deploy_params, deployment, owner):
    assert tuple(coordinator.params()) == deploy_params.coordinator_params()
    assert (
        coordinator.maxRequestLifetime()
        == deploy_params.commit_window + deploy_params.reveal_window
    )
    assert coordinator.MAX_COMMITS() == 16
    assert coordinator.owner() == owner
    assert coordinator.functionRegistry() == deployment.registry.address
    assert coordinator.workerRegistry() == deployment.workers.address
    assert coordinator.treasury() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"min_reward": 0},
        {"max_commits": 0},
        {"max_commits": 17, "quorum": 9},
        {"quorum": 1},  # not > K/2: two hashes could both win
        {"quorum": 4},  # more than K: nothing could ever win
        {"max_commits": 4, "quorum": 2},
        {"commit_window": 0},
        {"reveal_window": 0},
        {"speed_bonus_bps": 10_001},
        {"wrong_reveal_slash": ETHER // 100 + 1},
        {"missed_reveal_slash": ETHER // 100 + 1},
        {"max_input_bytes": 0},
    ],
)
def test_constructor__invalid_params__reverts(project, owner, deployment, reverts_with, change):
    params = DeployParams(**change).coordinator_params()
    with reverts_with(project.ExecutionCoordinator.InvalidParams):
        project.ExecutionCoordinator.deploy(
            deployment.registry.address, deployment.workers.address, params, sender=owner
        )


def test_constructor__zero_registry__reverts(project, owner, deployment, reverts_with):
    with reverts_with(project.ExecutionCoordinator.InvalidParams):
        project.ExecutionCoordinator.deploy(
            "0x" + "00" * 20,
            deployment.workers.address,
            DeployParams().coordinator_params(),
            sender=owner,
        )


# ---------------------------------------------------------------------------- requestExecution


def test_request_execution__paid_with_call__escrows_and_announces_job(
    coordinator, published_function, requester, chain
):
    expected = coordinator.nextRequestId(requester)
    tx = coordinator.requestExecution(
        published_function, INPUT, REPLY_TO, value=REWARD, sender=requester
    )

    now = chain.blocks.head.timestamp
    event = tx.events.filter(coordinator.ExecutionRequested)[0]
    assert (event.requestId, event.functionId, event.requester) == (
        expected,
        published_function,
        requester,
    )
    job = event.job
    assert tuple(job) == (
        1, "wasi", bytes.fromhex("01551220") + bytes(range(32)), 1_000_000, 16 * 1024 * 1024, 0,
        INPUT, b"", keccak(INPUT), REWARD, now, now + 30, now + 60, REPLY_TO,
    )  # fmt: skip
    r = coordinator.getRequest(expected)
    assert (r.requester, r.functionId, r.projectId, r.reward, r.inputHash) == (
        requester, published_function, b"\x00" * 32, REWARD, keccak(INPUT),
    )  # fmt: skip
    assert (r.requestedAt, r.commitDeadline, r.revealDeadline) == (now, now + 30, now + 60)
    assert (r.commitCount, r.revealCount, r.status) == (0, 0, S_PENDING)
    assert coordinator.phase(expected) == COMMIT
    assert coordinator.balance == REWARD


def test_request_execution__ids__derived_from_chain_coordinator_requester_sequence(
    coordinator, published_function, requester, chain
):
    ids = []
    for sequence in range(2):
        assert coordinator.requestSequence(requester) == sequence
        tx = coordinator.requestExecution(
            published_function, INPUT, b"", value=REWARD, sender=requester
        )
        ids.append(request_of(tx, coordinator))
        assert ids[-1] == request_id_of(
            chain.chain_id, coordinator.address, str(requester.address), sequence
        )
    assert ids[0] != ids[1]
    assert coordinator.requestSequence(requester) == 2


def test_request_execution__snapshots_active_version(
    coordinator, registry, publish, developer, requester
):
    fid = publish()
    publish(code_cid=b"\x01\x55\x12\x20" + b"\x99" * 32, fuel=7)
    registry.setActiveVersion(fid, 1, sender=developer)  # rolled back

    tx = coordinator.requestExecution(fid, INPUT, b"", value=REWARD, sender=requester)

    job = tx.events.filter(coordinator.ExecutionRequested)[0].job
    assert (job[0], job[3]) == (1, 1_000_000)  # (version, fuelLimit)


def test_request_execution__reward_below_minimum__reverts(
    coordinator, published_function, requester
):
    with ape.reverts(coordinator.RewardTooLow):
        coordinator.requestExecution(
            published_function,
            INPUT,
            b"",
            value=coordinator.params().minReward - 1,
            sender=requester,
        )


def test_request_execution__minimum_reward__accepted(coordinator, published_function, requester):
    minimum = coordinator.params().minReward
    tx = coordinator.requestExecution(
        published_function, INPUT, b"", value=minimum, sender=requester
    )
    assert coordinator.getRequest(request_of(tx, coordinator)).reward == minimum


def test_request_execution__empty_input__reverts(coordinator, published_function, requester):
    with ape.reverts(coordinator.InvalidInput):
        coordinator.requestExecution(published_function, b"", b"", value=REWARD, sender=requester)


def test_request_execution__input_too_large__reverts(coordinator, published_function, requester):
    cap = coordinator.params().maxInputBytes
    coordinator.requestExecution(
        published_function, b"x" * cap, b"", value=REWARD, sender=requester
    )
    with ape.reverts(coordinator.InputTooLarge):
        coordinator.requestExecution(
            published_function, b"x" * (cap + 1), b"", value=REWARD, sender=requester
        )


def test_request_execution__unknown_function__reverts(coordinator, requester):
    with ape.reverts(coordinator.UnknownFunction):
        coordinator.requestExecution(b"\x01" * 32, INPUT, b"", value=REWARD, sender=requester)


def test_request_execution__disabled_function__reverts(
    coordinator, registry, published_function, developer, requester
):
    registry.setDisabled(published_function, True, sender=developer)
    with ape.reverts(coordinator.FunctionIsDisabled):
        coordinator.requestExecution(published_function, INPUT, b"", value=REWARD, sender=requester)


def test_request_execution_by_cid__big_input__announces_cid(
    coordinator, published_function, requester
):
    input_hash = keccak(b"a big input")
    tx = coordinator.requestExecutionByCid(
        published_function, INPUT_CID, input_hash, REPLY_TO, value=REWARD, sender=requester
    )

    job = tx.events.filter(coordinator.ExecutionRequested)[0].job
    assert tuple(job[6:9]) == (b"", INPUT_CID, input_hash)  # (input, inputCid, inputHash)
    assert coordinator.getRequest(request_of(tx, coordinator)).inputHash == input_hash


@pytest.mark.parametrize("cid,input_hash", [(b"", b"\x01" * 32), (INPUT_CID, b"\x00" * 32)])
def test_request_execution_by_cid__missing_cid_or_hash__reverts(
    coordinator, published_function, requester, cid, input_hash
):
    with ape.reverts(coordinator.InvalidInput):
        coordinator.requestExecutionByCid(
            published_function, cid, input_hash, b"", value=REWARD, sender=requester
        )


def test_request_execution_by_cid__cid_too_long__reverts(
    coordinator, published_function, requester
):
    with ape.reverts(coordinator.InputTooLarge):
        coordinator.requestExecutionByCid(
            published_function, b"\x01" * 129, b"\x01" * 32, b"", value=REWARD, sender=requester
        )


# ---------------------------------------------------------------------------- project balance path


def test_request_execution__authorized_gateway__paid_from_project_balance(
    coordinator, published_function, gateway, funded_project
):
    account = coordinator.projectAccount(funded_project)
    tx = coordinator.requestExecution(published_function, INPUT, REPLY_TO, sender=gateway)

    r = coordinator.getRequest(request_of(tx, coordinator))
    assert (r.requester, r.projectId, r.reward) == (
        gateway,
        funded_project,
        account.pricePerRequest,
    )
    assert (
        coordinator.projectAccount(funded_project).balance
        == account.balance - account.pricePerRequest
    )


def test_request_execution__unauthorized_gateway__reverts(
    coordinator, published_function, stranger, funded_project
):
    with ape.reverts(coordinator.GatewayNotAuthorized):
        coordinator.requestExecution(published_function, INPUT, b"", sender=stranger)


def test_request_execution__deauthorized_gateway__reverts(
    coordinator, published_function, developer, gateway, funded_project
):
    tx = coordinator.setGatewayAuthorization("shop", gateway, False, sender=developer)
    assert tx.events == [
        coordinator.GatewayAuthorizationSet(
            projectId=funded_project, gateway=gateway, authorized=False
        )
    ]
    assert not coordinator.isGatewayAuthorized(funded_project, gateway)
    with ape.reverts(coordinator.GatewayNotAuthorized):
        coordinator.requestExecution(published_function, INPUT, b"", sender=gateway)


def test_request_execution__project_price_unset__reverts(
    coordinator, published_function, developer, gateway
):
    coordinator.setGatewayAuthorization("shop", gateway, True, sender=developer)
    coordinator.fundProject(developer, "shop", value=ETHER, sender=developer)
    with ape.reverts(coordinator.PriceTooLow):
        coordinator.requestExecution(published_function, INPUT, b"", sender=gateway)


def test_request_execution__project_balance_exhausted__reverts(
    coordinator, published_function, gateway, funded_project
):
    for _ in range(3):
        coordinator.requestExecution(published_function, INPUT, b"", sender=gateway)
    assert coordinator.projectAccount(funded_project).balance == 0
    with ape.reverts(coordinator.InsufficientProjectBalance):
        coordinator.requestExecution(published_function, INPUT, b"", sender=gateway)


def test_fund_project__anyone__credits_balance(coordinator, developer, stranger, project_id):
    tx = coordinator.fundProject(developer, "shop", value=ETHER, sender=stranger)

    assert tx.events == [
        coordinator.ProjectFunded(projectId=project_id, **{"from": stranger}, amount=ETHER)
    ]
    assert coordinator.projectAccount(project_id).balance == ETHER


def test_fund_project__invalid_name__reverts(coordinator, developer):
    with ape.reverts(coordinator.InvalidProjectName):
        coordinator.fundProject(developer, "Shop", value=ETHER, sender=developer)


def test_fund_project__zero__reverts(coordinator, developer):
    with ape.reverts(coordinator.InvalidAmount):
        coordinator.fundProject(developer, "shop", value=0, sender=developer)


def test_withdraw_project_balance__owner__pays_exactly(coordinator, developer, project_id):
    coordinator.fundProject(developer, "shop", value=ETHER, sender=developer)
    before = developer.balance
    tx = coordinator.withdrawProjectBalance("shop", ETHER // 4, sender=developer)

    assert tx.events == [
        coordinator.ProjectBalanceWithdrawn(projectId=project_id, amount=ETHER // 4)
    ]
    assert developer.balance == before + ETHER // 4 - tx.total_fees_paid
    assert coordinator.projectAccount(project_id).balance == ETHER - ETHER // 4


@pytest.mark.parametrize("amount", [0, ETHER + 1])
def test_withdraw_project_balance__zero_or_above_balance__reverts(coordinator, developer, amount):
    coordinator.fundProject(developer, "shop", value=ETHER, sender=developer)
    with ape.reverts(coordinator.InvalidAmount):
        coordinator.withdrawProjectBalance("shop", amount, sender=developer)


def test_withdraw_project_balance__other_wallet__reverts(coordinator, developer, stranger):
    coordinator.fundProject(developer, "shop", value=ETHER, sender=developer)
    with ape.reverts(coordinator.InvalidAmount):  # stranger's own "shop" is empty
        coordinator.withdrawProjectBalance("shop", 1, sender=stranger)


def test_set_project_price__at_least_minimum__set_and_announced(coordinator, developer, project_id):
    price = coordinator.params().minReward
    tx = coordinator.setProjectPrice("shop", price, sender=developer)
    assert tx.events == [coordinator.ProjectPriceSet(projectId=project_id, price=price)]
    assert coordinator.projectAccount(project_id).pricePerRequest == price


def test_set_project_price__below_minimum__reverts(coordinator, developer):
    with ape.reverts(coordinator.PriceTooLow):
        coordinator.setProjectPrice("shop", coordinator.params().minReward - 1, sender=developer)


@pytest.mark.parametrize("method", ["setProjectPrice", "setGatewayAuthorization"])
def test_project_settings__invalid_name__reverts(coordinator, developer, gateway, method):
    args = (ETHER,) if method == "setProjectPrice" else (gateway, True)
    with ape.reverts(coordinator.InvalidProjectName):
        getattr(coordinator, method)("bad name", *args, sender=developer)


def test_set_gateway_authorization__authorize__announced(
    coordinator, developer, gateway, project_id
):
    tx = coordinator.setGatewayAuthorization("shop", gateway, True, sender=developer)
    assert tx.events == [
        coordinator.GatewayAuthorizationSet(projectId=project_id, gateway=gateway, authorized=True)
    ]
    assert coordinator.isGatewayAuthorized(project_id, gateway)


# ---------------------------------------------------------------------------- commit


def test_commit__active_worker__records_and_locks(coordinator, worker_registry, rid, trio, chain):
    c = coordinator.commitmentFor(rid, trio[0], result_hash(GOOD), salt_of(trio[0]))
    tx = coordinator.commit(rid, c, sender=trio[0])

    assert coordinator.ResultCommitted(requestId=rid, worker=trio[0], index=0) in tx.events
    assert not tx.events.filter(coordinator.RevealPhaseOpened)
    got = coordinator.getCommitment(rid, trio[0])
    assert (got.commitment, got.committedAt, got.index, got.revealed) == (
        c, chain.blocks.head.timestamp, 0, False,
    )  # fmt: skip
    assert coordinator.committers(rid) == [trio[0]]
    assert coordinator.getRequest(rid).commitCount == 1
    assert worker_registry.getWorker(trio[0]).locked == coordinator.params().commitLock
    assert coordinator.phase(rid) == COMMIT


def test_commit__kth_commit__opens_reveal_phase(coordinator, rid, trio):
    for w in trio[:2]:
        do_commit(coordinator, rid, w)
    tx = do_commit(coordinator, rid, trio[2])

    assert coordinator.RevealPhaseOpened(requestId=rid) in tx.events
    assert coordinator.committers(rid) == trio
    assert coordinator.phase(rid) == REVEAL


def test_commit__after_k_commits__reverts(coordinator, rid, registered_workers):
    for w in registered_workers[:3]:
        do_commit(coordinator, rid, w)
    with ape.reverts(coordinator.WrongPhase):
        do_commit(coordinator, rid, registered_workers[3])


def test_commit__after_commit_deadline__reverts(coordinator, rid, trio, chain):
    chain.pending_timestamp = coordinator.getRequest(rid).commitDeadline
    with ape.reverts(coordinator.WrongPhase):
        do_commit(coordinator, rid, trio[0])


def test_commit__unknown_request__reverts(coordinator, trio):
    with ape.reverts(coordinator.UnknownRequest):
        coordinator.commit(b"\x01" * 32, b"\x02" * 32, sender=trio[0])


def test_commit__empty_commitment__reverts(coordinator, rid, trio):
    with ape.reverts(coordinator.EmptyCommitment):
        coordinator.commit(rid, b"\x00" * 32, sender=trio[0])


def test_commit__twice__reverts(coordinator, rid, trio):
    do_commit(coordinator, rid, trio[0])
    with ape.reverts(coordinator.AlreadyCommitted):
        do_commit(coordinator, rid, trio[0], BAD)


def test_commit__unregistered__reverts(coordinator, rid, stranger):
    with ape.reverts(coordinator.WorkerNotActive):
        coordinator.commit(rid, b"\x02" * 32, sender=stranger)


def test_commit__stake_below_minimum__reverts(coordinator, worker_registry, rid, trio):
    worker_registry.requestUnbonding(ETHER + 1, sender=trio[0])  # 2 ether staked -> 1 ether - 1 wei
    with ape.reverts(coordinator.WorkerNotActive):
        do_commit(coordinator, rid, trio[0])


def test_commit__free_stake_below_commit_lock__reverts(
    project, owner, developer, requester, workers
):
    d = deploy(project, owner, DeployParams(commit_lock=2 * ETHER))
    d.registry.publish("shop", "fn", "wasi", b"\x01", 1, 1, 0, sender=developer)
    fid = d.registry.functionIdOf(developer, "shop", "fn")
    d.workers.register(b"\x11" * 32, value=ETHER, sender=workers[0])
    tx = d.coordinator.requestExecution(fid, INPUT, b"", value=REWARD, sender=requester)
    with ape.reverts(d.coordinator.InvalidAmount):
        d.coordinator.commit(request_of(tx, d.coordinator), b"\x02" * 32, sender=workers[0])


# ---------------------------------------------------------------------------- reveal


def test_reveal__after_k_commits__records(coordinator, rid, trio):
    for w in trio:
        do_commit(coordinator, rid, w)
    tx = do_reveal(coordinator, rid, trio[1])

    assert tx.events == [
        coordinator.ResultRevealed(requestId=rid, worker=trio[1], resultHash=result_hash(GOOD))
    ]
    got = coordinator.getCommitment(rid, trio[1])
    assert (got.revealed, got.resultHash) == (True, result_hash(GOOD))
    assert coordinator.getRequest(rid).revealCount == 1
    assert coordinator.phase(rid) == REVEAL


def test_reveal__during_commit_phase__reverts(coordinator, rid, trio):
    do_commit(coordinator, rid, trio[0])
    with ape.reverts(coordinator.WrongPhase):
        do_reveal(coordinator, rid, trio[0])


def test_reveal__commit_deadline_passed_with_fewer_commits__accepted(coordinator, rid, trio, chain):
    do_commit(coordinator, rid, trio[0])
    do_commit(coordinator, rid, trio[1])
    chain.mine(deltatime=31)
    assert coordinator.phase(rid) == REVEAL
    do_reveal(coordinator, rid, trio[0])
    assert coordinator.phase(rid) == REVEAL
    do_reveal(coordinator, rid, trio[1])
    assert coordinator.phase(rid) == SETTLE


@pytest.mark.parametrize("wrong", ["salt", "hash"])
def test_reveal__wrong_salt_or_hash__reverts(coordinator, rid, trio, wrong):
    for w in trio:
        do_commit(coordinator, rid, w)
    revealed, salt = result_hash(GOOD), salt_of(trio[0])
    if wrong == "salt":
        salt = b"\x00" * 32
    else:
        revealed = result_hash(BAD)
    with ape.reverts(coordinator.CommitmentMismatch):
        coordinator.reveal(rid, revealed, salt, sender=trio[0])


def test_reveal__copied_commitment__cannot_be_revealed_by_copier(coordinator, rid, trio):
    honest, copier = trio[0], trio[1]
    seen = coordinator.commitmentFor(rid, honest, result_hash(GOOD), salt_of(honest))
    coordinator.commit(rid, seen, sender=honest)
    coordinator.commit(rid, seen, sender=copier)  # a copy is accepted but useless ...
    do_commit(coordinator, rid, trio[2])
    coordinator.reveal(rid, result_hash(GOOD), salt_of(honest), sender=honest)
    with ape.reverts(coordinator.CommitmentMismatch):  # ... it is bound to the honest worker
        coordinator.reveal(rid, result_hash(GOOD), salt_of(honest), sender=copier)


def test_reveal__replayed__reverts(coordinator, rid, trio):
    for w in trio:
        do_commit(coordinator, rid, w)
    do_reveal(coordinator, rid, trio[0])
    with ape.reverts(coordinator.AlreadyRevealed):
        do_reveal(coordinator, rid, trio[0])


def test_reveal__commitment_replayed_on_another_request__reverts(
    coordinator, published_function, requester, rid, trio
):
    first = coordinator.commitmentFor(rid, trio[0], result_hash(GOOD), salt_of(trio[0]))
    tx = coordinator.requestExecution(
        published_function, INPUT, b"", value=REWARD, sender=requester
    )
    other = request_of(tx, coordinator)
    coordinator.commit(other, first, sender=trio[0])
    for w in trio[1:]:
        do_commit(coordinator, other, w)
    with ape.reverts(coordinator.CommitmentMismatch):  # bound to the request id
        do_reveal(coordinator, other, trio[0])


def test_reveal__not_committed__reverts(coordinator, rid, registered_workers):
    for w in registered_workers[:3]:
        do_commit(coordinator, rid, w)
    with ape.reverts(coordinator.NotCommitted):
        do_reveal(coordinator, rid, registered_workers[3])


def test_reveal__after_reveal_deadline__reverts(coordinator, rid, trio, chain):
    for w in trio:
        do_commit(coordinator, rid, w)
    chain.pending_timestamp = coordinator.getRequest(rid).revealDeadline
    with ape.reverts(coordinator.WrongPhase):
        do_reveal(coordinator, rid, trio[0])


def test_reveal__unknown_request__reverts(coordinator, trio):
    with ape.reverts(coordinator.UnknownRequest):
        coordinator.reveal(b"\x01" * 32, result_hash(GOOD), SALT, sender=trio[0])


# ---------------------------------------------------------------------------- finalize


def test_finalize__all_revealed__settles_early_and_splits_reward(
    coordinator, worker_registry, rid, trio, requester
):
    for w in trio:
        do_commit(coordinator, rid, w)
    for w in trio:
        do_reveal(coordinator, rid, w)
    assert coordinator.phase(rid) == SETTLE  # no waiting for the reveal deadline

    tx = coordinator.finalize(rid, sender=requester)

    bonus = REWARD * 2000 // 10_000
    share = (REWARD - bonus) // 3
    top = REWARD - 2 * share
    assert (
        coordinator.RequestFinalized(
            requestId=rid, resultHash=result_hash(GOOD), fastest=trio[0], agreeing=3
        )
        in tx.events
    )
    rewarded = {e.worker: e.amount for e in tx.events.filter(coordinator.WorkerRewarded)}
    assert rewarded == {trio[0].address: top, trio[1].address: share, trio[2].address: share}
    assert [coordinator.pendingWithdrawal(w) for w in trio] == [top, share, share]
    assert sum(rewarded.values()) == REWARD
    r = coordinator.getRequest(rid)
    assert (r.status, r.resultHash, r.fastest) == (S_FINALIZED, result_hash(GOOD), trio[0])
    assert coordinator.phase(rid) == FINALIZED
    assert all(worker_registry.getWorker(w).locked == 0 for w in trio)
    assert tuple(worker_registry.reputation(trio[0])) == (1, 1, 0, 0)
    assert tuple(worker_registry.reputation(trio[1])) == (0, 1, 0, 0)
    assert coordinator.balance == owed(coordinator, trio)


def test_finalize__uneven_reward__dust_goes_to_fastest(
    coordinator, published_function, requester, trio
):
    reward = 10**15 + 7
    tx = coordinator.requestExecution(
        published_function, INPUT, b"", value=reward, sender=requester
    )
    rid = request_of(tx, coordinator)
    for w in trio:
        do_commit(coordinator, rid, w)
    for w in trio:
        do_reveal(coordinator, rid, w)
    coordinator.finalize(rid, sender=requester)

    paid = [coordinator.pendingWithdrawal(w) for w in trio]
    share = (reward - reward * 2000 // 10_000) // 3
    assert paid[1:] == [share, share]
    assert sum(paid) == reward


def test_finalize__liar_first__bonus_to_earliest_winning_committer_and_liar_slashed(
    coordinator, worker_registry, rid, trio, requester
):
    liar, first_honest, second_honest = trio
    do_commit(coordinator, rid, liar, BAD)
    do_commit(coordinator, rid, first_honest)
    do_commit(coordinator, rid, second_honest)
    do_reveal(coordinator, rid, liar, BAD)
    do_reveal(coordinator, rid, second_honest)
    do_reveal(coordinator, rid, first_honest)
    stake = worker_registry.getWorker(liar).stake

    tx = coordinator.finalize(rid, sender=requester)

    p = coordinator.params()
    bonus = REWARD * 2000 // 10_000
    share = (REWARD - bonus) // 2
    assert coordinator.getRequest(rid).fastest == first_honest
    assert coordinator.pendingWithdrawal(first_honest) == REWARD - share
    assert coordinator.pendingWithdrawal(second_honest) == share
    assert coordinator.pendingWithdrawal(liar) == 0
    assert (
        coordinator.WorkerSlashed(
            requestId=rid, worker=liar, amount=p.wrongRevealSlash, reason=WRONG_REVEAL
        )
        in tx.events
    )
    assert worker_registry.getWorker(liar).stake == stake - p.wrongRevealSlash
    assert worker_registry.getWorker(liar).locked == 0
    assert coordinator.treasury() == p.wrongRevealSlash
    assert coordinator.TreasuryCredited(amount=p.wrongRevealSlash) in tx.events
    assert tuple(worker_registry.reputation(liar)) == (0, 0, 1, 0)
    assert tuple(worker_registry.reputation(first_honest)) == (1, 1, 0, 0)
    assert coordinator.balance == owed(coordinator, trio)


def test_finalize__absent_committer__slashed_less_after_reveal_deadline(
    coordinator, worker_registry, rid, trio, requester, chain
):
    for w in trio:
        do_commit(coordinator, rid, w)
    do_reveal(coordinator, rid, trio[0])
    do_reveal(coordinator, rid, trio[1])
    with ape.reverts(coordinator.WrongPhase):  # still waiting for trio[2]
        coordinator.finalize(rid, sender=requester)
    chain.pending_timestamp = coordinator.getRequest(rid).revealDeadline
    stake = worker_registry.getWorker(trio[2]).stake

    tx = coordinator.finalize(rid, sender=requester)

    p = coordinator.params()
    assert p.missedRevealSlash < p.wrongRevealSlash
    assert (
        coordinator.WorkerSlashed(
            requestId=rid, worker=trio[2], amount=p.missedRevealSlash, reason=MISSED_REVEAL
        )
        in tx.events
    )
    assert worker_registry.getWorker(trio[2]).stake == stake - p.missedRevealSlash
    assert worker_registry.getWorker(trio[2]).locked == 0
    assert tuple(worker_registry.reputation(trio[2])) == (0, 0, 0, 1)
    assert coordinator.getRequest(rid).status == S_FINALIZED
    assert coordinator.pendingWithdrawal(trio[0]) + coordinator.pendingWithdrawal(trio[1]) == REWARD


def test_finalize__copier__slashed_as_non_revealer(
    coordinator, worker_registry, rid, trio, requester, chain
):
    honest, copier = trio[0], trio[1]
    seen = coordinator.commitmentFor(rid, honest, result_hash(GOOD), salt_of(honest))
    coordinator.commit(rid, seen, sender=honest)
    coordinator.commit(rid, seen, sender=copier)
    do_commit(coordinator, rid, trio[2])
    do_reveal(coordinator, rid, honest)
    do_reveal(coordinator, rid, trio[2])
    chain.pending_timestamp = coordinator.getRequest(rid).revealDeadline

    tx = coordinator.finalize(rid, sender=requester)

    assert coordinator.getRequest(rid).status == S_FINALIZED
    assert coordinator.pendingWithdrawal(copier) == 0
    slashed = tx.events.filter(coordinator.WorkerSlashed)
    assert [(e.worker, e.reason) for e in slashed] == [(copier.address, MISSED_REVEAL)]


def test_finalize__no_quorum__refunds_requester_and_unlocks_revealers(
    coordinator, worker_registry, rid, trio, requester
):
    for w, result in zip(trio, [GOOD, BAD, b"third"], strict=True):
        do_commit(coordinator, rid, w, result)
    for w, result in zip(trio, [GOOD, BAD, b"third"], strict=True):
        do_reveal(coordinator, rid, w, result)

    tx = coordinator.finalize(rid, sender=requester)

    assert tx.events.filter(coordinator.RequestRefunded) == [
        coordinator.RequestRefunded(requestId=rid, requester=requester, amount=REWARD)
    ]
    assert not tx.events.filter(coordinator.WorkerSlashed)
    assert coordinator.pendingWithdrawal(requester) == REWARD
    assert coordinator.getRequest(rid).status == S_REFUNDED
    assert coordinator.phase(rid) == REFUNDED
    assert all(worker_registry.getWorker(w).locked == 0 for w in trio)
    assert all(tuple(worker_registry.reputation(w)) == (0, 0, 0, 0) for w in trio)


def test_finalize__one_commit_never_revealed__refunds_and_slashes_absent(
    coordinator, worker_registry, rid, trio, requester, chain
):
    do_commit(coordinator, rid, trio[0])
    chain.pending_timestamp = coordinator.getRequest(rid).revealDeadline

    tx = coordinator.finalize(rid, sender=requester)

    p = coordinator.params()
    assert coordinator.pendingWithdrawal(requester) == REWARD
    assert (
        coordinator.WorkerSlashed(
            requestId=rid, worker=trio[0], amount=p.missedRevealSlash, reason=MISSED_REVEAL
        )
        in tx.events
    )
    assert coordinator.treasury() == p.missedRevealSlash
    assert worker_registry.getWorker(trio[0]).locked == 0
    assert coordinator.balance == owed(coordinator, [requester, *trio])


def test_finalize__no_commits__refundable_right_after_commit_deadline(
    coordinator, rid, requester, stranger, chain
):
    with ape.reverts(coordinator.WrongPhase):
        coordinator.finalize(rid, sender=stranger)
    chain.mine(deltatime=31)
    assert coordinator.phase(rid) == SETTLE

    coordinator.finalize(rid, sender=stranger)  # anyone may drive it

    assert coordinator.phase(rid) == REFUNDED
    assert coordinator.pendingWithdrawal(requester) == REWARD


def test_finalize__no_quorum_project_paid__refunds_project_balance(
    coordinator, published_function, gateway, funded_project, chain
):
    before = coordinator.projectAccount(funded_project).balance
    tx = coordinator.requestExecution(published_function, INPUT, b"", sender=gateway)
    rid = request_of(tx, coordinator)
    chain.pending_timestamp = coordinator.getRequest(rid).commitDeadline

    coordinator.finalize(rid, sender=gateway)

    assert coordinator.projectAccount(funded_project).balance == before
    assert coordinator.pendingWithdrawal(gateway) == 0


def test_finalize__twice__reverts(coordinator, rid, requester, chain):
    chain.pending_timestamp = coordinator.getRequest(rid).commitDeadline
    coordinator.finalize(rid, sender=requester)
    with ape.reverts(coordinator.WrongPhase):
        coordinator.finalize(rid, sender=requester)


def test_finalize__during_reveal_phase__reverts(coordinator, rid, trio, requester):
    for w in trio:
        do_commit(coordinator, rid, w)
    with ape.reverts(coordinator.WrongPhase):
        coordinator.finalize(rid, sender=requester)


def test_finalize__unknown_request__reverts(coordinator, requester):
    with ape.reverts(coordinator.UnknownRequest):
        coordinator.finalize(b"\x01" * 32, sender=requester)


# ---------------------------------------------------------------------------- withdraw & treasury


def test_withdraw__after_finalize__pays_exactly(coordinator, rid, trio, requester):
    for w in trio:
        do_commit(coordinator, rid, w)
    for w in trio:
        do_reveal(coordinator, rid, w)
    coordinator.finalize(rid, sender=requester)
    amount = coordinator.pendingWithdrawal(trio[0])
    before = trio[0].balance

    tx = coordinator.withdraw(sender=trio[0])

    assert tx.events == [coordinator.Withdrawn(account=trio[0], amount=amount)]
    assert trio[0].balance == before + amount - tx.total_fees_paid
    assert coordinator.pendingWithdrawal(trio[0]) == 0
    with ape.reverts(coordinator.NothingToWithdraw):
        coordinator.withdraw(sender=trio[0])


def test_withdraw__nothing_pending__reverts(coordinator, stranger):
    with ape.reverts(coordinator.NothingToWithdraw):
        coordinator.withdraw(sender=stranger)


def test_withdraw__receiver_rejects_ether__reverts(
    project, coordinator, published_function, owner, chain, reverts_with
):
    rejecter = project.EtherRejecter.deploy(sender=owner)
    first = coordinator.nextRequestId(rejecter.address)
    call = coordinator.requestExecution.encode_input(published_function, INPUT, b"")
    rejecter.forward(coordinator.address, call, value=REWARD, sender=owner)
    chain.pending_timestamp = coordinator.getRequest(first).commitDeadline
    coordinator.finalize(first, sender=owner)
    assert coordinator.pendingWithdrawal(rejecter.address) == REWARD
    with reverts_with(coordinator.TransferFailed):
        rejecter.forward(coordinator.address, coordinator.withdraw.encode_input(), sender=owner)


def test_withdraw_project_balance__receiver_rejects_ether__reverts(
    project, coordinator, owner, reverts_with
):
    rejecter = project.EtherRejecter.deploy(sender=owner)
    fund = coordinator.fundProject.encode_input(rejecter.address, "shop")
    rejecter.forward(coordinator.address, fund, value=ETHER, sender=owner)
    with reverts_with(coordinator.TransferFailed):
        rejecter.forward(
            coordinator.address,
            coordinator.withdrawProjectBalance.encode_input("shop", ETHER),
            sender=owner,
        )


def test_withdraw_treasury__receiver_rejects_ether__reverts(
    project, coordinator, rid, trio, owner, chain
):
    do_commit(coordinator, rid, trio[0])
    chain.pending_timestamp = coordinator.getRequest(rid).revealDeadline
    coordinator.finalize(rid, sender=owner)
    rejecter = project.EtherRejecter.deploy(sender=owner)
    with ape.reverts(coordinator.TransferFailed):
        coordinator.withdrawTreasury(rejecter, sender=owner)


def test_receive__from_anyone_but_worker_registry__reverts(coordinator, stranger):
    with ape.reverts(coordinator.UnexpectedPayment):
        stranger.transfer(coordinator, 1)


def test_withdraw_treasury__owner__pays_slashed_stake(
    coordinator, rid, trio, owner, stranger, chain
):
    do_commit(coordinator, rid, trio[0])
    chain.pending_timestamp = coordinator.getRequest(rid).revealDeadline
    coordinator.finalize(rid, sender=stranger)
    amount = coordinator.treasury()
    assert amount == coordinator.params().missedRevealSlash
    before = stranger.balance

    tx = coordinator.withdrawTreasury(stranger, sender=owner)

    assert tx.events == [coordinator.TreasuryWithdrawn(to=stranger, amount=amount)]
    assert stranger.balance == before + amount
    assert coordinator.treasury() == 0


def test_withdraw_treasury__not_owner__reverts(coordinator, stranger):
    with ape.reverts(coordinator.NotOwner):
        coordinator.withdrawTreasury(stranger, sender=stranger)


def test_withdraw_treasury__empty__reverts(coordinator, owner):
    with ape.reverts(coordinator.NothingToWithdraw):
        coordinator.withdrawTreasury(owner, sender=owner)


# ---------------------------------------------------------------------------- views


def test_phase__over_time__moves_commit_reveal_settle(coordinator, rid, trio, chain):
    assert coordinator.phase(rid) == COMMIT
    do_commit(coordinator, rid, trio[0])
    chain.mine(deltatime=31)
    assert coordinator.phase(rid) == REVEAL
    chain.mine(deltatime=30)
    assert coordinator.phase(rid) == SETTLE


def test_views__unknown_request__empty_or_reverts(coordinator, stranger, reverts_with):
    unknown = b"\x01" * 32
    assert coordinator.phase(unknown) == NONE
    assert coordinator.committers(unknown) == []
    assert coordinator.getCommitment(unknown, stranger).commitment == b"\x00" * 32
    with reverts_with(coordinator.UnknownRequest):
        coordinator.getRequest(unknown)


def test_commitment_for__matches_wire_commitment(coordinator, rid, trio, chain):
    expected = commitment_of(chain, coordinator, rid, trio[0], GOOD, SALT)
    assert coordinator.commitmentFor(rid, trio[0], result_hash(GOOD), SALT) == expected
    assert coordinator.commitmentFor(rid, trio[1], result_hash(GOOD), SALT) != expected


def test_next_request_id__matches_wire_request_id(coordinator, stranger, chain):
    assert coordinator.nextRequestId(stranger) == request_id_of(
        chain.chain_id, coordinator.address, str(stranger.address), 0
    )


# ---------------------------------------------------------------------------- deployment tooling


def test_ensure_deployment__second_run__reports_existing(project, owner, chain, tmp_path):
    path = tmp_path / "deployments.json"
    first = ensure_deployment(project, owner, path=path)
    assert not first.existing
    assert first.coordinator.workerRegistry() == first.addresses["workers"]
    assert first.workers.coordinator() == first.addresses["coordinator"]

    again = ensure_deployment(project, owner, path=path)

    assert again.existing
    assert again.addresses == first.addresses
    entry = json.loads(path.read_text())[deployment_key(chain)]
    assert entry == {
        **first.addresses,
        "deployer": owner.address,
        "block_number": first.block_number,
    }


def test_load_deployment__recorded_addresses_without_code__none(project, owner, chain, tmp_path):
    path = tmp_path / "deployments.json"
    stale = {
        name: "0x" + f"{i + 1:040x}"
        for i, name in enumerate(("registry", "workers", "coordinator"))
    }
    path.write_text(
        json.dumps({deployment_key(chain): {**stale, "deployer": "0x", "block_number": 1}})
    )
    assert load_deployment(chain, project, path) is None
    assert load_deployment(chain, project, tmp_path / "missing.json") is None


def test_deployment__abis__plain_dicts_for_web3(deployment):
    abis = deployment.abis()
    assert set(abis) == {"registry", "workers", "coordinator"}
    names = {item.get("name") for item in abis["coordinator"]}
    assert {"requestExecution", "ExecutionRequested", "UnknownRequest"} <= names
    assert all(isinstance(item, dict) for abi in abis.values() for item in abi)
    json.dumps(abis)
