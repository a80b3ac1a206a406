"""A complete request cycle on a forked chain, against a deployment that already existed upstream.

The upstream (anvil, chain id 1, loaded from a saved state; see upstream.py) holds the contracts,
developer's published ``shop/orders-create``, its funded project with an authorized gateway, and
three registered workers. ape forks it (``ethereum:mainnet-fork:foundry``) and runs
request -> commit -> reveal -> finalize -> withdraw with nothing deployed on the fork itself.
"""

from __future__ import annotations

from typing import Any

from eth_utils import keccak, to_checksum_address
from web3 import HTTPProvider, Web3

from peerhost.wire import commitment, request_id_of, result_hash

from .conftest import Upstream
from .upstream import DEVELOPER, FUNCTION, GATEWAY, PROJECT, REQUESTER, WORKERS

COMMIT, REVEAL, SETTLE, FINALIZED = 1, 2, 3, 4
INPUT = b'{"body":"","headers":{},"method":"GET","path":"/shop/orders-create","query":""}'
OUTPUT = b'{"body":"{\\"ok\\":true}","headers":{},"status":200}'


def test_fork__request_cycle_on_preexisting_deployment__pays_workers(
    fork: Any, upstream: Upstream, project: Any, accounts: Any, chain: Any
) -> None:
    s = upstream.state
    assert chain.chain_id == 1 and fork.network.name == "mainnet-fork"
    assert chain.blocks.head.number >= s.block_number  # the fork starts at the upstream's head
    registry = project.FunctionRegistry.at(s.registry)
    worker_registry = project.WorkerRegistry.at(s.workers)
    coordinator = project.ExecutionCoordinator.at(s.coordinator)
    developer, gateway, requester = accounts[DEVELOPER], accounts[GATEWAY], accounts[REQUESTER]
    workers = [accounts[i] for i in WORKERS]

    # The pre-existing state, read through the fork.
    function_id = registry.resolve(developer, PROJECT, FUNCTION)[0]
    assert "0x" + bytes(function_id).hex() == s.function_id
    info = registry.getFunction(function_id)
    assert (info.owner, info.activeVersion, info.disabled) == (developer, 1, False)
    assert registry.getVersion(function_id, 1).runtime == "wasi"
    assert (
        coordinator.workerRegistry() == s.workers and worker_registry.coordinator() == s.coordinator
    )
    assert worker_registry.workerCount() == len(workers)
    assert all(worker_registry.isActive(w) for w in workers)
    assert coordinator.projectAccount(s.project_id).balance == s.project_funds
    assert coordinator.isGatewayAuthorized(s.project_id, gateway)

    # Request: the gateway spends the project's prepaid balance; the id is known beforehand.
    request_id = coordinator.nextRequestId(gateway)
    expected_id = request_id_of(1, s.coordinator, gateway.address, 0)
    assert bytes(request_id) == expected_id
    tx = coordinator.requestExecution(
        function_id, INPUT, b"http://gateway.test/inbox", sender=gateway
    )
    [requested] = tx.decode_logs(coordinator.ExecutionRequested)
    # The job, in IExecutionCoordinator.Job order: the active version snapshotted from upstream.
    job = list(requested.job)
    version, runtime, code_cid, input_hash, reward = job[0], job[1], job[2], job[8], job[9]
    assert bytes(requested.requestId) == expected_id
    assert (version, runtime, reward, bytes(input_hash)) == (1, "wasi", s.price, keccak(INPUT))
    assert bytes(code_cid) == bytes(registry.getVersion(function_id, 1).codeCid)
    assert coordinator.projectAccount(s.project_id).balance == s.project_funds - s.price
    assert coordinator.phase(request_id) == COMMIT

    # Commit (K = 3 closes the commit phase), then reveal.
    result = result_hash(OUTPUT)
    salts = [keccak(f"salt-{i}".encode()) for i in range(len(workers))]
    for w, salt in zip(workers, salts, strict=True):
        onchain = coordinator.commitmentFor(request_id, w, result, salt)
        assert bytes(onchain) == commitment(1, s.coordinator, expected_id, w.address, result, salt)
        coordinator.commit(request_id, onchain, sender=w)
    assert coordinator.phase(request_id) == REVEAL
    for w, salt in zip(workers, salts, strict=True):
        coordinator.reveal(request_id, result, salt, sender=w)
    assert coordinator.phase(request_id) == SETTLE

    # Finalize (anyone may): the earliest committer gets the speed bonus and the dust.
    tx = coordinator.finalize(request_id, sender=requester)
    [finalized] = tx.decode_logs(coordinator.RequestFinalized)
    assert (bytes(finalized.resultHash), finalized.fastest, finalized.agreeing) == (
        result,
        workers[0],
        3,
    )
    assert coordinator.phase(request_id) == FINALIZED
    rewards = {str(e.worker): e.amount for e in tx.decode_logs(coordinator.WorkerRewarded)}
    assert sum(rewards.values()) == s.price
    assert (
        rewards[str(workers[0].address)]
        > rewards[str(workers[1].address)]
        == rewards[str(workers[2].address)]
    )

    # Withdraw: pull payments reach the workers; nothing stays owed; stakes are unlocked.
    for w in workers:
        owed = coordinator.pendingWithdrawal(w)
        assert owed == rewards[str(w.address)]
        before = w.balance
        tx = coordinator.withdraw(sender=w)
        assert w.balance == before + owed - tx.total_fees_paid
        assert coordinator.pendingWithdrawal(w) == 0
        assert worker_registry.getWorker(w).locked == 0
        assert worker_registry.reputation(w).jobsAgreed == 1

    # The fork never writes upstream: there, the request does not exist.
    upstream_w3 = Web3(HTTPProvider(upstream.url))
    abi = [a.model_dump(mode="json", by_alias=True) for a in coordinator.contract_type.abi]
    remote = upstream_w3.eth.contract(address=to_checksum_address(s.coordinator), abi=abi)
    assert remote.functions.requestSequence(gateway.address).call() == 0
    assert (
        remote.functions.projectAccount(bytes.fromhex(s.project_id[2:])).call()[0]
        == s.project_funds
    )
