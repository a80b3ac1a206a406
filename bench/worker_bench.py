"""How many jobs per second one worker sustains on a local chain, and where its time goes.

    python bench/worker_bench.py [--jobs 200] [--concurrency 8] [--sandbox-processes 1]

Starts its own anvil (automine, no tracing), deploys the contracts from the compiled artifacts
with K=1 and quorum 1 (one worker settles a request alone: commit, reveal, finalize), publishes a
js "hello" function into a local store, starts one worker process through the launcher, then
sends ``--jobs`` requests as fast as the client can and waits until the worker has settled all
of them. Prints JSON: jobs/s, latency medians, CPU use of the worker and of anvil, and the
worker's time split (summed over jobs, so it reads as "of the time a job spends in the worker")
between rpc (reads, signing, sending), inclusion (waiting for the node to mine its
transactions), sandbox, fetch (code from the store) and waiting (for a phase to open).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from eth_abi import encode
from eth_utils import to_checksum_address

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from peerhost.chain import ChainConfig, Protocol, RpcClient, TxSender  # noqa: E402
from peerhost.chain.abis import DEFAULT_MANIFEST  # noqa: E402
from peerhost.sandbox import Sandbox  # noqa: E402
from peerhost.storage.cid import cid_to_bytes  # noqa: E402
from peerhost.storage.spec import open_store  # noqa: E402
from peerhost.wire import canonical_request, function_id_of  # noqa: E402
from peerhost.worker import WorkerSettings, start_worker  # noqa: E402

ETHER = 10**18
MNEMONIC_KEYS = [  # anvil's default accounts 0, 3 and 4
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
]
HELLO_JS = b"""export async function handler(req) {
  return { status: 200, body: "hello " + req.body };
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bytecode(name: str) -> bytes:
    manifest = json.loads(DEFAULT_MANIFEST.read_text())
    return bytes.fromhex(manifest["contractTypes"][name]["deploymentBytecode"]["bytecode"][2:])


async def _create(rpc: RpcClient, sender: str, code: bytes) -> str:
    tx = await rpc.call(
        "eth_sendTransaction", [{"from": sender, "data": "0x" + code.hex(), "gas": hex(10**7)}]
    )
    receipt = None
    while receipt is None:
        receipt = await rpc.call("eth_getTransactionReceipt", [tx])
        await asyncio.sleep(0.01)
    return to_checksum_address(receipt["contractAddress"])


async def deploy(rpc_url: str) -> ChainConfig:
    """The three contracts, K=1 / quorum 1, long windows (a backlog must not expire)."""
    rpc = RpcClient(rpc_url)
    owner = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    registry = await _create(
        rpc, owner, _bytecode("FunctionRegistry") + encode(["uint64", "uint64"], [10**10, 2**28])
    )
    workers = await _create(
        rpc, owner, _bytecode("WorkerRegistry") + encode(["uint256", "uint64"], [ETHER, 86400])
    )
    params = (ETHER // 1000, 1, 1, 600, 600, 2000, ETHER // 100, ETHER // 100, ETHER // 500, 16384)
    coordinator = await _create(
        rpc,
        owner,
        _bytecode("ExecutionCoordinator")
        + encode(
            [
                "address",
                "address",
                "(uint256,uint8,uint8,uint64,uint64,uint16,uint256,uint256,uint256,uint32)",
            ],
            [registry, workers, params],
        ),
    )
    chain_id = int(await rpc.call("eth_chainId"), 16)
    config = ChainConfig(
        rpc_url, rpc_url.replace("http", "ws"), chain_id, registry, workers, coordinator
    )
    p = Protocol(config, TxSender(rpc, MNEMONIC_KEYS[0], chain_id), rpc)
    await p.confirm(
        await p.sender.send(
            workers, p.workers.encode_call("setCoordinator", coordinator), gas=200_000
        ),  # type: ignore[union-attr]
        "setCoordinator",
    )
    await rpc.aclose()
    return config


async def publish(config: ChainConfig, code_cid: bytes) -> bytes:
    rpc = RpcClient(config.rpc_url)
    p = Protocol(config, TxSender(rpc, MNEMONIC_KEYS[0], config.chain_id), rpc)
    call = p.registry.encode_call("publish", "bench", "hello", "js", code_cid, 50_000_000, 2**26, 0)
    await p.confirm(await p.sender.send(config.registry, call, gas=800_000), "publish")  # type: ignore[union-attr]
    owner = p.sender.address  # type: ignore[union-attr]
    fid = function_id_of(owner, "bench", "hello")
    await rpc.aclose()
    return fid


async def send_requests(config: ChainConfig, fid: bytes, jobs: int) -> tuple[float, float]:
    """Sends ``jobs`` requests back to back; returns (first sent, last sent) monotonic times."""
    rpc = RpcClient(config.rpc_url)
    sender = TxSender(rpc, MNEMONIC_KEYS[1], config.chain_id)
    p = Protocol(config, sender, rpc)
    first = time.monotonic()
    pending: list[bytes] = []
    for i in range(jobs):
        body = canonical_request(
            "POST", "/", {}, {}, f"job {i}", request_id=bytes(32), block_timestamp=0,
            wallet=sender.address, project="bench", function="hello",
        )  # fmt: skip
        pending.append(await p.request_execution(fid, body, b"", value=ETHER // 1000))
    last = time.monotonic()
    for tx in pending[-1:]:
        await p.confirm(tx, "requestExecution")
    await rpc.aclose()
    return first, last


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--sandbox-processes", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="worker-bench-"))
    port = _free_port()
    anvil = subprocess.Popen(
        [shutil.which("anvil") or "anvil", "--port", str(port), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        rpc_url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.post(rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        config = asyncio.run(deploy(rpc_url))
        store = f"local:{tmp / 'store'}"
        cid = open_store(store).put(HELLO_JS)
        fid = asyncio.run(publish(config, cid_to_bytes(cid)))
        Sandbox(tmp / "sandbox").warm("js")
        settings = WorkerSettings(
            data_dir=tmp / "worker",
            store=store,
            sandbox_cache=tmp / "sandbox",
            sandbox_processes=args.sandbox_processes,
            concurrency=args.concurrency,
            stake=10 * ETHER,
            metrics_port=0,
            withdraw_interval=3600,
            finalize_delay=0,
            log_level="warning",
        )
        worker = start_worker(config, MNEMONIC_KEYS[2], settings, ready_timeout=180)
        cpu0, anvil_cpu0 = _cpu_seconds(worker.pid), _cpu_seconds(anvil.pid)
        first, last_sent = asyncio.run(send_requests(config, fid, args.jobs))
        deadline = time.monotonic() + args.timeout
        while True:
            m = worker.metrics()
            done = m["jobs_by_status"].get("done", 0)
            if (
                done + m["jobs_by_status"].get("failed", 0) + m["missed"] + m["skipped"]
                >= args.jobs
            ):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out with {done}/{args.jobs} done")
            time.sleep(0.05)
        elapsed = time.monotonic() - first
        cpu = _cpu_seconds(worker.pid) - cpu0
        anvil_cpu = _cpu_seconds(anvil.pid) - anvil_cpu0
        spent = m["time_s"]
        total = sum(spent.values())
        report: dict[str, Any] = {
            "jobs": args.jobs,
            "done": done,
            "concurrency": args.concurrency,
            "sandbox_processes": args.sandbox_processes,
            "requests_sent_per_s": round(args.jobs / max(last_sent - first, 1e-9), 1),
            "jobs_per_s": round(done / elapsed, 2),
            "elapsed_s": round(elapsed, 2),
            "worker_cpu_s": round(cpu, 2),
            "worker_cpu_share_of_wall": round(cpu / elapsed, 3),
            "anvil_cpu_share_of_wall": round(anvil_cpu / elapsed, 3),
            "transactions_per_job": 4,
            "execution_ms_p50": m["execution_ms_p50"],
            "commit_ms_p50": m["commit_ms_p50"],
            "end_to_end_ms_p50": m["end_to_end_ms_p50"],
            "job_time_s": spent,
            "job_time_share": {k: round(v / total, 3) for k, v in spent.items()} if total else {},
            "load_average": os.getloadavg(),
            "cpus": os.cpu_count(),
        }
        print(json.dumps(report, indent=2))
    finally:
        if worker is not None:
            worker.stop(timeout=10)
        anvil.terminate()
        anvil.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def _cpu_seconds(pid: int) -> float:
    """User+system CPU of a process and its children that were waited for (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
