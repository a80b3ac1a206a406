"""open_store: one configuration string to a store."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerhost.storage import (
    ChainedStore,
    HttpGatewaySource,
    InvalidStoreSpec,
    IpfsStore,
    LocalStore,
    open_store,
)
from peerhost.storage.spec import parse_size


def test_open_store__local_scheme__local_store(tmp_path: Path) -> None:
    store = open_store(f"local:{tmp_path}")

    assert isinstance(store, LocalStore)
    assert store.root == tmp_path
    assert store.max_bytes is None


def test_open_store__bare_path__local_store(tmp_path: Path) -> None:
    assert isinstance(open_store(str(tmp_path)), LocalStore)


def test_open_store__max_bytes_with_unit__bounded(tmp_path: Path) -> None:
    store = open_store(f"local:{tmp_path}?max_bytes=2MiB")

    assert isinstance(store, LocalStore)
    assert store.max_bytes == 2 * 1024 * 1024


def test_open_store__ipfs__ipfs_store_with_url_and_timeout() -> None:
    store = open_store("ipfs:http://127.0.0.1:5101?timeout=5&lookup_timeout=0.5")

    assert isinstance(store, IpfsStore)
    assert store.api_url == "http://127.0.0.1:5101"
    assert (store.timeout, store.lookup_timeout) == (5.0, 0.5)


def test_open_store__ipfs_without_url__default_api() -> None:
    store = open_store("ipfs:")

    assert isinstance(store, IpfsStore)
    assert store.api_url == "http://127.0.0.1:5001"


def test_open_store__comma_separated__chain_in_order(tmp_path: Path) -> None:
    store = open_store(f"local:{tmp_path}, ipfs:http://127.0.0.1:5001, gateway:http://gw.test")

    assert isinstance(store, ChainedStore)
    assert [type(s) for s in store.sources] == [LocalStore, IpfsStore, HttpGatewaySource]


def test_open_store__lone_gateway__read_only_chain() -> None:
    assert isinstance(open_store("gateway:http://gw.test"), ChainedStore)


@pytest.mark.parametrize(
    "spec",
    ["", " , ", "s3://bucket", "http://127.0.0.1:5001", "gateway:", "local:", "local:/x?size=1",
     "local:/x?max_bytes=lots", "ipfs:http://h?timeout=soon"],
)  # fmt: skip
def test_open_store__bad_spec__raises_invalid_store_spec(spec: str) -> None:
    with pytest.raises(InvalidStoreSpec) as info:
        open_store(spec)

    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("text", "size"), [("10", 10), ("1kb", 1000), ("1KiB", 1024), ("2 GB", 2 * 10**9)]
)
def test_parse_size__units__bytes(text: str, size: int) -> None:
    assert parse_size(text) == size
