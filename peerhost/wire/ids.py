"""The protocol's ids, computed off-chain exactly as the contracts compute them.

- function id: ``keccak256(abi.encode(owner, project, name))`` (``FunctionRegistry.functionIdOf``)
- project id: ``keccak256(abi.encode(owner, project))`` (``FunctionRegistry.projectIdOf``)
- request id: ``keccak256(abi.encode(chainId, coordinator, requester, sequence))``
  (``ExecutionCoordinator.nextRequestId``)
"""

from __future__ import annotations

from functools import lru_cache

from eth_abi import encode
from eth_utils import to_canonical_address, to_checksum_address

from peerhost.wire.keccak import keccak256


@lru_cache(maxsize=4096)
def checksummed(address: str | bytes) -> str:
    """``to_checksum_address(address)``, remembered: a call's hot path checksums the same few
    addresses (the gateway's, its workers', the URL's wallet) over and over, at about 15 µs each.
    Raises ValueError for what is not an address (never remembered)."""
    return to_checksum_address(address)


@lru_cache(maxsize=4096)
def function_id_of(owner: str, project: str, name: str) -> bytes:
    """The 32-byte id of function ``name`` in ``project`` of ``owner`` (remembered: the gateway
    resolves every call's URL to it, and its ABI encoding costs about 30 µs)."""
    return keccak256(
        encode(["address", "string", "string"], [to_canonical_address(owner), project, name])
    )


@lru_cache(maxsize=4096)
def project_id_of(owner: str, project: str) -> bytes:
    """The 32-byte id of ``project`` of ``owner`` (remembered, as :func:`function_id_of`)."""
    return keccak256(encode(["address", "string"], [to_canonical_address(owner), project]))


def request_id_of(chain_id: int, coordinator: str, requester: str, sequence: int) -> bytes:
    """The 32-byte id of the ``sequence``-th request ``requester`` makes to ``coordinator``."""
    return keccak256(
        encode(
            ["uint256", "address", "address", "uint256"],
            [
                chain_id,
                to_canonical_address(coordinator),
                to_canonical_address(requester),
                sequence,
            ],
        )
    )


def request_id_text(request_id: bytes) -> str:
    """``0x`` + 64 hex digits: how a request id travels in URLs, headers and JSON."""
    return "0x" + request_id.hex()
