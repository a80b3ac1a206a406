"""The attester's inline sandbox run, part by part: where a woken worker's run time goes.

    . bin/env && python bench/inline_run.py                      # every condition, 300 runs each
    . bin/env && python bench/inline_run.py --runs 500 --gaps 0,5 --rounds 3

A fast ticket's js run happens on the worker's event loop thread (``SandboxRunner.run_urgent``:
the inline trial with its fuel capped). This runs the same js ``hello`` the same way (a
``Sandbox(defer_cleanup=True)``, the trial's capped limits, the store closed on the loop's next
turn) inside a uvloop event loop, with ``time.perf_counter_ns`` marks around each part of
``Sandbox.run`` and ``SandboxRunner._try_inline`` (the parts are called one by one here, the same
functions in the same order as the production path) and the process's minor page faults per run,
under conditions that stand for what a worker does between two tickets:

- ``gap 0``: runs back to back (the e2e benchmark's in-process baseline);
- ``gap N``: the loop sleeps N ms between runs (other processes run; the caches cool);
- ``touch``: 16 MiB of other memory written between runs (the event loop's own work, at worst).

Prints one JSON object: per condition, the median µs of each part, of the whole run, and the
minor page faults per run. ``--rounds`` repeats every condition in turn (alternating), so a load
change on the machine shows as a spread between rounds rather than as a difference between
conditions.

``compare`` times the whole inline trial (from the ticket's request to the trial's verdict) two
ways, alternating run by run under each condition so the machine's load falls on both alike:
``before``, as the runner did it until 2026-11-30 (the trial's limits built per run, a fresh store
and instance per run, the envelope decoded for the out-of-fuel verdict, the store closed on the
next turn), and ``after`` (the trial's limits remembered, the store and instance made on the turn
after the previous answer by ``Sandbox.prime``, the envelope decoded only when the trial spent all
its fuel).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import wasmtime  # noqa: E402

from peerhost import eventloop  # noqa: E402
from peerhost.sandbox import Limits, RunRequest, RunResult, Sandbox  # noqa: E402
from peerhost.sandbox import execution as sx  # noqa: E402
from peerhost.sandbox.randomness import RandomStream  # noqa: E402
from peerhost.sandbox.request import JS_RUNTIMES  # noqa: E402
from peerhost.sandbox.sandbox import _RUN_LOCK  # noqa: E402
from peerhost.sandbox.wasi import ProcExit, RunIO  # noqa: E402
from peerhost.wire import canonical_request  # noqa: E402
from peerhost.wire.envelope import ErrorKind  # noqa: E402
from peerhost.wire.request import bind_metadata  # noqa: E402
from peerhost.worker.execution import INLINE_FUEL  # noqa: E402

HELLO_JS = b"""export async function handler(req) {
  return { status: 200, headers: { "content-type": "text/plain" }, body: "hello " + (req.query.name ?? "world") };
}
"""

PARTS = (
    "request",  # the trial's RunRequest (fuel capped)
    "checks",  # request id, environment names, size caps
    "stdin",  # the metadata bound into the input, the engine's stdin
    "module",  # the compiled engine (cache) and its pre-linked instance
    "store",  # Store, fuel, epoch deadline, limits, the run's WASI state bound
    "instantiate",  # the instance (pool slot, memory image)
    "start",  # the guest's _start: the snapshot resumed, the handler run, output written
    "finish",  # fuel read, output parsed into the envelope, envelope encoded
    "verdict",  # the trial's verdict (out of fuel? committable?)
)


def bench_request() -> RunRequest:
    request_id = bytes(range(32))
    data = canonical_request(
        "GET",
        "/",
        {"name": "bench"},
        {},
        b"",
        request_id=request_id,
        block_timestamp=1_700_000_000,
        wallet="0x" + "11" * 20,
        project="bench",
        function="hello",
    )
    return RunRequest(
        runtime="js",
        code=HELLO_JS,
        code_id="bench",
        input=data,
        request_id=request_id,
        block_timestamp=1_700_000_000,
        limits=Limits(),
    )


def timed_run(sandbox: Sandbox, request: RunRequest, marks: list[int]) -> RunResult:
    """``SandboxRunner._try_inline`` → ``Sandbox.run`` → ``execute``, one part at a time."""
    now = time.perf_counter_ns
    marks.append(now())
    if sandbox._spent:
        sandbox.sweep()
    inline_fuel = INLINE_FUEL
    capped = request.limits.fuel > inline_fuel
    trial = (
        replace(request, limits=replace(request.limits, fuel=inline_fuel)) if capped else request
    )
    marks.append(now())  # request
    started = time.perf_counter()
    if len(trial.request_id) != 32:
        raise ValueError("request_id")
    for name, value in trial.env.items():
        if not name or "=" in name or "\0" in name or "\0" in value:
            raise ValueError("env")
    limits = trial.limits
    assert sandbox._precheck(trial) is None
    marks.append(now())  # checks
    bound = bind_metadata(
        trial.input, request_id=trial.request_id, block_timestamp=trial.block_timestamp
    )
    stdin = sandbox._stdin(trial, bound)
    marks.append(now())  # stdin
    module = sandbox._module(trial.runtime, trial.code)
    pre, engine = sandbox._prepare(module)
    assert isinstance(pre, wasmtime.InstancePre)
    epoch_ticks = sandbox.ticker.ticks_for(limits.wall_clock_seconds)
    start_fuel = sandbox.js_start_fuel if trial.runtime in JS_RUNTIMES else 0
    marks.append(now())  # module
    with _RUN_LOCK:
        store = wasmtime.Store(engine)
        store.set_fuel(limits.fuel - start_fuel)
        store.set_epoch_deadline(epoch_ticks)
        store.set_limits(
            memory_size=limits.memory_bytes,
            table_elements=sx.TABLE_ELEMENTS,
            instances=1,
            tables=sx.MAX_TABLES,
            memories=1,
        )
        io = RunIO(
            stdin=stdin,
            args=list(sx.ARGV),
            env=[f"{k}={v}".encode() for k, v in sorted(trial.env.items())],
            clock_ns=trial.block_timestamp * 1_000_000_000,
            random=RandomStream(trial.request_id),
            max_stdout=limits.max_output_bytes,
            max_stderr=limits.max_log_bytes,
        )
        exit_code = 0
        sandbox.wasi.bind(io)
        marks.append(now())  # store
        try:
            instance = pre.instantiate(store)
            memory = sx._export(store, instance, b"memory")
            io.memory = memory if isinstance(memory, wasmtime.Memory) else None
            assert sx._has_entry(pre)
            start = sx._export(store, instance, b"_start")
            marks.append(now())  # instantiate
            sx._call_start(store, start)  # type: ignore[arg-type]
        except ProcExit as exited:
            exit_code = exited.code
        finally:
            sandbox.wasi.bind(None)
        marks.append(now())  # start
        fuel_used = limits.fuel - store.get_fuel()
        envelope = sx._exited(trial, exit_code, bytes(io.stdout), fuel_used)
        assert sandbox._spent is not None
        sandbox._spent.append(store)
    result = Sandbox._result(envelope, True, bytes(io.stderr), fuel_used, started)
    marks.append(now())  # finish
    assert result.committable
    assert not (capped and result.decoded.error_kind is ErrorKind.OUT_OF_FUEL)
    marks.append(now())  # verdict
    return result


def touch(buffer: bytearray) -> None:
    for offset in range(0, len(buffer), 4096):
        buffer[offset] = (buffer[offset] + 1) & 0xFF


async def condition(
    sandbox: Sandbox, request: RunRequest, runs: int, gap_ms: float, other: bytearray | None
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    parts: dict[str, list[float]] = {name: [] for name in PARTS}
    totals: list[float] = []
    faults: list[int] = []
    for _ in range(runs):
        if gap_ms:
            await asyncio.sleep(gap_ms / 1000)
        else:
            await asyncio.sleep(0)  # the sweep's turn, as in the worker
        if other is not None:
            touch(other)
        marks: list[int] = []
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        result = timed_run(sandbox, request, marks)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
        loop.call_soon(sandbox.sweep)
        assert b"hello bench" in result.envelope
        for name, a, b in zip(PARTS, marks, marks[1:], strict=False):
            parts[name].append((b - a) / 1000)
        totals.append((marks[-1] - marks[0]) / 1000)
    return {
        "run_us": round(statistics.median(totals), 1),
        "parts_us": {name: round(statistics.median(v), 1) for name, v in parts.items()},
        "minor_faults": statistics.median(faults),
    }


def before_trial(sandbox: Sandbox, request: RunRequest) -> RunResult:
    trial = replace(request, limits=replace(request.limits, fuel=INLINE_FUEL))
    result = sandbox.run(trial)
    assert result.committable
    assert result.decoded.error_kind is not ErrorKind.OUT_OF_FUEL
    return result


def after_trial(
    sandbox: Sandbox, request: RunRequest, trial_limits: dict[Limits, Limits]
) -> RunResult:
    limits = request.limits
    capped = trial_limits.get(limits)
    if capped is None:
        capped = trial_limits[limits] = replace(limits, fuel=INLINE_FUEL)
    result = sandbox.run(replace(request, limits=capped))
    assert result.committable
    assert not (
        result.fuel_used >= INLINE_FUEL and result.decoded.error_kind is ErrorKind.OUT_OF_FUEL
    )
    return result


def after_answer(sandbox: Sandbox, prime_next: bool, memory_bytes: int) -> None:
    sandbox.sweep()
    if prime_next:
        sandbox.prime("js", memory_bytes)


async def compare(
    sandbox: Sandbox, request: RunRequest, runs: int, gap_ms: float, other: bytearray | None
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    times: dict[str, list[float]] = {"before": [], "after": []}
    trial_limits: dict[Limits, Limits] = {}
    order = ["before", "after"] * runs
    sandbox.sweep()
    for i, way in enumerate(order):
        if gap_ms:
            await asyncio.sleep(gap_ms / 1000)
        else:
            await asyncio.sleep(0)
        if other is not None:
            touch(other)
        t0 = time.perf_counter_ns()
        if way == "before":
            result = before_trial(sandbox, request)
        else:
            result = after_trial(sandbox, request, trial_limits)
        times[way].append((time.perf_counter_ns() - t0) / 1000)
        prime_next = i + 1 < len(order) and order[i + 1] == "after"
        loop.call_soon(after_answer, sandbox, prime_next, request.limits.memory_bytes)
        assert b"hello bench" in result.envelope
    await asyncio.sleep(0)
    before, after = statistics.median(times["before"]), statistics.median(times["after"])
    return {
        "before_us": round(before, 1),
        "after_us": round(after, 1),
        "after_over_before": round(after / before, 3),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    request = bench_request()
    with tempfile.TemporaryDirectory() as cache:
        sandbox = Sandbox(Path(cache), defer_cleanup=True)
        sandbox.warm("js")
        for _ in range(50):
            timed_run(sandbox, request, [])
            sandbox.sweep()
        conditions: list[tuple[str, float, bytearray | None]] = [
            (f"gap {gap:g} ms", gap, None) for gap in args.gaps
        ]
        if args.touch:
            conditions.append(("16 MiB touched", 0.0, bytearray(16 << 20)))
        rounds: list[dict[str, Any]] = []
        compared: list[dict[str, Any]] = []
        for _ in range(args.rounds):
            if args.parts:
                rounds.append(
                    {
                        name: await condition(sandbox, request, args.runs, gap, other)
                        for name, gap, other in conditions
                    }
                )
            compared.append(
                {
                    name: await compare(sandbox, request, args.runs, gap, other)
                    for name, gap, other in conditions
                }
            )
        sandbox.close()
    return {
        "load_average": os.getloadavg(),
        "runs_per_condition": args.runs,
        "rounds": rounds,
        "compare": compared,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--gaps", type=lambda text: [float(x) for x in text.split(",")], default=[0.0, 2.0, 5.0]
    )
    parser.add_argument("--no-touch", dest="touch", action="store_false")
    parser.add_argument("--no-parts", dest="parts", action="store_false", help="compare only")
    args = parser.parse_args()
    print(json.dumps(eventloop.run(main_async(args)), indent=1))


if __name__ == "__main__":
    main()
