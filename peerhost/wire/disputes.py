"""Disputes (protocol v2 accountability): case keys, tiers, vote commitments and panel seeds, byte for
byte as ``DisputeCourt`` computes them.

**Case**: one leaf's escalation, keyed ``batchId << 8 | index``. **Tiers**: 1 the batch's K-seat
committee, 2 a panel of 2K+1 seats drawn with a fresh seed, 3 a stake-weighted vote of the whole
active set (there is no tier 4).

**Vote commitment** (tiers 2 and 3): ``keccak(abi.encode(chainId, court, batchId, index, tier,
worker, value, salt))``; ``value`` is the result hash (``ABSTAIN``, zero, abstains and is never
slashed).

**Panel seed**: ``keccak(abi.encode(prevrandao, batchId, index, 2))`` with the prevrandao of the
case's seed block (``escalation block + D``), proven from its header like a batch's.
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

TIER_COMMITTEE, TIER_PANEL, TIER_ALL = 1, 2, 3


def case_key(batch_id: int, index: int) -> int:
    """``batchId << 8 | index`` (a batch has at most 256 leaves)."""
    if not 0 <= index < 256:
        raise ValueError(f"A leaf index is 0..255, got {index}.")
    return batch_id << 8 | index


def vote_commitment(
    chain_id: int,
    court: str,
    batch_id: int,
    index: int,
    tier: int,
    worker: str,
    value: bytes,
    salt: bytes,
) -> bytes:
    """What a tier-2 seat or tier-3 voter commits: bound to chain, court, case, tier and voter."""
    return keccak(
        encode(
            ["uint256", "address", "uint256", "uint256", "uint8", "address", "bytes32", "bytes32"],
            [
                chain_id,
                to_checksum_address(court),
                batch_id,
                index,
                tier,
                to_checksum_address(worker),
                value,
                salt,
            ],
        )
    )


def panel_seed(prevrandao: bytes | int, batch_id: int, index: int) -> bytes:
    """A tier-2 panel's seed from the beacon value of its seed block."""
    value = prevrandao if isinstance(prevrandao, int) else int.from_bytes(prevrandao, "big")
    return keccak(
        encode(["uint256", "uint256", "uint256", "uint8"], [value, batch_id, index, TIER_PANEL])
    )


__all__ = [
    "TIER_ALL",
    "TIER_COMMITTEE",
    "TIER_PANEL",
    "case_key",
    "panel_seed",
    "vote_commitment",
]
