"""Check that bytes are the content of a CID; every read in every store goes through here."""

from __future__ import annotations

import hashlib
import logging

from peerhost.storage.cid import DAG_PB, RAW, SHA2_256, CidLike, cid_str, parse_cid
from peerhost.storage.errors import ContentMismatch, InvalidCid
from peerhost.storage.unixfs import compute_cid, compute_cid_bytes

log = logging.getLogger("peerhost.storage")

# The dag-pb layouts tried for a CID, in order: PeerHost's own first.
_DAG_PB_LAYOUTS = {1: ((1, True), (1, False)), 0: ((0, False),)}


def content_matches(data: bytes | bytearray | memoryview, cid: CidLike) -> bool:
    """Tell whether ``data`` is the content of ``cid``.

    A raw CID matches the sha2-256 of the bytes (any size). A dag-pb CID matches
    when the UnixFS file layout of :mod:`peerhost.storage.unixfs` rebuilds it,
    with raw leaves or, for CIDs made elsewhere, dag-pb leaves.

    Raises:
        InvalidCid: the CID uses a hash or codec no layout here can rebuild.
    """
    parsed = parse_cid(cid)
    if parsed.hash_code != SHA2_256:
        raise InvalidCid(str(parsed), f"hash {parsed.hash_name} is not supported")
    expected = parsed.binary
    if parsed.codec == RAW:
        return hashlib.sha256(data).digest() == parsed.digest
    if parsed.codec != DAG_PB:
        raise InvalidCid(str(parsed), f"codec {parsed.codec_name} is not a UnixFS file")
    for version, raw_leaves in _DAG_PB_LAYOUTS[parsed.version]:
        if compute_cid_bytes(data, cid_version=version, raw_leaves=raw_leaves) == expected:
            return True
    return False


def verify(data: bytes, cid: CidLike, where: str) -> bytes:
    """Return ``data`` if it is the content of ``cid``, else refuse it.

    Args:
        data: bytes received from a source.
        cid: the CID they were asked for.
        where: the source, for the message and the log.

    Raises:
        ContentMismatch: the bytes are not the content of ``cid`` (logged with
            both CIDs at WARNING).
        InvalidCid: ``cid`` cannot be verified by any layout here.
    """
    if content_matches(data, cid):
        return data
    expected, actual = cid_str(cid), compute_cid(data)
    log.warning(
        "content refused: expected CID %s, received bytes hash to %s (%d bytes from %s)",
        expected,
        actual,
        len(data),
        where,
    )
    raise ContentMismatch(expected, actual, where)
