"""Commit-reveal commitments, computed off-chain exactly as the coordinator computes them."""

from __future__ import annotations

import os

from eth_abi import encode
from eth_utils import keccak, to_canonical_address


def commitment(
    chain_id: int, coordinator: str, request: bytes, worker: str, result: bytes, salt: bytes
) -> bytes:
    """keccak256(abi.encode(chainId, coordinator, requestId, worker, resultHash, salt))."""
    return keccak(
        encode(
            ["uint256", "address", "bytes32", "address", "bytes32", "bytes32"],
            [
                chain_id,
                to_canonical_address(coordinator),
                request,
                to_canonical_address(worker),
                result,
                salt,
            ],
        )
    )


def new_salt() -> bytes:
    """32 random bytes: a commitment's salt, so low-entropy results cannot be guessed."""
    return os.urandom(32)
