"""Cold start: the first call of a newly published wasi module on a worker, with and without
prewarm on publish.

    . bin/env && python bench/cold_start.py                  # 5 fresh modules per figure
    . bin/env && python bench/cold_start.py --runs 9 --processes 2

Every run uses a module no cache has seen (``examples/functions/hello.wasm`` with a custom
section of random bytes appended: the same code, new bytes, so a new sha256), stored in a real
local content store. Prints one JSON object with medians (ms) over ``--runs`` fresh modules:

- ``split``: the first call taken apart in one process, the way the worker's sandbox does it:
  ``fetch`` (the store's verified read), ``compile`` (validation, then compilation in the killable,
  address-space-capped child, the production bound), ``load`` (deserializing the host-signed
  ``.cwasm`` and pre-linking), ``first_run`` (instantiate and run, the first time) and
  ``warm_run`` (the same call once everything is warm: the floor);
- ``worker``: the worker's own path, :class:`~peerhost.worker.execution.JobExecutor` over a
  :class:`~peerhost.worker.execution.SandboxRunner` pool of ``--processes``: ``cold_first_call``
  (nothing prewarmed: the call fetches, compiles and loads), ``prewarm`` (what
  :class:`~peerhost.worker.prewarm.Prewarmer` spends when the publish event arrives, off the call
  path) and ``prewarmed_first_call`` (the first call after it).

Publish-to-event latency (the block that carries the publish, the log subscription) is not in
these figures: the worker starts prewarming when it sees the event, one block after publishing on
the devnet; a call that arrives before the prewarm finished compiles itself (the same cache).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peerhost.sandbox import RunRequest, Sandbox  # noqa: E402
from peerhost.storage import LocalStore, cid_to_bytes  # noqa: E402
from peerhost.wire.ticket import input_hash_of  # noqa: E402
from peerhost.worker.execution import JobExecutor, SandboxRunner  # noqa: E402
from peerhost.worker.job import Job  # noqa: E402
from peerhost.worker.prewarm import Prewarmer  # noqa: E402

HELLO = (ROOT / "examples/functions/hello.wasm").read_bytes()
INPUT = b'{"method":"GET","path":"/","query":{},"headers":{},"body":""}'


def _leb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def fresh_module() -> bytes:
    """``hello.wasm`` plus a custom section of random bytes: new bytes, the same function."""
    name = b"bench-nonce"
    payload = _leb(len(name)) + name + secrets.token_bytes(16)
    return HELLO + b"\x00" + _leb(len(payload)) + payload


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _job(cid: str, seq: int) -> Job:
    return Job(
        request_id=seq.to_bytes(32, "big"),
        function_id=bytes(32),
        requester="0x" + "22" * 20,
        version=1,
        runtime="wasi",
        code_cid=cid_to_bytes(cid),
        fuel_limit=100_000_000,
        memory_limit=64 * 2**20,
        mode=0,
        input=INPUT,
        input_cid=b"",
        input_hash=input_hash_of(INPUT),
        reward=1,
        requested_at=1_767_225_600,
        commit_deadline=0,
        reveal_deadline=0,
        reply_to=b"",
    )


def split(work: Path, runs: int) -> dict[str, float]:
    """The first call's parts in one sandbox (a fresh module, and a fresh store, per run)."""
    parts: dict[str, list[float]] = {
        k: [] for k in ("fetch", "compile", "load", "first_run", "warm_run")
    }
    sandbox = Sandbox(work / "split-modules")
    try:
        for n in range(runs):
            store = LocalStore(work / f"split-store-{n}")
            cid = store.put(fresh_module())
            started = time.perf_counter()
            code = LocalStore(store.root).get(cid)
            parts["fetch"].append(_ms(started))
            started = time.perf_counter()
            sandbox.cache.precompile(code)
            parts["compile"].append(_ms(started))
            started = time.perf_counter()
            module = sandbox.cache.get(code)
            sandbox._prepare(module)
            parts["load"].append(_ms(started))
            request = RunRequest(
                runtime="wasi", code=code, code_id=cid, input=INPUT, request_id=bytes(32)
            )
            started = time.perf_counter()
            result = sandbox.run(request)
            parts["first_run"].append(_ms(started))
            assert result.committable, result.envelope
            started = time.perf_counter()
            sandbox.run(request)
            parts["warm_run"].append(_ms(started))
    finally:
        sandbox.close()
    return {k: round(statistics.median(v), 2) for k, v in parts.items()}


async def worker(work: Path, runs: int, processes: int) -> dict[str, float]:
    """The worker's executor and pool: a cold first call, and a first call after prewarm."""
    store = LocalStore(work / "worker-store")
    runner = SandboxRunner(work / "worker-modules", processes=processes, inline_fuel=0)
    executor = JobExecutor(store, runner.run, wall_clock_seconds=10.0)
    prewarmer = Prewarmer(executor.prefetch, runner.prewarm)
    out: dict[str, list[float]] = {"cold_first_call": [], "prewarm": [], "prewarmed_first_call": []}
    try:
        await runner.warm()
        for n in range(runs):
            cold, warm = store.put(fresh_module()), store.put(fresh_module())
            started = time.perf_counter()
            await executor.execute(_job(cold, 2 * n))
            out["cold_first_call"].append(_ms(started))
            started = time.perf_counter()
            done = await prewarmer.prewarm("wasi", cid_to_bytes(warm))
            out["prewarm"].append(_ms(started))
            assert done is not None and done.compiled
            compiles = runner.compiles
            started = time.perf_counter()
            await executor.execute(_job(warm, 2 * n + 1))
            out["prewarmed_first_call"].append(_ms(started))
            assert runner.compiles == compiles  # the call compiled nothing in this process
    finally:
        await runner.close()
    return {k: round(statistics.median(v), 2) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh modules per figure")
    parser.add_argument("--processes", type=int, default=2, help="the worker's sandbox processes")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="peerhost-cold-") as tmp:
        work = Path(tmp)
        report: dict[str, Any] = {
            "module_bytes": len(fresh_module()),
            "runs": args.runs,
            "load_average": [round(x, 1) for x in os.getloadavg()],
            "split_ms": split(work, args.runs),
            "worker_ms": asyncio.run(worker(work, args.runs, args.processes)),
        }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
