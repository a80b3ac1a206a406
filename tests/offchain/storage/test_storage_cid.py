"""CID text/binary conversions and comparison."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multiformats import CID

from peerhost.errors import PeerHostError
from peerhost.storage import (
    InvalidCid,
    cid_from_bytes,
    cid_str,
    cid_to_bytes,
    compute_cid,
    parse_cid,
    same_cid,
)

EMPTY_RAW = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
EMPTY_RAW_BASE58 = "zb2rhmy65F3REf8SZp7De11gxtECBGgUKaLdiDj7MCGCHxbDW"


def test_cid_to_bytes__raw_cidv1__is_version_codec_multihash() -> None:
    binary = cid_to_bytes(EMPTY_RAW)

    assert binary[:4] == bytes.fromhex("01551220")
    assert binary[4:].hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_cid_from_bytes__base58_input__returns_canonical_base32() -> None:
    assert cid_from_bytes(cid_to_bytes(EMPTY_RAW_BASE58)) == EMPTY_RAW


def test_same_cid__base32_and_base58_of_one_cid__true() -> None:
    assert same_cid(EMPTY_RAW, EMPTY_RAW_BASE58)
    assert same_cid(EMPTY_RAW, cid_to_bytes(EMPTY_RAW_BASE58))
    assert EMPTY_RAW != EMPTY_RAW_BASE58


def test_same_cid__different_content__false() -> None:
    assert not same_cid(compute_cid(b"a"), compute_cid(b"b"))


def test_same_cid__cidv0_and_its_cidv1__false() -> None:
    v0 = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    v1 = str(parse_cid(v0).with_version(1))

    assert cid_to_bytes(v1)[2:] == cid_to_bytes(v0)
    assert not same_cid(v0, v1)
    assert cid_str(v0) == v0


@pytest.mark.parametrize("value", ["", "hello", "bafy", b"\x01\x55", b"", 42])
def test_cid_to_bytes__not_a_cid__raises_invalid_cid(value: object) -> None:
    with pytest.raises(InvalidCid) as info:
        cid_to_bytes(value)  # type: ignore[arg-type]

    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, PeerHostError)
    assert "Invalid CID" in str(info.value)


def test_cid_str__base58btc__matches_daemon_text() -> None:
    assert cid_str(EMPTY_RAW, base="base58btc") == EMPTY_RAW_BASE58


@given(st.binary(max_size=600), st.sampled_from(["base32", "base58btc", "base16", "base36"]))
def test_parse_cid__any_multibase__agrees_with_multiformats(data: bytes, base: str) -> None:
    reference = CID.decode(compute_cid(data))
    text = str(reference.encode(base))

    assert cid_to_bytes(text) == bytes(reference)
    assert cid_str(text) == str(reference.encode("base32"))


@given(st.binary(max_size=2048))
def test_cid_bytes__round_trip__is_identity(data: bytes) -> None:
    cid = compute_cid(data)

    assert cid_from_bytes(cid_to_bytes(cid)) == cid
    assert cid.startswith("bafk")
