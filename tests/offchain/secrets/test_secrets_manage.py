"""SecretsTool: set, rotate, unset, list and re-seal through the bundle's owner share (fake chain)."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from secrets_support import CHAIN_ID, NOW, PROJECT, REGISTRY, WorkerIdentity

from peerhost.secrets import (
    Bundle,
    NoSecretsBundle,
    OwnerShareUnreadable,
    ResealNeeded,
    SecretNotSet,
    SecretsTool,
    as_signer,
    generate_worker_keypair,
    list_secrets,
    open_bundle,
    seal_bundle,
)
from peerhost.storage import LocalStore, cid_from_bytes, cid_to_bytes


class FakeChain:
    """Registry pointers and the active worker set, in memory."""

    def __init__(self, workers: list[WorkerIdentity]) -> None:
        self.workers = list(workers)
        self.pointers: dict[tuple[str, str], bytes] = {}
        self.owner = ""

    def active_workers(self) -> list[tuple[str, bytes]]:
        return [(w.address, w.public_key) for w in self.workers]

    def bundle_cid(self, owner: str, project: str) -> bytes:
        return self.pointers.get((owner.lower(), project), b"")

    def set_bundle(self, project: str, cid: bytes) -> None:
        self.pointers[(self.owner, project)] = cid


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        self.now += 10
        return self.now


@pytest.fixture
def fake_chain(sealed_workers, wallet) -> FakeChain:
    chain = FakeChain(sealed_workers)
    chain.owner = wallet.address.lower()
    return chain


@pytest.fixture
def store(tmp_path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture
def tool(fake_chain, store, wallet) -> SecretsTool:
    return SecretsTool(
        chain=fake_chain,
        store=store,
        signer=as_signer(wallet.key),
        owner=wallet.address,
        chain_id=CHAIN_ID,
        registry=REGISTRY,
        clock=Clock(),
    )


def _current(tool: SecretsTool, store: LocalStore, project: str = PROJECT) -> bytes:
    return store.get(cid_from_bytes(tool.chain.bundle_cid(tool.owner, project)))


def _open(data: bytes, worker: WorkerIdentity, wallet, now: int = NOW + 1000) -> dict[str, str]:
    return open_bundle(
        data,
        worker_address=worker.address,
        worker_private_key=worker.private_key,
        expected_owner=wallet.address,
        project=PROJECT,
        chain_id=CHAIN_ID,
        registry=REGISTRY,
        now=now,
    )


def test_set__first_secret__bundle_stored_and_pointed_at(tool, store, sealed_workers, wallet):
    result = tool.set(PROJECT, "DB_URL", "postgres://a")
    assert result.cid is not None
    assert tool.chain.bundle_cid(wallet.address, PROJECT) == cid_to_bytes(result.cid)
    assert result.names == ["DB_URL"]
    assert len(result.workers) == 3
    for worker in sealed_workers:
        assert _open(_current(tool, store), worker, wallet) == {"DB_URL": "postgres://a"}


def test_set__second_secret__keeps_the_first_and_its_set_time(tool, store, sealed_workers, wallet):
    tool.set(PROJECT, "DB_URL", "postgres://a")
    first_set_at = tool.listing(PROJECT)[0][1]
    tool.set(PROJECT, "API_KEY", "key-1")
    assert _open(_current(tool, store), sealed_workers[0], wallet) == {
        "API_KEY": "key-1",
        "DB_URL": "postgres://a",
    }
    listed = dict(tool.listing(PROJECT))
    assert listed["DB_URL"] == first_set_at
    assert listed["API_KEY"] > first_set_at


def test_set__rotation__new_bundle_replaces_old_pointer(tool, store, sealed_workers, wallet):
    old = tool.set(PROJECT, "DB_URL", "postgres://old").cid
    new = tool.set(PROJECT, "DB_URL", "postgres://new").cid
    assert old != new
    assert tool.chain.bundle_cid(wallet.address, PROJECT) == cid_to_bytes(new)
    assert _open(_current(tool, store), sealed_workers[0], wallet) == {"DB_URL": "postgres://new"}


def test_set__other_project__independent_bundles(tool, store, wallet):
    tool.set(PROJECT, "DB_URL", "postgres://a")
    tool.set("blog", "DB_URL", "postgres://b")
    assert [n for n, _ in tool.listing("blog")] == ["DB_URL"]
    assert Bundle.from_bytes(_current(tool, store, "blog")).project == "blog"


def test_listing__no_bundle__empty(tool):
    assert tool.listing(PROJECT) == []


def test_unset__one_of_two__removed(tool, store, sealed_workers, wallet):
    tool.set(PROJECT, "DB_URL", "postgres://a")
    tool.set(PROJECT, "API_KEY", "key-1")
    result = tool.unset(PROJECT, "API_KEY")
    assert result.names == ["DB_URL"]
    assert _open(_current(tool, store), sealed_workers[0], wallet) == {"DB_URL": "postgres://a"}


def test_unset__last_secret__pointer_cleared(tool, wallet):
    tool.set(PROJECT, "DB_URL", "postgres://a")
    result = tool.unset(PROJECT, "DB_URL")
    assert result.cid is None
    assert tool.chain.bundle_cid(wallet.address, PROJECT) == b""


def test_unset__unknown_name__secret_not_set(tool):
    tool.set(PROJECT, "DB_URL", "postgres://a")
    with pytest.raises(SecretNotSet):
        tool.unset(PROJECT, "NOPE")


def test_unset_or_reseal__no_bundle__no_secrets_bundle(tool):
    with pytest.raises(NoSecretsBundle):
        tool.unset(PROJECT, "DB_URL")
    with pytest.raises(NoSecretsBundle):
        tool.reseal(PROJECT)


def test_reseal__worker_joined__new_worker_gets_a_share(tool, store, late_worker, wallet):
    tool.set(PROJECT, "DB_URL", "postgres://a")
    with pytest.raises(ResealNeeded):
        _open(_current(tool, store), late_worker, wallet)
    tool.chain.workers.append(late_worker)
    result = tool.reseal(PROJECT)
    assert late_worker.address.lower() in result.workers
    assert _open(_current(tool, store), late_worker, wallet) == {"DB_URL": "postgres://a"}


def test_reseal__worker_left__its_share_dropped(tool, store, sealed_workers, wallet):
    tool.set(PROJECT, "DB_URL", "postgres://a")
    gone = tool.chain.workers.pop()
    tool.reseal(PROJECT)
    with pytest.raises(ResealNeeded):
        _open(_current(tool, store), gone, wallet)


def test_reseal__expired_bundle__fresh_expiry_and_same_values(tool, store, sealed_workers, wallet):
    tool.ttl = 100
    tool.set(PROJECT, "DB_URL", "postgres://a")
    expired_at = Bundle.from_bytes(_current(tool, store)).expires_at
    tool.ttl = 86400
    tool.reseal(PROJECT)
    assert _open(_current(tool, store), sealed_workers[0], wallet, now=expired_at + 1) == {
        "DB_URL": "postgres://a"
    }


def test_set__bundle_without_owner_share__unreadable_unless_fresh(
    tool, store, sealed_workers, wallet
):
    data = seal_bundle(
        {"DB_URL": "postgres://a"},
        tool.chain.active_workers(),
        wallet.key,
        wallet.address,
        PROJECT,
        NOW + 10**6,
        CHAIN_ID,
        REGISTRY,
        now=NOW,
        owner_share=False,
    )
    tool.chain.set_bundle(PROJECT, cid_to_bytes(store.put(data)))
    with pytest.raises(OwnerShareUnreadable, match="Set every value again"):
        tool.set(PROJECT, "API_KEY", "key-1")
    tool.set(PROJECT, "API_KEY", "key-1", fresh=True)
    assert [n for n, _ in list_secrets(_current(tool, store))] == ["API_KEY"]


def test_tool__vault_key__derived_once_per_tool(tool, wallet):
    calls = []
    signer = tool.signer
    tool.signer = lambda message: calls.append(1) or signer(message)
    tool.set(PROJECT, "A_KEY", "value-1")
    tool.set(PROJECT, "B_KEY", "value-2")
    assert len(calls) == 3  # one vault derivation, one signature per bundle


def test_tool__every_operation_and_refusal__no_value_in_any_log_record(
    tool, store, late_worker, wallet, caplog
):
    caplog.set_level(logging.DEBUG)
    values = ["postgres://leak-check-1", "postgres://leak-check-2", "api-leak-check-3"]
    tool.set(PROJECT, "DB_URL", values[0])
    tool.set(PROJECT, "DB_URL", values[1])
    tool.set(PROJECT, "API_KEY", values[2])
    tool.listing(PROJECT)
    tool.reseal(PROJECT)
    with pytest.raises(ResealNeeded) as info:
        _open(_current(tool, store), late_worker, wallet)
    tool.unset(PROJECT, "API_KEY")
    logged = caplog.text + " ".join(repr(r.__dict__) for r in caplog.records) + str(info.value)
    for value in values:
        assert value not in logged


def test_status__no_bundle__none(tool):
    assert tool.status(PROJECT) is None


def test_status__worker_joined_then_reseal__needed_then_cleared(tool, late_worker, sealed_workers):
    tool.set(PROJECT, "DB_URL", "postgres://a")
    tool.chain.workers.append(late_worker)
    status = tool.status(PROJECT)
    assert status is not None
    assert status.names[0][0] == "DB_URL"
    assert status.sealed == [w.address for w in sealed_workers]
    assert status.reseal_needed == [late_worker.address]
    assert not status.expired
    tool.reseal(PROJECT)
    after = tool.status(PROJECT)
    assert after is not None and after.reseal_needed == []


def test_status__worker_rotated_its_key__reseal_needed(tool, sealed_workers):
    tool.set(PROJECT, "DB_URL", "postgres://a")
    rotated = replace(sealed_workers[0], public_key=generate_worker_keypair()[1])
    tool.chain.workers[0] = rotated
    status = tool.status(PROJECT)
    assert status is not None and status.reseal_needed == [rotated.address]


def test_status__past_expiry__expired(tool):
    tool.ttl = 5
    tool.set(PROJECT, "DB_URL", "postgres://a")
    status = tool.status(PROJECT)
    assert status is not None and status.expired
