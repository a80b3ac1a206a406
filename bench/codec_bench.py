"""What a chain read costs in Python, around its JSON-RPC call: the calldata encoded and the
result decoded by the contract codec (:mod:`peerhost.chain.codec`).

    . bin/env && python bench/codec_bench.py                  # 3,000 rounds, medians in µs
    PYTHONPATH=<other checkout> python bench/codec_bench.py   # the same on another checkout

Every chain read of the gateway and the worker goes through these two steps; on automine, where a
block is mined per transaction, the per-block reads (a batch's record above all: 24 fields) are
per request. Measured on the settlement coordinator's ``getBatch`` (a record with two addresses)
and the gateway registry's ``reserveOf`` (a project's reserve: a small record), warm, back to back.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils.abi import get_abi_output_types

from peerhost.chain.abis import load_abi
from peerhost.chain.codec import ContractCodec


def median_us(step: Callable[[], Any], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        step()
        samples.append(time.perf_counter_ns() - start)
    return round(statistics.median(samples) / 1000, 1)


def sample_result(codec: ContractCodec, name: str) -> bytes:
    """An ``eth_call`` result of ``name`` (one flat record): addresses, bytes and small ints."""
    (types,) = get_abi_output_types(codec._functions[name])  # type: ignore[arg-type]
    fields = types[1:-1].split(",") if types.startswith("(") else [types]
    record = tuple(
        "0x" + "ab" * 20 if f == "address" else bytes(int(f[5:])) if f.startswith("bytes") else 7
        for f in fields
    )
    return encode([types], [record if types.startswith("(") else record[0]])


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    coordinator = ContractCodec(load_abi("SettlementCoordinator"))
    gateways = ContractCodec(load_abi("GatewayRegistry"))
    batch = sample_result(coordinator, "getBatch")
    reserve = sample_result(gateways, "reserveOf")
    project = bytes(32)
    steps = {
        "encode getBatch(5)": lambda: coordinator.encode_call("getBatch", 5),
        "decode getBatch (24 fields, 2 addresses)": lambda: coordinator.decode_result(
            "getBatch", batch
        ),
        "encode reserveOf(project)": lambda: gateways.encode_call("reserveOf", project),
        "decode reserveOf": lambda: gateways.decode_result("reserveOf", reserve),
    }
    for step in steps.values():  # warm: imports, the codec's own first use
        median_us(step, 200)
    load = os.getloadavg()[0]
    for name, step in steps.items():
        print(f"{median_us(step, rounds):>8.1f} µs  {name}")
    package = Path(sys.modules["peerhost"].__file__ or "").parent
    print(f"load {load:.1f}-{os.getloadavg()[0]:.1f}; package {package}")


if __name__ == "__main__":
    main()
