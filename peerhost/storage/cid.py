"""CID values: parse, convert between text and binary, compare.

PeerHost writes CIDs as CIDv1 in lowercase base32 (``bafy...``/``bafk...``) and
stores them on chain as their binary form (``cid_to_bytes``). Two CIDs are the
same when their binary forms are equal, whatever base their text used.
"""

from __future__ import annotations

from typing import TypeAlias

from multiformats import CID

from peerhost.storage.errors import InvalidCid

CidLike: TypeAlias = str | bytes | CID
"""Anything the store accepts where a CID is expected."""

SHA2_256 = 0x12
RAW = 0x55
DAG_PB = 0x70


def parse_cid(value: CidLike) -> CID:
    """Decode a CID from text (any multibase, or a CIDv0 ``Qm...``) or binary form.

    Raises:
        InvalidCid: the value is not a CID.
    """
    if isinstance(value, CID):
        return value
    if isinstance(value, bytearray | memoryview):
        value = bytes(value)
    if not isinstance(value, str | bytes):
        raise InvalidCid(value, f"expected str or bytes, got {type(value).__name__}")
    if not value:
        raise InvalidCid(value, "empty")
    try:
        return CID.decode(value.strip() if isinstance(value, str) else value)
    except Exception as exc:  # multiformats raises several unrelated types
        raise InvalidCid(value, str(exc) or type(exc).__name__) from exc


def cid_str(value: CidLike) -> str:
    """Return the canonical text of a CID: base32 for CIDv1, base58 ``Qm...`` for CIDv0."""
    cid = parse_cid(value)
    if cid.version == 0:
        return str(cid.encode(None))
    return str(cid.encode("base32"))


def cid_to_bytes(value: CidLike) -> bytes:
    """Return the binary CID, as the chain stores it (``0x01 0x70 0x12 0x20 <digest>``)."""
    return bytes(parse_cid(value))


def cid_from_bytes(data: bytes) -> str:
    """Return the canonical text of a binary CID read from the chain."""
    return cid_str(bytes(data))


def same_cid(a: CidLike, b: CidLike) -> bool:
    """Tell whether two CIDs are the same, comparing their decoded binary forms.

    A CIDv0 and the CIDv1 dag-pb CID of the same digest are different CIDs here,
    as they are on chain.
    """
    return bytes(parse_cid(a)) == bytes(parse_cid(b))
