"""Fixtures for the secrets tests: an owner wallet, workers' X25519 keys, seal and open factories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from secrets_support import CHAIN_ID, EXPIRY, NOW, PROJECT, REGISTRY, VALUES, WorkerIdentity

from peerhost.secrets import generate_worker_keypair, open_bundle, seal_bundle


def _worker() -> WorkerIdentity:
    private_key, public_key = generate_worker_keypair()
    return WorkerIdentity(Account.create().address, private_key, public_key)


@pytest.fixture
def wallet() -> LocalAccount:
    """The project's owner."""
    return Account.create()


@pytest.fixture
def other_wallet() -> LocalAccount:
    """Someone else's wallet."""
    return Account.create()


@pytest.fixture
def sealed_workers() -> list[WorkerIdentity]:
    """Three workers active when the bundle is sealed."""
    return [_worker() for _ in range(3)]


@pytest.fixture
def late_worker() -> WorkerIdentity:
    """A worker that joined after sealing."""
    return _worker()


@pytest.fixture
def seal(wallet: LocalAccount, sealed_workers: list[WorkerIdentity]) -> Callable[..., bytes]:
    """Factory: a bundle of ``values`` sealed by ``wallet`` to the sealed workers."""

    def _seal(values: dict[str, str] | None = None, **overrides: Any) -> bytes:
        args: dict[str, Any] = {
            "values": VALUES if values is None else values,
            "workers": [(w.address, w.public_key) for w in sealed_workers],
            "owner_key": wallet.key,
            "owner_address": wallet.address,
            "project": PROJECT,
            "expiry": EXPIRY,
            "chain_id": CHAIN_ID,
            "registry_address": REGISTRY,
            "now": NOW,
        }
        args.update(overrides)
        return seal_bundle(**args)

    return _seal


@pytest.fixture
def bundle(seal: Callable[..., bytes]) -> bytes:
    """VALUES sealed for project shop."""
    return seal()


@pytest.fixture
def open_as(
    wallet: LocalAccount, sealed_workers: list[WorkerIdentity]
) -> Callable[..., dict[str, str]]:
    """Factory: opens a bundle as a worker (default: the first sealed one) with overridable expectations."""

    def _open(
        data: bytes, worker: WorkerIdentity | None = None, **overrides: Any
    ) -> dict[str, str]:
        me = worker or sealed_workers[0]
        args: dict[str, Any] = {
            "worker_address": me.address,
            "worker_private_key": me.private_key,
            "expected_owner": wallet.address,
            "project": PROJECT,
            "chain_id": CHAIN_ID,
            "registry": REGISTRY,
            "now": NOW + 60,
        }
        args.update(overrides)
        return open_bundle(data, **args)

    return _open
