"""The pure-Python UnixFS layout (the golden comparisons with a daemon are in test_storage_ipfs)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from peerhost.storage import compute_cid, parse_cid
from peerhost.storage.unixfs import CHUNK_SIZE, MAX_LINKS, chunks

BlobFactory = Callable[[int], bytes]


def test_compute_cid__known_vectors__match_ipfs() -> None:
    assert compute_cid(b"") == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    assert compute_cid(b"", cid_version=0, raw_leaves=False) == (
        "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    )
    assert compute_cid(b"hello world\n", cid_version=0, raw_leaves=False) == (
        "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
    )


def test_compute_cid__one_chunk__is_raw_sha256(blob: BlobFactory) -> None:
    data = blob(CHUNK_SIZE)
    cid = parse_cid(compute_cid(data))

    assert cid.codec_name == "raw"
    assert cid.digest == hashlib.sha256(data).digest()


def test_compute_cid__two_chunks__is_dag_pb(blob: BlobFactory) -> None:
    cid = parse_cid(compute_cid(blob(CHUNK_SIZE + 1)))

    assert cid.codec_name == "dag-pb"
    assert cid.version == 1


def test_compute_cid__one_byte_changed__changes_cid(blob: BlobFactory) -> None:
    data = bytearray(blob(3 * CHUNK_SIZE))
    before = compute_cid(data)
    data[2 * CHUNK_SIZE + 7] ^= 1

    assert compute_cid(data) != before


def test_compute_cid__bytes_bytearray_memoryview__same_cid(blob: BlobFactory) -> None:
    data = blob(CHUNK_SIZE + 5)

    assert compute_cid(data) == compute_cid(bytearray(data)) == compute_cid(memoryview(data))


def test_compute_cid__cidv0_with_raw_leaves__rejected() -> None:
    with pytest.raises(ValueError, match="raw_leaves=False"):
        compute_cid(b"x", cid_version=0)


def test_chunks__exact_multiple__no_trailing_empty_chunk() -> None:
    sizes = [len(c) for c in chunks(bytes(2 * CHUNK_SIZE))]

    assert sizes == [CHUNK_SIZE, CHUNK_SIZE]
    assert [len(c) for c in chunks(b"")] == [0]


def test_max_links__matches_the_daemon_default() -> None:
    assert MAX_LINKS == 174
    assert CHUNK_SIZE == 256 * 1024
