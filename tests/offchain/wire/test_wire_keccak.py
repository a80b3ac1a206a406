"""The hot path's keccak256 gives eth_utils' bytes, and the remembered ids are the computed ones."""

from __future__ import annotations

import os

import pytest
from eth_abi import encode
from eth_utils import keccak, to_canonical_address

from peerhost.wire.ids import function_id_of, project_id_of
from peerhost.wire.keccak import keccak256

OWNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.mark.parametrize("size", [0, 1, 31, 32, 33, 64, 135, 136, 137, 272, 1000, 70_000])
def test_keccak256__any_length__same_digest_as_eth_utils(size: int) -> None:
    data = os.urandom(size)
    assert keccak256(data) == keccak(data)
    assert keccak256(bytearray(data)) == keccak(data)


def test_keccak256__text__refused_not_hashed_as_something_else() -> None:
    with pytest.raises(TypeError):
        keccak256("0xab")  # type: ignore[arg-type]


def test_function_id_of__remembered__equals_the_abi_encoding_for_each_name() -> None:
    for name in ("hello", "hello", "echo", "hello"):  # hits and misses interleaved
        expected = keccak(
            encode(["address", "string", "string"], [to_canonical_address(OWNER), "demo", name])
        )
        assert function_id_of(OWNER, "demo", name) == expected
    assert project_id_of(OWNER, "demo") == keccak(
        encode(["address", "string"], [to_canonical_address(OWNER), "demo"])
    )
    assert project_id_of(OWNER, "demo2") != project_id_of(OWNER, "demo")


def test_function_id_of__bad_owner__raises_value_error() -> None:
    with pytest.raises(ValueError):
        function_id_of("0x1234", "demo", "hello")
