"""Secrets against the real contracts on ape's anvil: WorkerRegistry keys in, FunctionRegistry pointer out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from secrets_support import WorkerIdentity

from peerhost.chain import ChainConfig, Protocol
from peerhost.secrets import (
    ApeSecretsChain,
    BundleBindingMismatch,
    ResealNeeded,
    SecretsResolver,
    SecretsTool,
    ape_signer,
    generate_worker_keypair,
    open_bundle,
)
from peerhost.storage import LocalStore, cid_from_bytes, cid_to_bytes

PROJECT = "shop"


@pytest.fixture
def chain_snapshot(chain) -> Iterator[None]:
    """The chain as it was before the test's first registration, restored after the test.

    ape's isolation is not relied on here: in a whole-suite run its fixture bookkeeping (after the
    ticket e2e suite, whose session fixtures use ape's ``accounts`` and ``networks``) set ``active``
    up before the module's own snapshot, so one test's registrations reached the next
    (AlreadyRegistered). ``active`` asks for this fixture, so pytest runs it first in any order.
    """
    snapshot = chain.provider.make_request("evm_snapshot", [])
    yield
    assert chain.provider.make_request("evm_revert", [snapshot]) is True, "snapshot not restored"


@pytest.fixture
def worker_keys(workers) -> list[WorkerIdentity]:
    """An X25519 key pair for each would-be worker account."""
    identities = []
    for account in workers:
        private_key, public_key = generate_worker_keypair()
        identities.append(WorkerIdentity(str(account.address), private_key, public_key))
    return identities


@pytest.fixture
def active(
    chain_snapshot, worker_registry, workers, worker_keys, deploy_params
) -> list[WorkerIdentity]:
    """The first three workers, registered with their real keys and the minimum stake."""
    for account, identity in zip(workers[:3], worker_keys[:3], strict=True):
        worker_registry.register(identity.public_key, value=deploy_params.min_stake, sender=account)
    return worker_keys[:3]


@pytest.fixture
def store(tmp_path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture
def tool_for(deployment, store, chain):
    def _make(account) -> SecretsTool:
        return SecretsTool(
            chain=ApeSecretsChain(deployment.registry, deployment.workers, account),
            store=store,
            signer=ape_signer(account),
            owner=str(account.address),
            chain_id=chain.chain_id,
            registry=str(deployment.registry.address),
        )

    return _make


def _open_as(worker, data, owner, registry, chain, project=PROJECT) -> dict[str, str]:
    return open_bundle(
        data,
        worker_address=worker.address,
        worker_private_key=worker.private_key,
        expected_owner=str(owner),
        project=project,
        chain_id=chain.chain_id,
        registry=str(registry.address),
        now=chain.pending_timestamp,
    )


def test_active_workers__registered_with_keys__listed_with_their_keys(
    deployment, developer, active, worker_registry, workers, worker_keys, deploy_params
):
    # A worker that unbonded below the minimum stake is no longer active.
    worker_registry.register(
        worker_keys[3].public_key, value=deploy_params.min_stake, sender=workers[3]
    )
    worker_registry.requestUnbonding(deploy_params.min_stake, sender=workers[3])
    listed = ApeSecretsChain(deployment.registry, deployment.workers, developer).active_workers()
    assert listed == [(w.address, w.public_key) for w in active]


def test_set__real_chain__pointer_set_and_every_active_worker_opens(
    tool_for, developer, active, registry, store, chain
):
    result = tool_for(developer).set(PROJECT, "DB_URL", "postgres://chain-test")
    pointer = bytes(registry.secretsBundle(developer, PROJECT))
    assert pointer == cid_to_bytes(result.cid)
    data = store.get(cid_from_bytes(pointer))
    for worker in active:
        assert _open_as(worker, data, developer.address, registry, chain) == {
            "DB_URL": "postgres://chain-test"
        }


def test_set__real_chain__secrets_bundle_set_event(tool_for, developer, active, registry):
    result = tool_for(developer).set(PROJECT, "DB_URL", "postgres://chain-test")
    logs = list(
        registry.SecretsBundleSet.range(0, None, search_topics={"owner": developer.address})
    )
    assert logs[-1].project == PROJECT
    assert bytes(logs[-1].bundleCid) == cid_to_bytes(result.cid)


def test_reseal__worker_registers_later__gets_a_share(
    tool_for,
    developer,
    active,
    worker_registry,
    workers,
    worker_keys,
    deploy_params,
    registry,
    store,
    chain,
):
    tool = tool_for(developer)
    tool.set(PROJECT, "DB_URL", "postgres://chain-test")
    late = worker_keys[3]
    worker_registry.register(late.public_key, value=deploy_params.min_stake, sender=workers[3])
    data = store.get(cid_from_bytes(bytes(registry.secretsBundle(developer, PROJECT))))
    with pytest.raises(ResealNeeded):
        _open_as(late, data, developer.address, registry, chain)
    tool.reseal(PROJECT)
    data = store.get(cid_from_bytes(bytes(registry.secretsBundle(developer, PROJECT))))
    assert _open_as(late, data, developer.address, registry, chain) == {
        "DB_URL": "postgres://chain-test"
    }


def test_set_secrets_bundle__stranger__cannot_change_the_developers_pointer(
    tool_for, developer, stranger, active, registry, store, chain
):
    result = tool_for(developer).set(PROJECT, "DB_URL", "postgres://chain-test")
    # setSecretsBundle is keyed by msg.sender: the stranger only writes its own project's pointer.
    registry.setSecretsBundle(PROJECT, b"\x01\x55\x12\x20" + bytes(32), sender=stranger)
    assert bytes(registry.secretsBundle(developer, PROJECT)) == cid_to_bytes(result.cid)


def test_open__stranger_points_its_project_at_the_developers_bundle__refused(
    tool_for, developer, stranger, active, registry, store, chain
):
    result = tool_for(developer).set(PROJECT, "DB_URL", "postgres://chain-test")
    registry.setSecretsBundle(PROJECT, cid_to_bytes(result.cid), sender=stranger)
    data = store.get(cid_from_bytes(bytes(registry.secretsBundle(stranger, PROJECT))))
    with pytest.raises(BundleBindingMismatch):
        _open_as(active[0], data, stranger.address, registry, chain)


def test_unset__last_secret__pointer_cleared_on_chain(tool_for, developer, active, registry):
    tool = tool_for(developer)
    tool.set(PROJECT, "DB_URL", "postgres://chain-test")
    tool.unset(PROJECT, "DB_URL")
    assert bytes(registry.secretsBundle(developer, PROJECT)) == b""


def test_resolver__real_protocol__function_env_from_the_registry(
    tool_for, developer, active, deployment, publish, store, chain
):
    function_id = publish()
    tool_for(developer).set(PROJECT, "DB_URL", "postgres://chain-test")
    uri = chain.provider.uri
    config = ChainConfig(
        rpc_url=uri,
        ws_url=uri,
        chain_id=chain.chain_id,
        **{name: str(address) for name, address in deployment.addresses.items()},
    )

    async def resolve() -> dict[str, str]:
        protocol = Protocol(config)
        try:
            resolver = SecretsResolver(
                pointer=protocol.secrets_bundle,
                function_info=protocol.get_function,
                store=store,
                worker_address=active[0].address,
                private_key=active[0].private_key,
                chain_id=config.chain_id,
                registry=config.registry,
            )
            return await resolver.env_for_function(function_id, now=chain.pending_timestamp)
        finally:
            await protocol.aclose()

    assert asyncio.run(resolve()) == {"DB_URL": "postgres://chain-test"}
