"""Block headers as RLP, for proving a block's prevrandao to ``HeaderBeacon``.

``keccak(rlp(header)) == blockhash(n)``; field 13 (``mixHash``) is the block's prevrandao. The
fields are those of ``eth_getBlockByNumber`` in consensus order; the fork-dependent tail
(``baseFeePerGas`` … ``requestsHash``) is included as far as the node reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import rlp
from eth_utils import keccak

_INTEGERS = {
    "difficulty",
    "number",
    "gasLimit",
    "gasUsed",
    "timestamp",
    "baseFeePerGas",
    "blobGasUsed",
    "excessBlobGas",
}
_FIELDS = (
    "parentHash",
    "sha3Uncles",
    "miner",
    "stateRoot",
    "transactionsRoot",
    "receiptsRoot",
    "logsBloom",
    "difficulty",
    "number",
    "gasLimit",
    "gasUsed",
    "timestamp",
    "extraData",
    "mixHash",
    "nonce",
)
_OPTIONAL = (
    "baseFeePerGas",
    "withdrawalsRoot",
    "blobGasUsed",
    "excessBlobGas",
    "parentBeaconBlockRoot",
    "requestsHash",
)


def _value(name: str, raw: Any) -> bytes | int:
    if isinstance(raw, int):
        return raw if name in _INTEGERS else raw.to_bytes(32, "big")
    text = str(raw)
    if name in _INTEGERS:
        return int(text, 16)
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def encode_header(block: Mapping[str, Any]) -> bytes:
    """The RLP header of a JSON-RPC block (``eth_getBlockByNumber`` fields, hex strings)."""
    fields = [_value(name, block[name]) for name in _FIELDS]
    for name in _OPTIONAL:
        if block.get(name) is None:
            break
        fields.append(_value(name, block[name]))
    return bytes(rlp.encode(fields))


def header_of(request: Callable[[str, list[Any]], Any], number: int) -> bytes:
    """The RLP header of block ``number``, checked against the block's own hash.

    Args:
        request: A JSON-RPC call ``(method, params) -> result``.
        number: The block number.
    """
    block = request("eth_getBlockByNumber", [hex(number), False])
    if block is None:
        raise LookupError(f"Block {number} does not exist yet: mine or wait for it.")
    header = encode_header(block)
    expected = str(block["hash"])
    if "0x" + keccak(header).hex() != expected.lower():
        raise ValueError(
            f"Header of block {number} does not hash to {expected}: unknown field set."
        )
    return header


def prevrandao_of(request: Callable[[str, list[Any]], Any], number: int) -> bytes:
    """Block ``number``'s prevrandao (its ``mixHash``)."""
    block = request("eth_getBlockByNumber", [hex(number), False])
    if block is None:
        raise LookupError(f"Block {number} does not exist yet.")
    return bytes.fromhex(str(block["mixHash"])[2:])


__all__ = ["encode_header", "header_of", "prevrandao_of"]
