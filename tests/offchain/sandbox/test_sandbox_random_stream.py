"""The random stream behind ``random_get`` is the same bytes however it is read: the spec's
concatenated SHAKE256 chunks, for reads of any size, straddling the part of a chunk squeezed
on demand and the chunks' boundaries."""

from __future__ import annotations

import hashlib
import random

import pytest

from peerhost.sandbox.randomness import _DOMAIN, _PARTIAL_BYTES, CHUNK_BYTES, RandomStream

SEED = bytes(range(32))


def _spec(seed: bytes, length: int) -> bytes:
    chunks = -(-length // CHUNK_BYTES)
    return b"".join(
        hashlib.shake_256(_DOMAIN + seed + i.to_bytes(8, "big")).digest(CHUNK_BYTES)
        for i in range(chunks)
    )[:length]


@pytest.mark.parametrize(
    "sizes",
    [
        [8],
        [0, 8, 0, 16],
        [_PARTIAL_BYTES - 1, 1, 1],  # the last squeezed-on-demand byte, then the whole chunk
        [100] * 60,  # many small reads across the partial limit and the first chunk boundary
        [CHUNK_BYTES - 3, 6, CHUNK_BYTES],
        [3 * CHUNK_BYTES + 5, 7],
    ],
)
def test_random_stream__any_read_sizes__the_spec_bytes(sizes: list[int]) -> None:
    stream = RandomStream(SEED)
    read = b"".join(stream.read(n) for n in sizes)
    assert read == _spec(SEED, sum(sizes))


def test_random_stream__random_read_patterns__the_spec_bytes() -> None:
    rng = random.Random(7)
    for _ in range(50):
        seed = rng.randbytes(32)
        sizes = [
            rng.choice([1, 8, 33, 511, 512, 513, 4095, 4097, rng.randrange(9000)])
            for _ in range(12)
        ]
        stream = RandomStream(seed)
        assert b"".join(stream.read(n) for n in sizes) == _spec(seed, sum(sizes))
