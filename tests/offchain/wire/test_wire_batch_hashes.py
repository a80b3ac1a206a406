"""A batch's hashes, packed by hand in :mod:`peerhost.wire.batch`, are the ABI's bytes: each leaf
hash from the leaf blob, the root of any batch size, the results hash and the batch attestation
digest, against a reference built with ``eth_abi`` and ``eth_utils.keccak``."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from peerhost.wire.batch import (
    BATCH_ATTESTATION_TYPEHASH,
    MAX_LEAVES,
    Leaf,
    batch_attestation_digest,
    batch_root,
    encode_leaves,
    leaf_hashes,
    merkle_proof,
    merkle_root,
    results_hash,
    verify_proof,
)
from peerhost.wire.ticket import domain_separator

ROOT = Path(__file__).resolve().parents[3]

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


def _reference_root(hashes: list[bytes]) -> bytes:
    level = hashes
    while len(level) > 1:
        level = [
            keccak(level[i] + level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
    return level[0]


def _reference_digest(
    chain_id: int, batch_id: int, gateway: str, root: bytes, mask: int, results: bytes
) -> bytes:
    struct_hash = keccak(
        BATCH_ATTESTATION_TYPEHASH
        + encode(
            ["uint256", "address", "bytes32", "uint256", "bytes32"],
            [batch_id, to_checksum_address(gateway), root, mask, results],
        )
    )
    return keccak(b"\x19\x01" + domain_separator(chain_id, COORDINATOR) + struct_hash)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 9, 33, 256])
def test_batch_hashes__any_size__equal_the_abi_reference(count: int) -> None:
    rng = random.Random(count)
    leaves = [_leaf(rng, seq) for seq in range(count)]
    blob = encode_leaves(leaves)
    hashes = leaf_hashes(blob)
    assert hashes == [keccak(leaf.encode()) for leaf in leaves] == [x.hash() for x in leaves]
    root = _reference_root(hashes)
    assert merkle_root(hashes) == batch_root(leaves) == root
    index = rng.randrange(count)
    assert verify_proof(root, hashes[index], index, count, merkle_proof(hashes, index))
    results = tuple(rng.randbytes(32) for _ in range(count))
    assert results_hash(results) == keccak(b"".join(results))
    mask = rng.randrange(1, 2**count)
    batch_id = rng.randrange(2**64)
    for chain_id in (1, 31337):
        for gateway in (GATEWAY, GATEWAY.lower(), GATEWAY.lower().removeprefix("0x")):
            assert batch_attestation_digest(
                chain_id, COORDINATOR, batch_id, gateway, root, mask, results_hash(results)
            ) == _reference_digest(
                chain_id, batch_id, GATEWAY, root, mask, keccak(b"".join(results))
            )


@pytest.mark.parametrize(
    "call",
    [
        lambda: leaf_hashes(b"\x00" * 102),
        lambda: leaf_hashes(b""),
        lambda: merkle_root([]),
        lambda: results_hash((b"\x00" * 31,)),
        lambda: batch_attestation_digest(1, COORDINATOR, 1, "0x1234", bytes(32), 1, bytes(32)),
        lambda: batch_attestation_digest(
            1, COORDINATOR, 1, "0x" + "zz" * 20, bytes(32), 1, bytes(32)
        ),
        lambda: batch_attestation_digest(1, COORDINATOR, 1, GATEWAY, bytes(31), 1, bytes(32)),
        lambda: batch_attestation_digest(1, COORDINATOR, 1, GATEWAY, bytes(32), 1, bytes(33)),
        lambda: batch_attestation_digest(
            1, COORDINATOR, 1, GATEWAY, bytes(32), 1 << 256, bytes(32)
        ),
        lambda: batch_attestation_digest(1, COORDINATOR, -1, GATEWAY, bytes(32), 1, bytes(32)),
    ],
    ids=[
        "short-leaf",
        "no-leaf",
        "no-hash",
        "short-result",
        "short-gateway",
        "not-hex-gateway",
        "short-root",
        "long-results-hash",
        "mask-past-256-bits",
        "negative-batch-id",
    ],
)
def test_batch_hashes__malformed__value_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


def test_max_leaves__wire__the_contracts_cap() -> None:
    source = (ROOT / "contracts" / "libraries" / "ProtocolParamsLib.sol").read_text()
    found = re.search(r"uint256 internal constant MAX_LEAVES = (\d+);", source)
    assert found is not None and int(found[1]) == MAX_LEAVES
