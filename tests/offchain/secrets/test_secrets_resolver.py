"""SecretsResolver: the worker's (owner, project) -> env path, with a CID-keyed cache."""

from __future__ import annotations

import asyncio

import pytest
from secrets_support import CHAIN_ID, EXPIRY, NOW, PROJECT, REGISTRY, VALUES

from peerhost.secrets import (
    BundleBindingMismatch,
    BundleExpired,
    Redactor,
    ResealNeeded,
    SecretsResolver,
)
from peerhost.storage import LocalStore, cid_to_bytes

FUNCTION_ID = bytes(range(32))


class Pointers:
    """The registry's secretsBundle(owner, project), counting reads."""

    def __init__(self) -> None:
        self.cids: dict[tuple[str, str], bytes] = {}
        self.reads = 0
        self.blocks: list[str | None] = []

    async def __call__(self, owner: str, project: str, block: str | None = None) -> bytes:
        self.reads += 1
        self.blocks.append(block)
        return self.cids.get((owner.lower(), project), b"")


class CountingStore(LocalStore):
    gets = 0

    def get(self, cid):  # type: ignore[no-untyped-def]
        self.gets += 1
        return super().get(cid)


@pytest.fixture
def pointers() -> Pointers:
    return Pointers()


@pytest.fixture
def store(tmp_path) -> CountingStore:
    return CountingStore(tmp_path / "store")


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


@pytest.fixture
def resolver_for(pointers, store, redactor, wallet):
    async def function_info(function_id: bytes) -> dict[str, str]:
        assert function_id == FUNCTION_ID
        return {"owner": wallet.address, "project": PROJECT, "name": "orders-create"}

    def _make(worker) -> SecretsResolver:
        return SecretsResolver(
            pointer=pointers,
            function_info=function_info,
            store=store,
            worker_address=worker.address,
            private_key=worker.private_key,
            chain_id=CHAIN_ID,
            registry=REGISTRY,
            redactor=redactor,
        )

    return _make


@pytest.fixture
def published(bundle, pointers, store, wallet) -> bytes:
    cid = cid_to_bytes(store.put(bundle))
    pointers.cids[(wallet.address.lower(), PROJECT)] = cid
    return cid


def test_env_for__no_bundle__empty_env(resolver_for, sealed_workers, wallet):
    env = asyncio.run(resolver_for(sealed_workers[0]).env_for(wallet.address, PROJECT, now=NOW))
    assert env == {}


def test_env_for__published_bundle__values_and_redactor_learns_them(
    resolver_for, sealed_workers, wallet, published, redactor
):
    env = asyncio.run(resolver_for(sealed_workers[0]).env_for(wallet.address, PROJECT, now=NOW))
    assert env == VALUES
    assert redactor.redact(f"x {VALUES['DB_URL']} y") == "x [REDACTED] y"


def test_env_for__second_call__pointer_read_again_bundle_cached(
    resolver_for, sealed_workers, wallet, published, pointers, store
):
    resolver = resolver_for(sealed_workers[0])

    async def twice() -> None:
        await resolver.env_for(wallet.address, PROJECT, now=NOW)
        await resolver.env_for(wallet.address, PROJECT, now=NOW + 1)

    asyncio.run(twice())
    assert pointers.reads == 2
    assert store.gets == 1


def test_env_for__cached_bundle_past_expiry__expired(
    resolver_for, sealed_workers, wallet, published
):
    resolver = resolver_for(sealed_workers[0])

    async def later() -> None:
        await resolver.env_for(wallet.address, PROJECT, now=NOW)
        await resolver.env_for(wallet.address, PROJECT, now=EXPIRY)

    with pytest.raises(BundleExpired):
        asyncio.run(later())


def test_env_for__worker_without_share__reseal_needed(resolver_for, late_worker, wallet, published):
    with pytest.raises(ResealNeeded):
        asyncio.run(resolver_for(late_worker).env_for(wallet.address, PROJECT, now=NOW))


def test_env_for__other_wallet_points_at_this_bundle__binding_mismatch(
    resolver_for, sealed_workers, other_wallet, published, pointers
):
    pointers.cids[(other_wallet.address.lower(), PROJECT)] = published
    with pytest.raises(BundleBindingMismatch):
        asyncio.run(resolver_for(sealed_workers[0]).env_for(other_wallet.address, PROJECT, now=NOW))


def test_env_for_function__function_id__owner_and_project_looked_up(
    resolver_for, sealed_workers, published
):
    resolver = resolver_for(sealed_workers[0])
    assert asyncio.run(resolver.env_for_function(FUNCTION_ID, now=NOW)) == VALUES


def test_env_for__request_block__pointer_read_as_of_that_block(
    resolver_for, sealed_workers, wallet, published, pointers
):
    resolver = resolver_for(sealed_workers[0])

    async def run() -> None:
        await resolver.env_for(wallet.address, PROJECT, now=NOW, block=255)
        await resolver.env_for(wallet.address, PROJECT, now=NOW, block=0)

    asyncio.run(run())
    assert pointers.blocks == ["0xff", None]


class SlowPointers(Pointers):
    """Pointer reads that wait for ``release`` (a read out while other runs ask), failing while
    ``failing`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.failing = False

    async def __call__(self, owner: str, project: str, block: str | None = None) -> bytes:
        self.reads += 1
        self.blocks.append(block)
        await self.release.wait()
        if self.failing:
            raise ConnectionError("the chain is down")
        return self.cids.get((owner.lower(), project), b"")


def test_env_for__runs_at_one_new_block_while_its_read_is_out__one_read_shared(
    sealed_workers, wallet, bundle, store
):
    pointers = SlowPointers()
    pointers.cids[(wallet.address.lower(), PROJECT)] = cid_to_bytes(store.put(bundle))
    worker = sealed_workers[0]
    resolver = SecretsResolver(
        pointer=pointers,
        store=store,
        worker_address=worker.address,
        private_key=worker.private_key,
        chain_id=CHAIN_ID,
        registry=REGISTRY,
    )

    async def runs() -> None:
        def five() -> list[asyncio.Task[dict[str, str]]]:
            return [
                asyncio.ensure_future(resolver.env_for(wallet.address, PROJECT, now=NOW, block=9))
                for _ in range(5)
            ]

        pointers.failing = True
        failed = five()
        await asyncio.sleep(0)
        pointers.release.set()
        outcomes = await asyncio.gather(*failed, return_exceptions=True)
        assert [type(o) for o in outcomes] == [ConnectionError] * 5
        assert pointers.reads == 1  # one read, failed for all: not kept
        pointers.failing = False
        pointers.release.clear()
        first = five()
        await asyncio.sleep(0)
        first[0].cancel()  # a waiter that gives up does not cancel the read for the others
        await asyncio.sleep(0)
        pointers.release.set()
        assert await asyncio.gather(*first[1:]) == [VALUES] * 4
        assert await resolver.env_for(wallet.address, PROJECT, now=NOW, block=9) == VALUES

    asyncio.run(runs())
    assert pointers.reads == 2  # the failed read, then one for every later run at block 9
    assert pointers.blocks == ["0x9", "0x9"]
