"""A sandbox's resources end with it, closed or merely dropped."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import time
from pathlib import Path

import wasmtime
from sandbox_helpers import BLOCK_TIMESTAMP, REQUEST_ID, sample_input, wat_module

from peerhost.sandbox import Limits, RunRequest, Sandbox
from peerhost.sandbox.execution import prime


def _tickers() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "wasm-epoch")


def _settle(expected: int) -> int:
    deadline = time.monotonic() + 5
    while _tickers() != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return _tickers()


def _ticker_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "wasm-epoch"}


def test_sandbox__dropped_without_close__its_ticker_stops(tmp_path: Path) -> None:
    before = _ticker_threads()
    sandboxes = [Sandbox(tmp_path / str(i)) for i in range(3)]
    mine = _ticker_threads() - before
    assert len(mine) == 3
    del sandboxes
    gc.collect()
    # The tickers' threads held the pooled engines: they end, and the engines with them. (Only
    # these three are watched: a sandbox an earlier test dropped may be collected here too.)
    deadline = time.monotonic() + 5
    while any(t.is_alive() for t in mine) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [t for t in mine if t.is_alive()] == []


def test_sandbox__closed_then_dropped__stops_once(tmp_path: Path) -> None:
    before = _tickers()
    sandbox = Sandbox(tmp_path)
    sandbox.close()
    sandbox.close()  # a second close is harmless
    assert _settle(before) == before
    del sandbox
    gc.collect()
    assert _settle(before) == before


def test_sandboxes__made_and_dropped_in_turn__more_than_one_process_can_hold(
    tmp_path: Path,
) -> None:
    # A process can hold only about 30 pooled engines at once (each reserves its instance pool's
    # memory and stacks); a dropped sandbox must give its engines back. Run in a child process:
    # running out aborts the interpreter.
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from peerhost.sandbox import Sandbox\n"
        "root = Path(sys.argv[1])\n"
        "for i in range(80):\n"
        "    sandbox = Sandbox(root / str(i))\n"
        "    del sandbox\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


_BODY = '{"status":200,"body":"0"}'
_ZERO_AT = 64 + _BODY.index('"0"') + 1
_ESCAPED = "".join(f"\\{b:02x}" for b in _BODY.encode())
#: Writes its response from memory, then overwrites the body's "0" with "1": a run that saw a
#: previous run's memory would answer "1".
_MARKS_ITS_MEMORY = wat_module(
    f"""
      (data (i32.const 64) "{_ESCAPED}")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 64))
        (i32.store (i32.const 4) (i32.const {len(_BODY)}))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (i32.store8 (i32.const {_ZERO_AT}) (i32.const 0x31)))
    """
)
_JS_HELLO = b"export async function handler(req) { return { status: 200, body: 'hi' }; }"


def _request(code: bytes, runtime: str, fuel: int = 50_000_000) -> RunRequest:
    return RunRequest(
        runtime=runtime,
        code=code,
        code_id="lifetime",
        input=sample_input(),
        request_id=REQUEST_ID,
        block_timestamp=BLOCK_TIMESTAMP,
        limits=Limits(fuel=fuel),
    )


def test_run__deferred_cleanup__same_envelopes_and_one_store_waits_until_swept(
    compiled_modules: Path,
) -> None:
    requests = [
        _request(_MARKS_ITS_MEMORY, "wasi"),
        _request(_MARKS_ITS_MEMORY, "wasi"),
        _request(_JS_HELLO, "js"),
        _request(_JS_HELLO, "js", fuel=3_000_000),  # out of fuel before any instance
    ]
    closing = Sandbox(compiled_modules, compile_in_subprocess=False)
    deferring = Sandbox(compiled_modules, compile_in_subprocess=False, defer_cleanup=True)
    try:
        expected = [closing.run(r).envelope for r in requests]
        got, waiting = [], []
        for r in requests:  # never swept between runs: each run sweeps the one before
            got.append(deferring.run(r).envelope)
            waiting.append(deferring.pending_cleanup)
        assert closing.pending_cleanup == 0
        assert waiting == [1, 1, 1, 0]  # the last never made a store: the one before swept
        deferring.sweep()
        assert deferring.pending_cleanup == 0
    finally:
        closing.close()
        deferring.close()
    assert got == expected
    assert b'"0"' in expected[0] and expected[0] == expected[1]  # no run saw another's memory
    assert b"out_of_fuel" in expected[3]


def test_close__deferred_cleanup__closes_the_waiting_store(compiled_modules: Path) -> None:
    sandbox = Sandbox(compiled_modules, compile_in_subprocess=False, defer_cleanup=True)
    sandbox.run(_request(_MARKS_ITS_MEMORY, "wasi"))
    assert sandbox.pending_cleanup == 1
    sandbox.close()
    assert sandbox.pending_cleanup == 0


#: Counts its runs in the engine's global state: a run that reused another's instance answers 2.
_JS_COUNTS_ITS_RUNS = b"""export async function handler(req) {
  globalThis.runs = (globalThis.runs ?? 0) + 1;
  return { status: 200, body: "runs " + globalThis.runs };
}"""


def test_run__primed_instance__same_envelopes_and_no_state_from_another_run(
    compiled_modules: Path,
) -> None:
    small_memory = RunRequest(
        runtime="js",
        code=_JS_COUNTS_ITS_RUNS,
        code_id="lifetime",
        input=sample_input(),
        request_id=REQUEST_ID,
        block_timestamp=BLOCK_TIMESTAMP,
        limits=Limits(fuel=50_000_000, memory_bytes=32 * 2**20),
    )
    requests = [
        _request(_JS_COUNTS_ITS_RUNS, "js"),
        _request(_JS_COUNTS_ITS_RUNS, "js"),
        _request(_JS_HELLO, "js"),
        _request(_JS_HELLO, "js", fuel=3_000_000),  # out of fuel before the guest starts
        small_memory,  # primed under another memory limit: not used, closed after the run
    ]
    closing = Sandbox(compiled_modules, compile_in_subprocess=False)
    priming = Sandbox(compiled_modules, compile_in_subprocess=False, defer_cleanup=True)
    try:
        expected = [closing.run(r).envelope for r in requests]
        priming.warm("js")
        got, waiting = [], []
        for r in requests:
            assert priming.prime("js", Limits().memory_bytes)
            got.append(priming.run(r).envelope)
            waiting.append(priming.pending_cleanup)
            assert not priming.primed
            priming.sweep()
    finally:
        closing.close()
        priming.close()
    assert got == expected
    assert b"runs 1" in expected[0] and expected[1] == expected[0]
    assert b"out_of_fuel" in expected[3]
    assert waiting == [1, 1, 1, 1, 2]  # the unused one waits for the sweep with the run's


def test_prime__not_deferring_not_loaded_or_wasi__makes_nothing(compiled_modules: Path) -> None:
    closing = Sandbox(compiled_modules, compile_in_subprocess=False)
    priming = Sandbox(compiled_modules, compile_in_subprocess=False, defer_cleanup=True)
    try:
        closing.warm("js")
        assert not closing.prime("js", Limits().memory_bytes)  # nobody would sweep it
        assert not priming.prime("js", Limits().memory_bytes)  # the engine is not loaded
        assert not priming.prime("wasi", Limits().memory_bytes)  # a module per function
        priming.warm("js")
        assert priming.prime("clf", Limits().memory_bytes) and priming.primed
        assert priming.prime("js", Limits().memory_bytes)  # already: left as it is
    finally:
        closing.close()
        priming.close()
    assert not priming.primed  # closed with the sandbox


def test_prime__module_whose_instantiation_runs_code__left_to_its_run(
    compiled_modules: Path,
) -> None:
    # a start function runs at instantiation: priming must not run it outside the run's fuel
    starts = wat_module(
        """
          (global $n (mut i32) (i32.const 0))
          (func $init (global.set $n (i32.add (global.get $n) (i32.const 1))))
          (start $init)
          (func (export "_start"))
        """
    )
    sandbox = Sandbox(compiled_modules, compile_in_subprocess=False, defer_cleanup=True)
    try:
        pre, engine = sandbox._prepare(sandbox.cache.get(starts))
        assert isinstance(pre, wasmtime.InstancePre)
        assert prime(engine, pre, Limits().memory_bytes) is None
        js = sandbox._prepare(sandbox._module("js", b""))
        assert isinstance(js[0], wasmtime.InstancePre)
        made = prime(js[1], js[0], Limits().memory_bytes)
        assert made is not None  # no start function: the instance is made ahead of its run
        made.store.close()
    finally:
        sandbox.close()
