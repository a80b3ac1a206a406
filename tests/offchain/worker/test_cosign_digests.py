"""The co-signer's batch hashes, packed by hand, are the wire format's bytes: the leaf hashes and
root of any batch size, the results hash, and the batch attestation digest."""

from __future__ import annotations

import random

import pytest

from peerhost.wire.batch import (
    Leaf,
    batch_attestation_digest,
    batch_root,
    encode_leaves,
    results_hash,
)
from peerhost.worker.tickets import (
    batch_attestation_digest_of,
    leaf_hashes,
    merkle_root_of,
    results_hash_of,
)

COORDINATOR = "0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6"
GATEWAY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _leaf(rng: random.Random, seq: int) -> Leaf:
    return Leaf(
        seq=seq,
        function_id=rng.randbytes(32),
        version=rng.randrange(1, 2**32),
        input_hash=rng.randbytes(32),
        reward=rng.randrange(2**96),
        issued_at=rng.randrange(2**40),
        deadline=rng.randrange(2**40),
        mode=rng.randrange(3),
        secrets_version=rng.randrange(2**32),
    )


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 9, 33, 256])
def test_batch_hashes__by_hand__equal_the_wire_formats(count: int) -> None:
    rng = random.Random(count)
    leaves = [_leaf(rng, seq) for seq in range(count)]
    blob = encode_leaves(leaves)
    assert leaf_hashes(blob) == [leaf.hash() for leaf in leaves]
    root = merkle_root_of(leaf_hashes(blob))
    assert root == batch_root(leaves)
    results = tuple(rng.randbytes(32) for _ in range(count))
    assert results_hash_of(results) == results_hash(results)
    mask = rng.randrange(1, 2**count)
    batch_id = rng.randrange(2**64)
    for chain_id in (1, 31337):
        assert batch_attestation_digest_of(
            chain_id, COORDINATOR, batch_id, GATEWAY, root, mask, results_hash(results)
        ) == batch_attestation_digest(
            chain_id, COORDINATOR, batch_id, GATEWAY, root, mask, results_hash(results)
        )


def test_batch_hashes__malformed__refused() -> None:
    with pytest.raises(ValueError):
        leaf_hashes(b"\x00" * 102)
    with pytest.raises(ValueError):
        leaf_hashes(b"")
    with pytest.raises(ValueError):
        results_hash_of((b"\x00" * 31,))
    with pytest.raises(ValueError):
        batch_attestation_digest_of(1, COORDINATOR, 1, "0x1234", b"\x00" * 32, 1, b"\x00" * 32)
