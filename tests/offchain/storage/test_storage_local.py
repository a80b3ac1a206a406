"""The embedded store: atomic writes, verified reads, bounded cache, pre-warming."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from peerhost.storage import (
    ContentMismatch,
    ContentNotFound,
    LocalStore,
    ObjectTooLarge,
    StorageError,
    StoreUnavailable,
    cid_str,
    cid_to_bytes,
    compute_cid,
    same_cid,
)

BlobFactory = Callable[..., bytes]
StoreFactory = Callable[..., LocalStore]


def _object_path(store: LocalStore, cid: str) -> Path:
    [path] = [p for p in (store.root / "objects").rglob(cid)]
    return path


def test_put__then_get__returns_same_bytes_and_the_computed_cid(
    local_store: LocalStore, blob: BlobFactory
) -> None:
    data = blob(300_000)

    cid = local_store.put(data)

    assert cid == compute_cid(data)
    assert local_store.get(cid) == data
    assert local_store.has(cid)


def test_put__same_bytes_twice__stored_once(local_store: LocalStore) -> None:
    local_store.put(b"code")
    local_store.put(b"code")

    assert len(local_store) == 1
    assert local_store.total_bytes == 4


def test_put__leaves_no_temporary_files(local_store: LocalStore, blob: BlobFactory) -> None:
    for size in (0, 10, 70_000):
        local_store.put(blob(size))

    assert list((local_store.root / "tmp").iterdir()) == []


def test_get__cid_in_another_base_or_binary__found(local_store: LocalStore) -> None:
    cid = local_store.put(b"function code")
    base58 = cid_str(cid, base="base58btc")

    assert local_store.get(base58) == b"function code"
    assert local_store.get(cid_to_bytes(cid)) == b"function code"


def test_get__missing_cid__raises_content_not_found(local_store: LocalStore) -> None:
    cid = compute_cid(b"never stored")

    with pytest.raises(ContentNotFound) as info:
        local_store.get(cid)

    assert isinstance(info.value, LookupError)
    assert cid in str(info.value)
    assert not local_store.has(cid)


def test_get__object_corrupted_on_disk__refused_logged_and_deleted(
    local_store: LocalStore, caplog: pytest.LogCaptureFixture
) -> None:
    cid = local_store.put(b"honest code")
    _object_path(local_store, cid).write_bytes(b"evil code")

    with (
        caplog.at_level(logging.WARNING, logger="peerhost.storage"),
        pytest.raises(ContentMismatch) as info,
    ):
        local_store.get(cid)

    assert info.value.expected == cid
    assert info.value.actual == compute_cid(b"evil code")
    assert cid in caplog.text and compute_cid(b"evil code") in caplog.text
    assert not local_store.has(cid)


def test_put_for__bytes_of_another_cid__refused(local_store: LocalStore) -> None:
    with pytest.raises(ContentMismatch):
        local_store.put_for(compute_cid(b"a"), b"b")

    assert len(local_store) == 0


def test_put_for__cidv0__stored_under_it_and_verified(local_store: LocalStore) -> None:
    v0 = compute_cid(b"hello world\n", cid_version=0, raw_leaves=False)

    local_store.put_for(v0, b"hello world\n")

    assert local_store.get(v0) == b"hello world\n"


def test_bounded__over_max_bytes__evicts_least_recently_used(
    make_local_store: StoreFactory, blob: BlobFactory
) -> None:
    store = make_local_store(max_bytes=3_000)
    first, second, third = (store.put(blob(1_000, seed=i)) for i in range(3))
    store.get(first)  # first is now more recent than second

    fourth = store.put(blob(1_000, seed=3))

    assert store.total_bytes <= 3_000
    assert not store.has(second)
    assert all(store.has(cid) for cid in (first, third, fourth))


def test_bounded__object_larger_than_bound__raises_object_too_large(
    make_local_store: StoreFactory,
) -> None:
    store = make_local_store(max_bytes=10)

    with pytest.raises(ObjectTooLarge):
        store.put(b"x" * 11)


def test_reopen__index_and_recency_survive(
    make_local_store: StoreFactory, blob: BlobFactory
) -> None:
    store = make_local_store(max_bytes=10_000)
    old, new = store.put(blob(4_000, seed=1)), store.put(blob(4_000, seed=2))
    os.utime(_object_path(store, old), (1, 1))  # last used long ago

    reopened = make_local_store(max_bytes=10_000)
    reopened.put(blob(4_000, seed=3))

    assert reopened.total_bytes == 8_000
    assert not reopened.has(old)
    assert reopened.has(new)


def test_reopen__smaller_bound__evicts_at_start(make_local_store: StoreFactory) -> None:
    store = make_local_store()
    for i in range(5):
        store.put(bytes([i]) * 100)

    assert make_local_store(max_bytes=250).total_bytes == 200


def test_prewarm__fetches_missing_and_reports_failures(
    make_local_store: StoreFactory, blob: BlobFactory
) -> None:
    origin, cache = make_local_store("origin"), make_local_store("cache")
    wanted = [origin.put(blob(500, seed=i)) for i in range(3)]
    already = cache.put(origin.get(wanted[0]))
    absent = compute_cid(b"nobody has this")

    report = cache.prewarm([*wanted, absent], origin)

    assert report.present == [already]
    assert report.fetched == wanted[1:]
    assert list(report.failed) == [absent]
    assert not report.ok
    assert all(cache.has(cid) for cid in wanted)


def test_delete__removes_object(local_store: LocalStore) -> None:
    cid = local_store.put(b"x")

    assert local_store.delete(cid)
    assert not local_store.delete(cid)
    assert local_store.total_bytes == 0
    assert same_cid(cid, compute_cid(b"x"))


def test_put__concurrent_writers__every_object_whole(
    make_local_store: StoreFactory, blob: BlobFactory
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    store = make_local_store(max_bytes=2_000_000)
    payloads = [blob(300_000, seed=i % 4) for i in range(16)]  # 4 distinct, each written 4 times

    with ThreadPoolExecutor(8) as pool:
        cids = list(pool.map(store.put, payloads))

    assert len(set(cids)) == 4
    assert all(store.get(cid) == data for cid, data in zip(cids, payloads, strict=True))
    assert store.total_bytes == 4 * 300_000
    assert list((store.root / "tmp").iterdir()) == []


def _take_down(root: Path) -> None:
    """The store's directory replaced by a file: every read and write of it fails."""
    root.rename(root.with_name(root.name + ".down"))
    root.write_text("the store is down\n")


def test_get__directory_replaced_by_a_file__raises_store_unavailable_saying_what_to_do(
    local_store: LocalStore,
) -> None:
    cid = local_store.put(b"code")
    _take_down(local_store.root)

    with pytest.raises(StoreUnavailable) as info:
        local_store.get(cid)

    assert isinstance(info.value, StorageError) and isinstance(info.value, ConnectionError)
    message = str(info.value)
    assert "cannot read the embedded store" in message
    assert f"Check that {local_store.root} is a directory" in message


def test_get__directory_removed__raises_store_unavailable_not_content_not_found(
    local_store: LocalStore,
) -> None:
    cid = local_store.put(b"code")
    local_store.root.rename(local_store.root.with_name("elsewhere"))

    with pytest.raises(StoreUnavailable, match="cannot read the embedded store"):
        local_store.get(cid)


def test_put__directory_replaced_by_a_file__raises_store_unavailable_and_keeps_nothing(
    local_store: LocalStore,
) -> None:
    _take_down(local_store.root)

    with pytest.raises(StoreUnavailable, match="cannot write the embedded store"):
        local_store.put(b"new code")
    assert len(local_store) == 0 and local_store.total_bytes == 0


def test_open__path_is_a_file__raises_store_unavailable(tmp_path: Path) -> None:
    (tmp_path / "store").write_text("not a directory\n")

    with pytest.raises(StoreUnavailable, match="cannot open the embedded store"):
        LocalStore(tmp_path / "store")


def test_get__store_back_after_being_down__serves_again(local_store: LocalStore) -> None:
    cid = local_store.put(b"code")
    root = local_store.root
    _take_down(root)
    with pytest.raises(StoreUnavailable):
        local_store.get(cid)

    root.unlink()
    root.with_name(root.name + ".down").rename(root)

    assert local_store.get(cid) == b"code"
