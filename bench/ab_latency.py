"""Paired latency of two running networks: calls alternate between them, one client, so both see
the same machine at the same moment (a shared machine's load swings more than most changes).

    . bin/env && ape run devnet --port 0 --state-dir /tmp/a --urls-json /tmp/a.json   # checkout A
    . bin/env && ape run devnet --port 0 --state-dir /tmp/b --urls-json /tmp/b.json   # checkout B
    . bin/env && python bench/ab_latency.py /tmp/a.json /tmp/b.json --calls 400

For each mode: the p50/p95 of each network, the median of the paired differences (B - A) and
each p50 as a multiple of the same function run in-process (the js ``clock-and-dice`` example by
default: ``Sandbox.run`` sequentially, measured in the same run). Calls pause ``--pause-ms``
between pairs, so each gateway stays under its per-client rate limit (50/s by default).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peerhost.sandbox import Limits, RunRequest, Sandbox  # noqa: E402
from peerhost.wire import canonical_request  # noqa: E402
from peerhost.wire.headers import MODE_HEADER  # noqa: E402


def baseline(function: str, calls: int) -> list[float]:
    """The example run in-process, one call after another (ms each)."""
    code = (ROOT / "examples" / "functions" / f"{function}.js").read_bytes()
    request_id = bytes(32)
    data = canonical_request(
        "GET",
        "/",
        {},
        {},
        b"",
        request_id=request_id,
        block_timestamp=1_700_000_000,
        wallet="0x" + "11" * 20,
        project="examples",
        function=function,
    )
    run = RunRequest(
        runtime="js",
        code=code,
        code_id=function,
        input=data,
        request_id=request_id,
        block_timestamp=1_700_000_000,
        limits=Limits(),
    )
    out = []
    with tempfile.TemporaryDirectory() as cache:
        sandbox = Sandbox(cache_dir=Path(cache))
        sandbox.warm("js")
        assert sandbox.run(run).decoded.ok
        for _ in range(calls):
            t0 = time.perf_counter()
            sandbox.run(run)
            out.append((time.perf_counter() - t0) * 1000)
        sandbox.close()
    return out


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) if ordered else 0.0


def paired(urls: tuple[str, str], mode: str, calls: int, pause: float) -> dict[str, Any]:
    times: tuple[list[float], list[float]] = ([], [])
    diffs: list[float] = []
    failed = [0, 0]
    with httpx.Client(timeout=60.0) as client:
        for url in urls:  # warm-up, not measured
            for _ in range(5):
                client.get(url, headers={MODE_HEADER: mode})
        for i in range(calls):
            order = (0, 1) if i % 2 == 0 else (1, 0)
            took = [0.0, 0.0]
            for side in order:
                t0 = time.perf_counter()
                response = client.get(urls[side], headers={MODE_HEADER: mode})
                took[side] = (time.perf_counter() - t0) * 1000
                if response.status_code != 200:
                    failed[side] += 1
            if response.status_code == 200:
                times[0].append(took[0])
                times[1].append(took[1])
                diffs.append(took[1] - took[0])
            time.sleep(pause)
    return {
        "a": {"p50": pct(times[0], 0.5), "p95": pct(times[0], 0.95), "failed": failed[0]},
        "b": {"p50": pct(times[1], 0.5), "p95": pct(times[1], 0.95), "failed": failed[1]},
        "median_b_minus_a_ms": round(statistics.median(diffs), 2) if diffs else None,
        "pairs": len(diffs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path, help="network A's --urls-json file")
    parser.add_argument("b", type=Path, help="network B's --urls-json file")
    parser.add_argument("--function", default="clock-and-dice", help="a js example to call")
    parser.add_argument("--modes", default="fast,attested")
    parser.add_argument("--calls", type=int, default=400, help="pairs per mode")
    parser.add_argument("--pause-ms", type=float, default=25.0)
    args = parser.parse_args(argv)
    urls = tuple(json.loads(p.read_text())["functions"][args.function] for p in (args.a, args.b))
    base = baseline(args.function, args.calls)
    report: dict[str, Any] = {
        "function": args.function,
        "baseline_in_process_ms": {"p50": pct(base, 0.5), "p95": pct(base, 0.95)},
    }
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        result = paired((urls[0], urls[1]), mode, args.calls, args.pause_ms / 1000)
        b50 = report["baseline_in_process_ms"]["p50"] or 1.0
        result["a"]["x_in_process"] = round(result["a"]["p50"] / b50, 1)
        result["b"]["x_in_process"] = round(result["b"]["p50"] / b50, 1)
        report[mode] = result
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
