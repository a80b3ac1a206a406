"""The worker's sandbox runner: small urgent ``js`` runs (feed offers) are tried on the loop's
thread within a fuel cap and give the same envelopes as the pool; heavier ones, and every run that
is not urgent (committee re-execution), go to the pool with their own limits."""

from __future__ import annotations

import asyncio
from pathlib import Path

from peerhost import eventloop
from peerhost.sandbox import Limits, RunRequest, SandboxPool
from peerhost.wire import canonical_request
from peerhost.worker.execution import SandboxRunner

HELLO = b"""export async function handler(req) {
  return { status: 200, headers: {}, body: "hello " + (req.query.name ?? "world") };
}"""
LOOP = b"""export async function handler(req) {
  let s = 0; for (let i = 0; i < 200000; i++) s += i;
  return { status: 200, headers: {}, body: String(s) };
}"""


def request(code: bytes, code_id: str, name: str = "bench", fuel: int = 500_000_000) -> RunRequest:
    rid = bytes(31) + b"\x07"
    data = canonical_request(
        "GET",
        "/",
        {"name": name},
        {},
        b"",
        request_id=rid,
        block_timestamp=1_700_000_000,
        wallet="0x" + "11" * 20,
        project="p",
        function="f",
    )
    return RunRequest(
        runtime="js",
        code=code,
        code_id=code_id,
        input=data,
        request_id=rid,
        block_timestamp=1_700_000_000,
        limits=Limits(fuel=fuel),
    )


def test_runner__js_within_inline_fuel__runs_inline_same_envelope_as_the_pool(
    compiled_modules: Path,
) -> None:
    runs = [request(HELLO, "hello", n) for n in ("a", "b")] + [
        request(HELLO, "hello", fuel=3_000_000)
    ]

    async def main() -> tuple[list[bytes], list[bytes], int]:
        runner = SandboxRunner(compiled_modules, processes=1, inline_fuel=20_000_000)
        try:
            await runner.warm()
            inline = [(await runner.run_urgent(r)).envelope for r in runs]
            await runner.run(runs[0])  # not urgent: the pool
            count = runner.inline_runs
        finally:
            await runner.close()
        async with SandboxPool(1, cache_dir=compiled_modules) as pool:
            pooled = [(await pool.run(r)).envelope for r in runs]
        return inline, pooled, count

    inline, pooled, count = asyncio.run(main())
    assert inline == pooled
    assert b"hello a" in inline[0] and b"out_of_fuel" in inline[2]  # its own limit, inline
    assert count == 3


def test_runner__js_beyond_inline_fuel__runs_in_the_pool_with_its_own_limits(
    compiled_modules: Path,
) -> None:
    heavy = request(LOOP, "loop")

    async def main() -> tuple[bytes, bytes, int]:
        runner = SandboxRunner(compiled_modules, processes=1, inline_fuel=20_000_000)
        try:
            await runner.warm()
            first = await runner.run_urgent(heavy)
            second = await runner.run_urgent(heavy)  # remembered as heavy: straight to the pool
            return first.envelope, second.envelope, runner.inline_runs
        finally:
            await runner.close()

    first, second, count = asyncio.run(main())
    assert first == second
    assert b'"ok":true' in first and b"19999900000" in first
    assert count == 0


def test_runner__on_the_nodes_event_loop__pool_and_inline_runs_answer(
    compiled_modules: Path,
) -> None:
    # the worker's loop is uvloop's (a pinned dependency): the pool waits on its pipes there
    async def main() -> tuple[str, bytes, bytes]:
        runner = SandboxRunner(compiled_modules, processes=1, inline_fuel=20_000_000)
        try:
            await runner.warm()
            inline = (await runner.run_urgent(request(HELLO, "hello", "inline"))).envelope
            pooled = (await runner.run(request(HELLO, "hello", "pooled"))).envelope
        finally:
            await runner.close()
        return type(asyncio.get_running_loop()).__module__, inline, pooled

    module, inline, pooled = eventloop.run(main())
    assert eventloop.loop_name() == "uvloop" and module.startswith("uvloop")
    assert b"hello inline" in inline and b"hello pooled" in pooled


def test_runner__inline_run__its_store_closed_on_the_loops_next_turn(
    compiled_modules: Path,
) -> None:
    async def main() -> tuple[int, int, bytes]:
        runner = SandboxRunner(compiled_modules, processes=1, inline_fuel=20_000_000)
        try:
            await runner.warm()
            result = await runner.run_urgent(request(HELLO, "hello", "soon"))
            sandbox = runner._sandbox  # the inline sandbox
            assert sandbox is not None
            waiting = sandbox.pending_cleanup  # the answer is not held up by the cleanup
            await asyncio.sleep(0)
            return waiting, sandbox.pending_cleanup, result.envelope
        finally:
            await runner.close()

    waiting, after, envelope = asyncio.run(main())
    assert (waiting, after) == (1, 0)
    assert b"hello soon" in envelope


def test_runner__inline_runs__the_next_ones_instance_made_after_the_answer_same_envelopes(
    compiled_modules: Path,
) -> None:
    runs = [request(HELLO, "hello", name) for name in ("one", "two")]

    async def main() -> tuple[list[tuple[bool, bool, int]], list[bytes]]:
        runner = SandboxRunner(compiled_modules, processes=1, inline_fuel=20_000_000)
        states, envelopes = [], []
        try:
            await runner.warm()
            sandbox = runner._sandbox  # the inline sandbox
            assert sandbox is not None
            for r in runs:
                before = sandbox.primed  # made at warm, then after each answer
                envelopes.append((await runner.run_urgent(r)).envelope)
                states.append((before, sandbox.primed, sandbox.pending_cleanup))
                await asyncio.sleep(0)
            states.append((sandbox.primed, sandbox.primed, sandbox.pending_cleanup))
        finally:
            await runner.close()
        return states, envelopes

    states, envelopes = eventloop.run(main())
    # primed before each run, taken by it; the store closed and the next made a turn later
    assert states == [(True, False, 1), (True, False, 1), (True, True, 0)]
    assert b"hello one" in envelopes[0] and b"hello two" in envelopes[1]
