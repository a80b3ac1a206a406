"""Fixtures for the content-store tests: stores in tmp dirs and a real js-ipfs daemon."""

from __future__ import annotations

import os
import random
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from peerhost.storage import HttpGatewaySource, IpfsStore, LocalStore
from peerhost.storage.daemon import IpfsDaemon, find_jsipfs, start_daemon

NOT_INSTALLED = (
    "js-ipfs is not installed, so the IPFS daemon tests cannot run: "
    "run `bash tools/ipfs/install.sh` (about 3 minutes, once)."
)


@pytest.fixture(scope="session")
def ipfs_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsDaemon]:
    """A real js-ipfs daemon: offline, loopback only, free ports, empty repo in a tmp dir.

    Fails (in CI, where ``CI`` is set) or skips (elsewhere) when js-ipfs is not installed.
    """
    if find_jsipfs() is None:
        if os.environ.get("CI", "").lower() in ("", "0", "false"):
            pytest.skip(NOT_INSTALLED)
        pytest.fail(NOT_INSTALLED, pytrace=False)
    daemon = start_daemon(tmp_path_factory.mktemp("ipfs-repo"), ready_timeout=120)
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def ipfs_store(ipfs_daemon: IpfsDaemon) -> Iterator[IpfsStore]:
    """A client of the daemon; a missing CID is reported after 1 s."""
    store = IpfsStore(ipfs_daemon.api_url, timeout=60, lookup_timeout=1.0)
    yield store
    store.close()


@pytest.fixture
def gateway_source(ipfs_daemon: IpfsDaemon) -> Iterator[HttpGatewaySource]:
    """The daemon's HTTP gateway as a read-only source."""
    source = HttpGatewaySource(ipfs_daemon.gateway_url, timeout=2.0)
    yield source
    source.close()


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    """An unbounded embedded store in a fresh directory."""
    return LocalStore(tmp_path / "store")


@pytest.fixture
def make_local_store(tmp_path: Path) -> Callable[..., LocalStore]:
    """Factory: ``make_local_store(name, max_bytes=None)`` opens a store under tmp_path."""

    def _make(name: str = "cache", max_bytes: int | None = None) -> LocalStore:
        return LocalStore(tmp_path / name, max_bytes=max_bytes)

    return _make


@pytest.fixture
def blob() -> Callable[[int], bytes]:
    """Factory: ``blob(size, seed=0)`` gives deterministic pseudo-random bytes."""

    def _blob(size: int, seed: int = 0) -> bytes:
        return random.Random(seed * 1_000_003 + size).randbytes(size)

    return _blob


@pytest.fixture
def dead_url() -> str:
    """An http URL on a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
