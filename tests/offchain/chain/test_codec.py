"""The contract codec: calldata and results as the ABI says, its per-function work kept."""

from __future__ import annotations

import os

from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from eth_utils.abi import get_abi_input_types, get_abi_output_types

from peerhost.chain.abis import load_abi
from peerhost.chain.codec import ContractCodec

CONTRACTS = ("SettlementCoordinator", "StakeRegistry", "GatewayRegistry", "FunctionRegistry")


def _address() -> str:
    return "0x" + os.urandom(20).hex()


def test_encode_call__every_function__selector_and_arguments_as_the_abi_says() -> None:
    for contract in CONTRACTS:
        codec = ContractCodec(load_abi(contract))
        for name, entry in codec._functions.items():
            types = get_abi_input_types(entry)  # type: ignore[arg-type]
            if any(t != "address" for t in types):
                continue  # one argument kind is enough to compare the two paths
            args = [_address() for _ in types]
            signature = f"{name}({','.join(types)})"
            expected = keccak(text=signature)[:4] + encode(types, args)
            assert codec.encode_call(name, *args) == expected  # first use
            assert codec.encode_call(name, *args) == expected  # kept


def test_decode_result__a_batch_record__addresses_checksummed_as_before() -> None:
    codec = ContractCodec(load_abi("SettlementCoordinator"))
    entry = codec._functions["getBatch"]
    (types,) = get_abi_output_types(entry)  # type: ignore[arg-type]
    fields = types[1:-1].split(",")
    gateway, poster = _address(), _address()
    values = []
    for field in fields:
        if field == "address":
            values.append(gateway if not values else poster)
        elif field.startswith("bytes"):
            values.append(os.urandom(int(field[5:])))
        else:
            values.append(os.urandom(1)[0])  # fits every uintN
    data = encode([types], [tuple(values)])
    for _ in range(2):  # first use, then kept
        batch = codec.decode_result("getBatch", data)
        addresses = [v for v in batch.values() if isinstance(v, str) and v.startswith("0x")]
        assert addresses == [to_checksum_address(gateway), to_checksum_address(poster)]
        assert list(batch.values()) == [
            to_checksum_address(v) if f == "address" else v
            for f, v in zip(fields, decode([types], data)[0], strict=True)
        ]
