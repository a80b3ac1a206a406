"""CID values: parse, convert between text and binary, compare.

PeerHost writes CIDs as CIDv1 in lowercase base32 (``bafy...``/``bafk...``) and
stores them on chain as their binary form (``cid_to_bytes``). Two CIDs are the
same when their binary forms are equal, whatever base their text used.

The common forms (binary, base32, base58btc, ``Qm...`` CIDv0, base16) are
decoded here directly, about 100 times faster than through ``multiformats``,
which remains the fallback for every other multibase.
"""

from __future__ import annotations

from base64 import b32decode, b32encode
from dataclasses import dataclass
from typing import TypeAlias

from peerhost.storage.errors import InvalidCid

SHA2_256 = 0x12
RAW = 0x55
DAG_PB = 0x70

_NAMES = {RAW: "raw", DAG_PB: "dag-pb", 0x71: "dag-cbor", 0x0129: "dag-json", SHA2_256: "sha2-256"}
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: i for i, char in enumerate(_B58)}


@dataclass(frozen=True, slots=True)
class Cid:
    """A decoded CID."""

    version: int
    codec: int
    hash_code: int
    digest: bytes
    binary: bytes

    @property
    def codec_name(self) -> str:
        """The codec's multicodec name (``raw``, ``dag-pb``...)."""
        return _NAMES.get(self.codec, hex(self.codec))

    @property
    def hash_name(self) -> str:
        """The hash function's multicodec name (``sha2-256``...)."""
        return _NAMES.get(self.hash_code, hex(self.hash_code))

    def with_version(self, version: int) -> Cid:
        """The same multihash as a CIDv0 (dag-pb sha2-256 only) or CIDv1."""
        if version == 0:
            if (self.codec, self.hash_code) != (DAG_PB, SHA2_256):
                raise InvalidCid(str(self), "only dag-pb sha2-256 CIDs have a CIDv0 form")
            return _parse_binary(self.binary[2:] if self.version == 1 else self.binary)
        multihash = (
            self.binary if self.version == 0 else self.binary[1 + len(_varint(self.codec)) :]
        )
        return _parse_binary(b"\x01" + _varint(self.codec) + multihash)

    def __str__(self) -> str:
        if self.version == 0:
            return _b58encode(self.binary)
        return "b" + b32encode(self.binary).decode("ascii").rstrip("=").lower()

    def __bytes__(self) -> bytes:
        return self.binary


CidLike: TypeAlias = str | bytes | Cid
"""Anything the store accepts where a CID is expected."""


def parse_cid(value: CidLike) -> Cid:
    """Decode a CID from text (any multibase, or a CIDv0 ``Qm...``) or binary form.

    Raises:
        InvalidCid: the value is not a CID.
    """
    if isinstance(value, Cid):
        return value
    if isinstance(value, bytearray | memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return _parse_binary(value)
    if not isinstance(value, str):
        raise InvalidCid(value, f"expected str or bytes, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise InvalidCid(value, "empty")
    try:
        if len(text) == 46 and text.startswith("Qm"):
            binary = _b58decode(text)
        elif text[0] in "bB":
            body = text[1:].upper()
            binary = b32decode(body + "=" * (-len(body) % 8))
        elif text[0] == "z":
            binary = _b58decode(text[1:])
        elif text[0] in "fF":
            binary = bytes.fromhex(text[1:])
        else:
            binary = _multiformats_decode(text)
    except InvalidCid:
        raise
    except Exception as exc:  # binascii.Error, ValueError, multiformats' own errors
        raise InvalidCid(value, str(exc) or type(exc).__name__) from exc
    return _parse_binary(binary, shown=value)


def cid_str(value: CidLike, base: str = "base32") -> str:
    """Return the text of a CID: canonical base32 for CIDv1, ``Qm...`` for CIDv0.

    Args:
        value: the CID in any form.
        base: ``"base32"`` (canonical) or ``"base58btc"`` (``z...``, as js-ipfs
            prints CIDv1); CIDv0 has one form only.
    """
    cid = parse_cid(value)
    if base == "base32" or cid.version == 0:
        return str(cid)
    if base == "base58btc":
        return "z" + _b58encode(cid.binary)
    raise ValueError(f"unsupported base {base!r} (use base32 or base58btc)")


def cid_to_bytes(value: CidLike) -> bytes:
    """Return the binary CID, as the chain stores it (``0x01 0x55 0x12 0x20 <digest>``)."""
    return parse_cid(value).binary


def cid_from_bytes(data: bytes) -> str:
    """Return the canonical text of a binary CID read from the chain."""
    return str(_parse_binary(bytes(data)))


def same_cid(a: CidLike, b: CidLike) -> bool:
    """Tell whether two CIDs are the same, comparing their decoded binary forms.

    A CIDv0 and the CIDv1 dag-pb CID of the same digest are different CIDs here,
    as they are on chain.
    """
    return parse_cid(a).binary == parse_cid(b).binary


def _parse_binary(binary: bytes, shown: object = None) -> Cid:
    shown = binary if shown is None else shown
    if len(binary) == 34 and binary[:2] == b"\x12\x20":
        return Cid(0, DAG_PB, SHA2_256, binary[2:], binary)
    try:
        version, at = _read_varint(binary, 0)
        codec, at = _read_varint(binary, at)
        hash_code, at = _read_varint(binary, at)
        length, at = _read_varint(binary, at)
    except IndexError:
        raise InvalidCid(shown, "truncated") from None
    if version != 1:
        raise InvalidCid(shown, f"unsupported CID version {version}")
    digest = binary[at:]
    if len(digest) != length or (hash_code == SHA2_256 and length != 32):
        raise InvalidCid(shown, f"digest of {len(digest)} bytes, header says {length}")
    return Cid(1, codec, hash_code, digest, binary)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise IndexError("varint too long")


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, rem = divmod(n, 58)
        out.append(_B58[rem])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def _b58decode(text: str) -> bytes:
    n = 0
    for char in text:
        if char not in _B58_INDEX:
            raise ValueError(f"{char!r} is not a base58btc digit")
        n = n * 58 + _B58_INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + n.to_bytes((n.bit_length() + 7) // 8, "big")


def _multiformats_decode(text: str) -> bytes:
    from multiformats import CID

    return bytes(CID.decode(text))
