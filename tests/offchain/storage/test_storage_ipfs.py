"""Against a real js-ipfs daemon: golden CIDs, publish-then-fetch, missing content, gateway."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from peerhost.storage import (
    ChainedStore,
    ContentNotFound,
    HttpGatewaySource,
    IpfsStore,
    LocalStore,
    cid_from_bytes,
    cid_to_bytes,
    compute_cid,
    open_store,
    same_cid,
)
from peerhost.storage.daemon import IpfsDaemon
from peerhost.storage.unixfs import CHUNK_SIZE, MAX_LINKS

BlobFactory = Callable[..., bytes]

GOLDEN_SIZES = {
    "0 B": 0,
    "18 B": 18,
    "256 KiB": CHUNK_SIZE,
    "256 KiB + 1": CHUNK_SIZE + 1,
    "1 MB": 1_000_000,
    "174 chunks + 1 B": MAX_LINKS * CHUNK_SIZE + 1,
}


def _daemon_add(api_url: str, data: bytes, **params: str) -> str:
    """``ipfs add`` with the daemon's defaults plus ``params``; return the CID it prints."""
    response = httpx.post(
        f"{api_url}/api/v0/add",
        params={"pin": "false", **params},
        files={"file": ("f", data, "application/octet-stream")},
        timeout=120,
    )
    response.raise_for_status()
    hash_: str = response.json()["Hash"]
    return hash_


@pytest.mark.parametrize("size", GOLDEN_SIZES.values(), ids=GOLDEN_SIZES.keys())
def test_compute_cid__golden_sizes__equals_daemon_cid(
    ipfs_daemon: IpfsDaemon, blob: BlobFactory, size: int
) -> None:
    data = blob(size)

    daemon_v1 = _daemon_add(ipfs_daemon.api_url, data, **{"cid-version": "1"})

    assert same_cid(compute_cid(data), daemon_v1)  # js-ipfs prints base58: compare bytes
    if size <= 1_000_000:  # the CIDv0 layout (dag-pb leaves), used only to verify foreign CIDs
        daemon_v0 = _daemon_add(ipfs_daemon.api_url, data)
        assert compute_cid(data, cid_version=0, raw_leaves=False) == daemon_v0


def test_put__then_get__round_trip_pinned(ipfs_store: IpfsStore, blob: BlobFactory) -> None:
    data = blob(700_000, seed=1)

    cid = ipfs_store.put(data)

    assert cid == compute_cid(data)
    assert ipfs_store.has(cid)
    assert ipfs_store.get(cid) == data
    pins = httpx.post(f"{ipfs_store.api_url}/api/v0/pin/ls", params={"arg": cid}).json()
    assert any(same_cid(pinned, cid) for pinned in pins["Keys"])  # Kubo: {"Keys": {cid: ...}}


def test_get__missing_cid__content_not_found_within_lookup_timeout(
    ipfs_store: IpfsStore, blob: BlobFactory
) -> None:
    cid = compute_cid(blob(100, seed=404))
    started = time.monotonic()

    with pytest.raises(ContentNotFound) as info:
        ipfs_store.get(cid)

    assert time.monotonic() - started < 5
    assert cid in str(info.value)
    assert not ipfs_store.has(cid)


def test_pin__missing_cid__content_not_found(ipfs_store: IpfsStore, blob: BlobFactory) -> None:
    with pytest.raises(ContentNotFound):
        ipfs_store.pin(compute_cid(blob(10, seed=405)))


def test_version__answers(ipfs_store: IpfsStore) -> None:
    assert ipfs_store.version()["Version"]


def test_publish_then_fetch__worker_reads_through_cache_and_daemon(
    ipfs_daemon: IpfsDaemon, tmp_path: Path, blob: BlobFactory
) -> None:
    code = blob(400_000, seed=2)
    publisher = open_store(f"ipfs:{ipfs_daemon.api_url}?lookup_timeout=1")
    assert isinstance(publisher, IpfsStore)
    with publisher:
        on_chain = cid_to_bytes(publisher.put(code))  # what the registry records

    worker = open_store(f"local:{tmp_path}?max_bytes=1MiB,ipfs:{ipfs_daemon.api_url}")
    assert isinstance(worker, ChainedStore)
    with worker:
        fetched = worker.get(cid_from_bytes(on_chain))

    assert fetched == code
    cache = worker.sources[0]
    assert isinstance(cache, LocalStore)
    assert cache.get(on_chain) == code


def test_gateway__serves_published_content_verified(
    ipfs_store: IpfsStore, gateway_source: HttpGatewaySource, blob: BlobFactory
) -> None:
    data = blob(CHUNK_SIZE * 2 + 3, seed=3)
    cid = ipfs_store.put(data)

    assert gateway_source.get(cid) == data
    assert gateway_source.has(cid)


def test_gateway__missing_cid__content_not_found(
    gateway_source: HttpGatewaySource, blob: BlobFactory
) -> None:
    with pytest.raises(ContentNotFound):
        gateway_source.get(compute_cid(blob(10, seed=406)))


def test_chain__daemon_down__falls_back_to_gateway_and_caches(
    ipfs_store: IpfsStore,
    gateway_source: HttpGatewaySource,
    local_store: LocalStore,
    dead_url: str,
    blob: BlobFactory,
) -> None:
    cid = ipfs_store.put(blob(5_000, seed=4))
    with IpfsStore(dead_url) as down:
        chain = ChainedStore([local_store, down, gateway_source])

        assert chain.get(cid) == blob(5_000, seed=4)
    assert local_store.has(cid)
