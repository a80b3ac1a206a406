"""The cost of decentralization: HTTP through the whole stack vs the same function in-process.

    . bin/env && python bench/e2e_bench.py                         # 8 clients, 15 s per mode
    . bin/env && python bench/e2e_bench.py --clients 16 --seconds 30 --workers 3

Starts its own stack through the devnet module (an anvil of its own on a free port, the
contracts, a tiny js ``hello`` function, N workers, the gateway; compiled modules are kept in
``.cache/peerhost-bench`` between runs), then:

1. baseline: the same js function run directly in-process through the sandbox, one call after
   another, for ``--seconds``;
2. fast and verified: one client for ``--idle-seconds`` (the unloaded latency), then
   ``--clients`` concurrent HTTP clients (loopback only) call the function's URL for
   ``--seconds`` each (after a short warm-up), every client waiting for its answer before the
   next call.

Prints one JSON object: latency percentiles (ms) and requests per second for each, the ratios
to the baseline, the workers' own timings (where the time goes) and the run's parameters.

Measured 2026-11-25 on a shared 2-core machine (load average 4-12 from other jobs), defaults,
three runs: baseline p50 1.2-2.2 ms (260-610 runs/s); one client: fast p50 84-204 ms, verified
p50 0.25-0.31 s; 8 clients: fast p50 0.7-1.3 s at 5-9 req/s, verified p50 1.6-2.0 s at 4-5
req/s. Workers spend ~88% of their task time waiting on the chain (``rpc`` + ``inclusion``: 8
transactions per request: request, 3 commits, 3 reveals, finalize), ~9% fetching code and ~1%
in the sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.chdir(ROOT)  # ape resolves the project (and ape-config.yaml) from the working directory
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from ape import accounts, networks, project  # noqa: E402
from ape.logging import logger  # noqa: E402

from peerhost.deploy import ETHER  # noqa: E402
from peerhost.devnet.progress import Progress  # noqa: E402
from peerhost.devnet.stack import Devnet, DevnetConfig  # noqa: E402
from peerhost.publishing import Publisher, load_project, prepare_project  # noqa: E402
from peerhost.sandbox import Limits, RunRequest, Sandbox  # noqa: E402
from peerhost.storage import open_store  # noqa: E402
from peerhost.wire import canonical_request  # noqa: E402

PROJECT = "bench"
FUNCTION = "hello"
HELLO_JS = """export async function handler(req) {
  return { status: 200, headers: { "content-type": "text/plain" }, body: "hello " + (req.query.name ?? "world") };
}
"""
STATE_DIR = ROOT / ".cache" / "peerhost-bench"


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    if not samples_ms:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "mean": 0.0, "max": 0.0}
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "p50": pick(0.50),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "mean": round(statistics.fmean(ordered), 2),
        "max": round(ordered[-1], 2),
    }


def baseline(seconds: float) -> dict[str, Any]:
    """The js hello run in-process, sequentially: what one call costs without the network."""
    with tempfile.TemporaryDirectory() as cache:
        sandbox = Sandbox(cache_dir=Path(cache))
        sandbox.warm("js")
        request_id = bytes(32)
        data = canonical_request(
            "GET",
            "/",
            {"name": "bench"},
            {},
            b"",
            request_id=request_id,
            block_timestamp=1_700_000_000,
            wallet="0x" + "11" * 20,
            project=PROJECT,
            function=FUNCTION,
        )
        run = RunRequest(
            runtime="js",
            code=HELLO_JS.encode(),
            code_id="bench",
            input=data,
            request_id=request_id,
            block_timestamp=1_700_000_000,
            limits=Limits(),
        )
        assert b"hello bench" in sandbox.run(run).envelope
        latencies: list[float] = []
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            t0 = time.perf_counter()
            sandbox.run(run)
            latencies.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - started
    return {
        "what": "Sandbox.run in-process, one thread, sequential",
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "latency_ms": percentiles(latencies),
    }


async def load(url: str, mode: str, clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` concurrent callers for ``seconds``; each waits for its answer."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    last: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=180.0, limits=limits) as client:

        async def call() -> None:
            t0 = time.perf_counter()
            try:
                response = await client.get(
                    url, params={"name": "bench"}, headers={"x-peerhost-mode": mode}
                )
                key = str(response.status_code)
                if "x-peerhost-request-id" in response.headers:
                    last[:] = [response.headers["x-peerhost-request-id"]]
                if response.status_code == 200 and response.text != "hello bench":
                    key = "200-wrong-body"
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            statuses[key] = statuses.get(key, 0) + 1
            if key == "200":
                latencies.append((time.perf_counter() - t0) * 1000)

        for _ in range(min(clients, 4)):  # warm-up, not measured
            await call()
        latencies.clear()
        statuses.clear()
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()

        async def caller() -> None:
            while time.perf_counter() < deadline:
                await call()

        await asyncio.gather(*(caller() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "what": f"HTTP GET through the gateway, mode {mode}, {clients} concurrent clients",
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "latency_ms": percentiles(latencies),
        "statuses": statuses,
        "last_request_id": last[0] if last else None,
    }


def drain(gateway_url: str, request_id: str | None, timeout: float = 180.0) -> str:
    """Waits until the last request of a phase settled on-chain (the earlier ones settle first)."""
    if request_id is None:
        return "no request to wait for"
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        status = httpx.get(f"{gateway_url}/_status/requests/{request_id}", timeout=10).json()
        if status.get("status") in ("finalized", "refunded"):
            return f"last request {status['status']} after {time.monotonic() - started:.1f} s"
        time.sleep(0.5)
    return f"last request still pending after {timeout:.0f} s"


def worker_metrics(devnet: Devnet) -> list[dict[str, Any]]:
    out = []
    for proc in devnet.workers:
        try:
            doc = proc.metrics()
        except httpx.HTTPError:
            continue
        out.append(
            {
                key: doc.get(key)
                for key in (
                    "run",
                    "committed",
                    "revealed",
                    "execution_ms_p50",
                    "end_to_end_ms_p50",
                    "commit_ms_p50",
                    "time_s",
                )
                if key in doc
            }
        )
    return out


def start_stack(workers: int, progress: Progress) -> tuple[Devnet, str]:
    config = DevnetConfig(
        workers=workers,
        port=0,
        state_dir=STATE_DIR,
        record=False,
        gateway_settings={"rate_limit": 0.0, "fast_timeout": 60.0, "verified_timeout": 120.0},
        worker_settings={"concurrency": 16, "sandbox_processes": 1},
    )
    devnet = Devnet(config, progress)
    url = devnet.start_chain()
    with networks.ethereum.local.use_provider("foundry", provider_settings={"host": url}):
        deployer, developer = accounts.test_accounts[0], accounts.test_accounts[1]
        devnet.setup_chain(project, deployer, developer)
        folder = STATE_DIR / "bench-project"
        (folder / "functions").mkdir(parents=True, exist_ok=True)
        (folder / "functions" / f"{FUNCTION}.js").write_text(HELLO_JS)
        (folder / "project.json").write_text(json.dumps({"project": PROJECT}))
        assert devnet.deployment is not None
        report = Publisher(
            devnet.deployment.registry, developer, open_store(devnet.store_spec), devnet.gateway_url
        ).publish(load_project(folder))
        prepare_project(
            devnet.deployment.coordinator,
            devnet.deployment.registry,
            developer,
            PROJECT,
            fund=500 * ETHER,
            gateways=(devnet.gateway_key.address,),
        )
    devnet.start_services()
    return devnet, report.urls()[FUNCTION]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (1-64)")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per mode")
    parser.add_argument("--workers", type=int, default=3, help="workers in the stack")
    parser.add_argument(
        "--idle-seconds", type=float, default=5.0, help="seconds of one-client calls per mode"
    )
    args = parser.parse_args(argv)
    clients = max(1, min(64, args.clients))
    seconds = max(1.0, min(120.0, args.seconds))
    logger.set_level("ERROR")
    progress = Progress(lambda line: print(line, file=sys.stderr, flush=True))

    with progress.step(f"Baseline: js hello in-process for {seconds:g} s"):
        base = baseline(seconds)
    devnet, url = start_stack(args.workers, progress)
    try:
        results: dict[str, Any] = {}
        # One client first (the unloaded latency), then the concurrent load. Every fast answer
        # still settles on-chain afterwards, so each phase starts once the chain has caught up.
        phases = [(mode, 1, args.idle_seconds) for mode in ("fast", "verified")]
        phases += [(mode, clients, seconds) for mode in ("fast", "verified")]
        for mode, n, duration in phases:
            key = f"{mode}_one_client" if n == 1 else mode
            with progress.step(f"{mode}: {n} client(s) for {duration:g} s against {url}"):
                results[key] = asyncio.run(load(url, mode, n, duration))
            with progress.step("Waiting for the chain to settle the requests") as detail:
                detail(drain(devnet.gateway_url, results[key].pop("last_request_id", None)))
        metrics = worker_metrics(devnet)
    finally:
        with progress.step("Stopping the stack"):
            devnet.stop()

    base_p50 = base["latency_ms"]["p50"] or 1e-9
    report = {
        "function": f"js {FUNCTION} (QuickJS-NG in the wasmtime sandbox)",
        "params": {"clients": clients, "seconds": seconds, "workers": args.workers},
        "baseline_in_process": base,
        "fast_one_client": results["fast_one_client"],
        "verified_one_client": results["verified_one_client"],
        "fast": results["fast"],
        "verified": results["verified"],
        "ratios": {
            f"{mode}_p50_over_baseline_p50": round(results[mode]["latency_ms"]["p50"] / base_p50, 1)
            for mode in ("fast", "verified")
        }
        | {
            f"baseline_rps_over_{mode}_rps": round(
                base["requests_per_s"] / max(results[mode]["requests_per_s"], 1e-9), 1
            )
            for mode in ("fast", "verified")
        },
        "workers": metrics,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
