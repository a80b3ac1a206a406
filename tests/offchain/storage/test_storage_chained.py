"""Sources tried in order, every answer verified, the cache filled on the way."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peerhost.storage import (
    ChainedStore,
    CidLike,
    ContentMismatch,
    ContentNotFound,
    ContentSource,
    HttpGatewaySource,
    LocalStore,
    StoreReadOnly,
    StoreUnavailable,
    cid_str,
    compute_cid,
)

StoreFactory = Callable[..., LocalStore]


class DictSource:
    """A source that trusts itself: it returns whatever it holds, unverified."""

    def __init__(self, objects: dict[str, bytes] | None = None) -> None:
        self.objects = objects or {}
        self.gets = 0

    def get(self, cid: CidLike) -> bytes:
        self.gets += 1
        try:
            return self.objects[cid_str(cid)]
        except KeyError:
            raise ContentNotFound(cid_str(cid), "dict source") from None

    def has(self, cid: CidLike) -> bool:
        return cid_str(cid) in self.objects


class DownSource:
    def get(self, cid: CidLike) -> bytes:
        raise StoreUnavailable("http://127.0.0.1:9", "down for the test.")

    def has(self, cid: CidLike) -> bool:
        raise StoreUnavailable("http://127.0.0.1:9", "down for the test.")


def test_get__cache_miss__fetched_from_next_source_and_cached(
    make_local_store: StoreFactory,
) -> None:
    cache, origin = make_local_store("cache"), make_local_store("origin")
    cid = origin.put(b"code")
    chain = ChainedStore([cache, origin])

    assert chain.get(cid) == b"code"
    assert cache.get(cid) == b"code"


def test_get__cache_hit__later_sources_not_asked(make_local_store: StoreFactory) -> None:
    cache = make_local_store()
    cid = cache.put(b"code")
    remote = DictSource()

    assert ChainedStore([cache, remote]).get(cid) == b"code"
    assert remote.gets == 0


def test_get__source_sends_wrong_bytes__refused_and_next_source_used(
    make_local_store: StoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    cid = compute_cid(b"honest")
    liar = DictSource({cid: b"evil"})
    honest = DictSource({cid: b"honest"})
    cache = make_local_store()

    with caplog.at_level(logging.WARNING, logger="peerhost.storage"):
        data = ChainedStore([cache, liar, honest]).get(cid)

    assert data == b"honest"
    assert cache.get(cid) == b"honest"
    assert cid in caplog.text and compute_cid(b"evil") in caplog.text


def test_get__only_wrong_bytes_anywhere__raises_content_mismatch(
    make_local_store: StoreFactory,
) -> None:
    cid = compute_cid(b"honest")
    cache = make_local_store()

    with pytest.raises(ContentMismatch) as info:
        ChainedStore([cache, DictSource({cid: b"evil"})]).get(cid)

    assert info.value.expected == cid
    assert not cache.has(cid)


def test_get__missing_everywhere_some_down__raises_content_not_found(
    make_local_store: StoreFactory,
) -> None:
    with pytest.raises(ContentNotFound, match=r"127\.0\.0\.1:9 is unavailable: down for the test"):
        ChainedStore([make_local_store(), DownSource()]).get(compute_cid(b"nowhere"))


def test_get__backing_local_store_replaced_by_a_file__cache_hit_served_miss_says_why(
    make_local_store: StoreFactory, tmp_path: Path
) -> None:
    cache, origin = make_local_store("cache"), make_local_store("origin")
    cached = origin.put(b"cached code")
    fresh = origin.put(b"fresh code")
    chain = ChainedStore([cache, origin])
    chain.get(cached)
    (tmp_path / "origin").rename(tmp_path / "origin.down")
    (tmp_path / "origin").write_text("the store is down\n")

    assert chain.get(cached) == b"cached code"
    with pytest.raises(ContentNotFound, match="cannot read the embedded store"):
        chain.get(fresh)


def test_get__every_source_down__raises_store_unavailable_naming_them() -> None:
    with pytest.raises(StoreUnavailable, match="127.0.0.1:9"):
        ChainedStore([DownSource(), DownSource()]).get(compute_cid(b"x"))


def test_put__writes_to_every_writable_source(make_local_store: StoreFactory) -> None:
    first, second = make_local_store("a"), make_local_store("b")
    gateway = HttpGatewaySource("http://127.0.0.1:9")

    cid = ChainedStore([first, gateway, second]).put(b"published")

    assert first.has(cid) and second.has(cid)


def test_put__gateways_only__raises_store_read_only() -> None:
    with pytest.raises(StoreReadOnly):
        ChainedStore([HttpGatewaySource("http://127.0.0.1:9")]).put(b"x")


def test_has__skips_unreachable_sources(make_local_store: StoreFactory) -> None:
    store = make_local_store()
    cid = store.put(b"here")

    chain = ChainedStore([DownSource(), store])

    assert chain.has(cid)
    assert not chain.has(compute_cid(b"elsewhere"))


def test_prewarm__fills_the_cache_through_the_chain(make_local_store: StoreFactory) -> None:
    cache, origin = make_local_store("cache"), make_local_store("origin")
    wanted = [origin.put(bytes([i]) * 10) for i in range(3)]
    cache.put(bytes([0]) * 10)
    missing = compute_cid(b"nowhere")

    report = ChainedStore([cache, DownSource(), origin]).prewarm([*wanted, missing])

    assert report.present == wanted[:1]
    assert report.fetched == wanted[1:]
    assert list(report.failed) == [missing]
    assert all(cache.has(cid) for cid in wanted)


def test_prewarm__no_local_store__raises_store_read_only() -> None:
    with pytest.raises(StoreReadOnly):
        ChainedStore([DictSource()]).prewarm([compute_cid(b"x")])


@given(
    st.lists(st.sampled_from(["honest", "liar", "empty", "down"]), min_size=1, max_size=5),
    st.binary(max_size=64),
)
def test_get__any_mix_of_sources__returns_only_verified_bytes(
    kinds: list[str], data: bytes
) -> None:
    cid = compute_cid(data)
    make: dict[str, Callable[[], ContentSource]] = {
        "honest": lambda: DictSource({cid: data}),
        "liar": lambda: DictSource({cid: data + b"!"}),
        "empty": DictSource,
        "down": DownSource,
    }
    chain = ChainedStore([make[kind]() for kind in kinds], fill=False)

    try:
        got = chain.get(cid)
    except ContentMismatch:
        assert "liar" in kinds and "honest" not in kinds
    except ContentNotFound:
        assert "empty" in kinds and not {"honest", "liar"} & set(kinds)
    except StoreUnavailable:
        assert set(kinds) == {"down"}
    else:
        assert got == data
        assert "honest" in kinds
