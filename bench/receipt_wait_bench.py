"""Receipt waits on a chain that mines a block every second: polls and latency per transaction.

    . bin/env && python bench/receipt_wait_bench.py                  # 30 transactions per way
    . bin/env && python bench/receipt_wait_bench.py --transactions 60 --block-time 2

Starts an anvil of its own (interval mining), then sends transactions one after another from one
:class:`~peerhost.chain.sender.TxSender`, each after a random pause of up to a block (a poster's
sends fall anywhere in a block; the same pause for the two transactions of a pair), and waits for each receipt, two ways interleaved so that both
meet the same machine load:

- ``every_poll``: the sender's block clock forgotten before each wait, so it polls every 20 ms
  from the send to the receipt (the wait before the block clock);
- ``block_clock``: the sender's block clock kept (polls every 20 ms only around the time the next
  block is due, at most a quarter block apart otherwise).

Prints one JSON object: per way, the median and p90 of the receipt polls per transaction and of
the milliseconds from the send to the receipt (its block's mining is the floor: both ways wait
for the same blocks).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time

from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import BlockClock, TxSender
from peerhost.devnet.accounts import derive
from peerhost.devnet.anvil import Anvil
from peerhost.devnet.processes import free_port


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
    }


async def _run(url: str, transactions: int, block_time: float) -> dict[str, object]:
    rpc = RpcClient(url)
    key = derive(5)
    sender = TxSender(rpc, key.private_key, 31337)
    ways: dict[str, dict[str, list[float]]] = {
        way: {"polls": [], "ms": []} for way in ("every_poll", "block_clock")
    }
    kept = sender.blocks
    pause = 0.0
    try:
        for i in range(2 * transactions + 6):
            way = "every_poll" if i % 2 else "block_clock"
            if i % 2 == 0:
                pause = random.uniform(0.0, block_time)
            await asyncio.sleep(pause)  # the same for both ways of a pair
            sender.blocks = kept if way == "block_clock" else BlockClock()
            tx = await sender.send(key.address, b"", gas=21_000)
            start, polls = time.perf_counter(), rpc.calls["eth_getTransactionReceipt"]
            await sender.wait(tx, timeout=30.0)
            if i >= 6:  # the block clock has learnt the chain's pace
                ways[way]["ms"].append((time.perf_counter() - start) * 1000)
                ways[way]["polls"].append(rpc.calls["eth_getTransactionReceipt"] - polls)
    finally:
        await rpc.aclose()
    return {
        way: {"receipt_polls": _quantiles(v["polls"]), "send_to_receipt_ms": _quantiles(v["ms"])}
        for way, v in ways.items()
    } | {"block_interval_learnt_s": kept.interval}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=30, help="per way")
    parser.add_argument("--block-time", type=int, default=1, help="seconds between blocks")
    args = parser.parse_args()
    anvil = Anvil(free_port(), extra_args=("--block-time", str(args.block_time))).start()
    try:
        result = asyncio.run(_run(anvil.url, args.transactions, args.block_time))
    finally:
        anvil.stop()
    print(json.dumps({"block_time_s": args.block_time, "transactions": args.transactions} | result))


if __name__ == "__main__":
    main()
