"""UnixFS file layout: the CID an IPFS daemon gives the same bytes, computed in Python.

The layout is the one ``ipfs add --cid-version=1`` (js-ipfs and Kubo) uses:
sha2-256, fixed 262,144-byte chunks stored as raw leaves, and a balanced tree of
dag-pb nodes with at most 174 links each. A file of one chunk is that raw leaf
itself. ``cid_version=0`` (with dag-pb leaves) reproduces a default
``ipfs add`` (``Qm...``) so such CIDs can be verified too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from peerhost.storage.cid import DAG_PB, RAW, SHA2_256, cid_from_bytes

CHUNK_SIZE = 262_144
"""Bytes per leaf (the daemon's default ``size-262144`` chunker)."""

MAX_LINKS = 174
"""Links per dag-pb node in the balanced layout."""

_UNIXFS_FILE = 2


@dataclass(frozen=True, slots=True)
class _Node:
    cid: bytes  # binary CID
    content_size: int  # what the parent records in ``blocksizes``
    tsize: int  # cumulative DAG size, the parent link's ``Tsize``


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field_bytes(tag: int, value: bytes | memoryview) -> bytes:
    return bytes([tag]) + _varint(len(value)) + bytes(value)


def _block_cid(block: bytes | memoryview, codec: int, cid_version: int) -> bytes:
    digest = hashlib.sha256(block).digest()
    multihash = bytes([SHA2_256, len(digest)]) + digest
    if cid_version == 0:
        return multihash
    return bytes([1, codec]) + multihash


def _unixfs_file(data: bytes | memoryview, blocksizes: list[int]) -> bytes:
    """Encode a UnixFS ``Data`` message of type File (field order as js-ipfs writes it)."""
    out = bytearray(b"\x08" + bytes([_UNIXFS_FILE]))
    if len(data):
        out += _field_bytes(0x12, data)
    out += b"\x18" + _varint(len(data) + sum(blocksizes))
    for size in blocksizes:
        out += b"\x20" + _varint(size)
    return bytes(out)


def _dag_pb(data: bytes, links: list[_Node]) -> bytes:
    """Encode a dag-pb node: links (Hash, empty Name, Tsize) first, then Data."""
    out = bytearray()
    for link in links:
        body = _field_bytes(0x0A, link.cid) + b"\x12\x00" + b"\x18" + _varint(link.tsize)
        out += _field_bytes(0x12, body)
    out += _field_bytes(0x0A, data)
    return bytes(out)


def _leaf(chunk: memoryview, cid_version: int, raw_leaves: bool) -> _Node:
    if raw_leaves:
        return _Node(_block_cid(chunk, RAW, 1), len(chunk), len(chunk))
    block = _dag_pb(_unixfs_file(chunk, []), [])
    return _Node(_block_cid(block, DAG_PB, cid_version), len(chunk), len(block))


def _parent(children: list[_Node], cid_version: int) -> _Node:
    sizes = [child.content_size for child in children]
    block = _dag_pb(_unixfs_file(b"", sizes), children)
    tsize = len(block) + sum(child.tsize for child in children)
    return _Node(_block_cid(block, DAG_PB, cid_version), sum(sizes), tsize)


def chunks(data: bytes | bytearray | memoryview, size: int = CHUNK_SIZE) -> Iterator[memoryview]:
    """Split bytes into fixed-size chunks without copying; empty input gives one empty chunk."""
    view = memoryview(data).cast("B")
    if not len(view):
        yield view
        return
    for start in range(0, len(view), size):
        yield view[start : start + size]


def file_root(
    pieces: Iterable[memoryview], *, cid_version: int = 1, raw_leaves: bool = True
) -> bytes:
    """Build the balanced UnixFS DAG over already-chunked content; return the binary root CID."""
    if cid_version == 0 and raw_leaves:
        raise ValueError("CIDv0 cannot address raw leaves; pass raw_leaves=False")
    level = [_leaf(piece, cid_version, raw_leaves) for piece in pieces]
    if not level:
        level = [_leaf(memoryview(b""), cid_version, raw_leaves)]
    if len(level) == 1:
        return level[0].cid
    while len(level) > 1:
        level = [
            _parent(level[start : start + MAX_LINKS], cid_version)
            for start in range(0, len(level), MAX_LINKS)
        ]
    return level[0].cid


def compute_cid_bytes(
    data: bytes | bytearray | memoryview, *, cid_version: int = 1, raw_leaves: bool = True
) -> bytes:
    """Return the binary CID a daemon's ``add`` gives ``data`` (see :func:`compute_cid`)."""
    return file_root(chunks(data), cid_version=cid_version, raw_leaves=raw_leaves)


def compute_cid(
    data: bytes | bytearray | memoryview, *, cid_version: int = 1, raw_leaves: bool = True
) -> str:
    """Return the CID an IPFS daemon gives ``data`` on ``add``, without a daemon.

    Args:
        data: the whole content.
        cid_version: 1 (the default, PeerHost's choice) or 0 for ``Qm...`` CIDs.
        raw_leaves: store chunks as raw blocks (the CIDv1 default); must be
            False with ``cid_version=0``.

    Returns:
        CIDv1 in lowercase base32 (``bafk...`` for a single chunk, ``bafy...``
        above), or a base58 ``Qm...`` CIDv0.
    """
    return cid_from_bytes(compute_cid_bytes(data, cid_version=cid_version, raw_leaves=raw_leaves))
