"""The posted form of a batch: one head (function, version, reward, secrets version) and 51 bytes
per leaf in calldata, standing for the 103-byte leaves the root is built over."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peerhost.wire.batch import (
    POSTED_LEAF_BYTES,
    BatchHead,
    Leaf,
    batch_root,
    decode_posted,
    encode_posted,
)

HEAD = BatchHead(b"\x0f" * 32, 3, 10**15, 2)


def _leaf(seq: int, mode: int = 2) -> Leaf:
    return Leaf(
        seq,
        HEAD.function_id,
        3,
        bytes([seq % 256]) * 32,
        10**15,
        1_700_000_000,
        1_700_000_600,
        mode,
        2,
    )


@given(
    st.lists(
        st.tuples(
            st.integers(0, 2**63 - 1),
            st.binary(min_size=32, max_size=32),
            st.integers(0, 2**40 - 1),
            st.integers(0, 2**40 - 1),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_encode_posted__any_leaves_of_one_head__round_trip_to_the_same_leaves_and_root(
    rows: list[tuple[int, bytes, int, int, int]],
) -> None:
    leaves = [
        Leaf(seq, HEAD.function_id, HEAD.version, h, HEAD.reward, at, dl, mode, 2)
        for seq, h, at, dl, mode in rows
    ]
    head, blob = encode_posted(leaves)
    assert head == HEAD and len(blob) == POSTED_LEAF_BYTES * len(leaves)
    again = decode_posted(head, blob)
    assert again == leaves and batch_root(again) == batch_root(leaves)


def test_encode_posted__leaf_with_another_head_field__value_error_naming_the_leaf() -> None:
    base = [_leaf(1), _leaf(2)]
    for change in (
        {"function_id": b"\x01" * 32},
        {"version": 4},
        {"reward": 1},
        {"secrets_version": 9},
    ):
        mixed = [base[0], dataclasses.replace(base[1], **change)]
        with pytest.raises(ValueError, match="Leaf 1 \\(seq 2\\).*one batch per head"):
            encode_posted(mixed)


@pytest.mark.parametrize("size", [0, POSTED_LEAF_BYTES - 1, POSTED_LEAF_BYTES + 1, 103])
def test_decode_posted__blob_not_a_multiple_of_51_bytes__value_error(size: int) -> None:
    with pytest.raises(ValueError, match="multiple of 51"):
        decode_posted(HEAD, b"\x01" * size)


def test_encode_posted__no_leaves__value_error() -> None:
    with pytest.raises(ValueError, match="at least one leaf"):
        encode_posted([])


def test_batch_head__as_tuple_and_from_args__same_head() -> None:
    fid, version, reward, secrets = HEAD.as_tuple()
    args = {"functionId": fid, "version": version, "reward": reward, "secretsVersion": secrets}
    assert BatchHead.from_args(args) == HEAD
