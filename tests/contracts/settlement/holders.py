"""A seated batch's holder list, read back from its ``BatchSeated`` log (the coordinator keeps only its
hash): what ``commit``, ``reveal``, ``finalize``, ``claimSeatPay`` and the courts' calls take."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from peerhost.chain.settlement import holder_words

SEATED_TOPIC = "0x" + keccak(text="BatchSeated(uint256,bytes32,address[],uint256)").hex()


def seated(
    rpc: Callable[[str, list[Any]], Any], coordinator: str, batch_id: int
) -> tuple[list[str], list[int]]:
    """(holders in first-seat order, their seat counts) of ``batch_id`` (empty before seating);
    ``rpc(method, params)`` answers one JSON-RPC request."""
    logs = rpc(
        "eth_getLogs",
        [
            {
                "address": str(coordinator),
                "fromBlock": "0x0",
                "toBlock": "latest",
                "topics": [SEATED_TOPIC, "0x" + batch_id.to_bytes(32, "big").hex()],
            }
        ],
    )
    if not logs:
        return [], []
    data = logs[-1]["data"]
    _, seats, _ = decode(["bytes32", "address[]", "uint256"], bytes.fromhex(str(data)[2:]))
    counts: dict[str, int] = {}
    for s in seats:
        counts[to_checksum_address(s)] = counts.get(to_checksum_address(s), 0) + 1
    return list(counts), list(counts.values())


def ape_rpc(chain: Any) -> Callable[[str, list[Any]], Any]:
    """JSON-RPC through ape's chain, or through a LeanChain's own client."""
    lean = getattr(chain, "rpc", None)
    if lean is not None:
        return lambda method, params: lean(method, *params)
    return lambda method, params: chain.provider.make_request(method, params)


def words(holders: list[str], seats: list[int]) -> list[int]:
    return holder_words([str(h) for h in holders], seats)
