"""The host's edges, each with an inline WAT module."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import wasmtime
from sandbox_helpers import SMALL, RunFn, sample_input, wat_module, write_stdout_wat

from peerhost.sandbox import Limits
from peerhost.sandbox.errors import InvalidRequest
from peerhost.wire import Envelope, ErrorKind

Outcome = Callable[..., Envelope]
OK_RESPONSE = '{"status":200,"body":"hi"}'


def test_run__writes_response__succeeds(outcome: Outcome) -> None:
    env = outcome(wat_module(write_stdout_wat(OK_RESPONSE)))
    assert env.ok and env.status == 200 and env.body == "hi"
    assert env.fuel_used is not None and env.fuel_used > 0


def test_run__infinite_loop__traps_out_of_fuel(outcome: Outcome) -> None:
    env = outcome(wat_module('(func (export "_start") (loop $l (br $l)))'))
    assert env.error_kind is ErrorKind.OUT_OF_FUEL
    assert env.fuel_used == SMALL.fuel


def test_run__memory_bomb__hits_memory_limit_not_host(outcome: Outcome) -> None:
    bomb = """(func (export "_start")
      (loop $grow
        (br_if $grow (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
      unreachable)"""
    env = outcome(wat_module(bomb))
    assert env.error_kind is ErrorKind.MEMORY_LIMIT
    assert env.error_detail == "unreachable"


def test_run__initial_memory_over_cap__memory_limit(outcome: Outcome) -> None:
    code = wat_module('(memory (export "memory") 1000) (func (export "_start"))', prelude=False)
    assert outcome(code).error_kind is ErrorKind.MEMORY_LIMIT


def test_run__deep_recursion__stack_overflow_without_fuel(outcome: Outcome) -> None:
    code = wat_module('(func $f (export "_start") (call $f))')
    env = outcome(code, limits=Limits(fuel=10**9))
    assert env.error_kind is ErrorKind.STACK_OVERFLOW
    assert env.fuel_used is None  # the overflow point is host-dependent: not committed


def test_run__huge_output__output_too_large(outcome: Outcome) -> None:
    flood = """(func (export "_start")
      (i32.store (i32.const 0) (i32.const 0))
      (i32.store (i32.const 4) (i32.const 60000))
      (loop $l
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br $l)))"""
    env = outcome(wat_module(flood), limits=Limits(fuel=10**8, max_output_bytes=1_000_000))
    assert env.error_kind is ErrorKind.OUTPUT_TOO_LARGE


def test_run__log_flood__logs_capped_and_run_succeeds(run: RunFn) -> None:
    code = wat_module(
        """(data (i32.const 64) "{\\"status\\":200}")
        (func (export "_start") (local $i i32)
          (i32.store (i32.const 0) (i32.const 0))
          (i32.store (i32.const 4) (i32.const 4096))
          (loop $l
            (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (i32.const 100))))
          (i32.store (i32.const 0) (i32.const 64))
          (i32.store (i32.const 4) (i32.const 14))
          (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))"""
    )
    result = run(code, limits=Limits(fuel=10**7, max_log_bytes=10_000))
    assert result.decoded.ok
    assert len(result.logs) == 10_000


def test_run__host_call_loop__runs_out_of_fuel(outcome: Outcome) -> None:
    spin = """(func (export "_start")
      (i32.store (i32.const 4) (i32.const 0))
      (loop $l
        (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br $l)))"""
    env = outcome(wat_module(spin), limits=Limits(fuel=200_000))
    assert env.error_kind is ErrorKind.OUT_OF_FUEL


@pytest.mark.parametrize("name", ["sock_accept", "path_open"])
def test_run__forbidden_wasi_call__returns_notcapable(outcome: Outcome, name: str) -> None:
    params = {"sock_accept": "i32 i32 i32", "path_open": "i32 i32 i32 i32 i32 i64 i64 i32 i32"}
    args = {
        "sock_accept": "(i32.const 3) (i32.const 0) (i32.const 200)",
        "path_open": "(i32.const 3) (i32.const 0) (i32.const 300) (i32.const 4) (i32.const 0)"
        " (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 200)",
    }
    code = wat_module(
        f"""(import "wasi_snapshot_preview1" "{name}" (func $f (param {params[name]}) (result i32)))
        (data (i32.const 300) "/etc")
        (func (export "_start") (call $proc_exit (call $f {args[name]})))"""
    )
    env = outcome(code)
    assert env.error_kind is ErrorKind.EXIT
    assert env.error_detail == "76"  # ENOTCAPABLE


@pytest.mark.parametrize(
    "imports",
    [
        '(import "env" "socket" (func (param i32) (result i32)))',
        '(import "wasi_snapshot_preview1" "sock_open" (func (param i32) (result i32)))',
        '(import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32) (result i32)))',
        '(import "env" "memory" (memory 1))',
    ],
)
def test_run__import_outside_policy__forbidden_import(outcome: Outcome, imports: str) -> None:
    code = wat_module(f'{imports} (func (export "_start"))', prelude=False)
    assert outcome(code).error_kind is ErrorKind.FORBIDDEN_IMPORT


def test_run__wasi_import_with_wrong_signature__link_error(outcome: Outcome) -> None:
    code = wat_module(
        '(import "wasi_snapshot_preview1" "fd_write" (func (param i32))) (func (export "_start"))',
        prelude=False,
    )
    assert outcome(code).error_kind is ErrorKind.LINK_ERROR


def test_run__no_imports_no_output__invalid_output(outcome: Outcome) -> None:
    code = wat_module('(func (export "_start"))', prelude=False)
    env = outcome(code)
    assert env.error_kind is ErrorKind.INVALID_OUTPUT
    assert env.error_detail == "output is not valid JSON"


def test_run__no_start_export__no_entrypoint(outcome: Outcome) -> None:
    code = wat_module('(func (export "main"))', prelude=False)
    assert outcome(code).error_kind is ErrorKind.NO_ENTRYPOINT


@pytest.mark.parametrize("code", [b"", b"\x00asm\x01\x00\x00\x00\xff", b"not wasm at all"])
def test_run__malformed_module__invalid_module(outcome: Outcome, code: bytes) -> None:
    assert outcome(code).error_kind is ErrorKind.INVALID_MODULE


def test_run__stdin_over_cap__input_too_large(outcome: Outcome) -> None:
    code = wat_module(write_stdout_wat(OK_RESPONSE))
    env = outcome(code, input=b"x" * 2048, limits=Limits(max_input_bytes=1024))
    assert env.error_kind is ErrorKind.INPUT_TOO_LARGE


def test_run__code_over_cap__code_too_large(outcome: Outcome) -> None:
    code = wat_module(write_stdout_wat(OK_RESPONSE))
    env = outcome(code, limits=Limits(max_code_bytes=len(code) - 1))
    assert env.error_kind is ErrorKind.CODE_TOO_LARGE


def test_run__unknown_runtime__unsupported_runtime(outcome: Outcome) -> None:
    assert outcome(b"", runtime="ruby").error_kind is ErrorKind.UNSUPPORTED_RUNTIME


def test_run__unreachable__trap_with_code(outcome: Outcome) -> None:
    env = outcome(wat_module('(func (export "_start") unreachable)'))
    assert (env.error_kind, env.error_detail) == (ErrorKind.TRAP, "unreachable")


def test_run__division_by_zero__trap_with_code(outcome: Outcome) -> None:
    code = wat_module('(func (export "_start") (drop (i32.div_u (i32.const 1) (i32.const 0))))')
    assert outcome(code).error_detail == "integer_division_by_zero"


def test_run__nonzero_exit__exit_failure(outcome: Outcome) -> None:
    code = wat_module('(func (export "_start") (call $proc_exit (i32.const 7)))')
    env = outcome(code)
    assert (env.error_kind, env.error_detail) == (ErrorKind.EXIT, "7")


def test_run__exit_zero_after_output__succeeds(outcome: Outcome) -> None:
    code = wat_module(
        write_stdout_wat(OK_RESPONSE).replace(
            "(i32.const 8))))", "(i32.const 8))) (call $proc_exit (i32.const 0)))"
        )
    )
    assert outcome(code).ok


@pytest.mark.parametrize(
    ("output", "detail"),
    [
        ("[1,2]", "output is not a JSON object"),
        ('{"status":99}', "status must be an integer from 100 to 599"),
        ('{"status":true}', "status must be an integer from 100 to 599"),
        ('{"status":200,"headers":{"a b":"c"}}', "a header name is not a valid HTTP token"),
        ('{"status":200,"body":NaN}', "output uses NaN, which JSON does not allow"),
        ('{"status":200,"body":1e999}', "body holds a number JSON cannot carry"),
        ('{"status":200,"body":' + "[" * 65 + "]" * 65 + "}", "output nests deeper than 64"),
        ('{"status":200,"body":"x","body_encoding":"base64"}', "body is not valid base64"),
    ],
)
def test_run__malformed_response__invalid_output(
    outcome: Outcome, output: str, detail: str
) -> None:
    env = outcome(wat_module(write_stdout_wat(output)))
    assert (env.error_kind, env.error_detail) == (ErrorKind.INVALID_OUTPUT, detail)


def test_run__non_utf8_output__invalid_output(outcome: Outcome) -> None:
    code = wat_module(
        """(data (i32.const 64) "\\ff\\fe")
        (func (export "_start")
          (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const 2))
          (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))"""
    )
    assert outcome(code).error_detail == "output is not UTF-8"


def test_run__busy_loop_past_wall_clock__not_committable(run: RunFn) -> None:
    code = wat_module('(func (export "_start") (loop $l (br $l)))')
    result = run(code, limits=Limits(fuel=10**13, wall_clock_seconds=0.2))
    assert not result.committable
    assert result.decoded.error_kind is ErrorKind.TIMEOUT


CLOCK_AND_RANDOM = """
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (func (export "_start")
    (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 100)))
    (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 108)))
    (drop (call $random (i32.const 116) (i32.const 16)))
    (i32.store (i32.const 132) (call $poll (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0)))
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 36))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $proc_exit (i32.const 9)))
"""


def _clock_random(run: RunFn, request_id: bytes, timestamp: int) -> bytes:
    result = run(wat_module(CLOCK_AND_RANDOM), request_id=request_id, block_timestamp=timestamp)
    return result.logs


def test_run__clock_and_random__follow_block_timestamp_and_request_id(run: RunFn) -> None:
    first = _clock_random(run, b"\x01" * 32, 1_700_000_000)
    again = _clock_random(run, b"\x01" * 32, 1_700_000_000)
    assert first == again
    assert int.from_bytes(first[0:8], "little") == 1_700_000_000 * 10**9
    assert int.from_bytes(first[8:16], "little") == 1_700_000_000 * 10**9
    assert int.from_bytes(first[32:36], "little") == 58  # poll_oneoff: ENOTSUP, no sleeping
    other = _clock_random(run, b"\x02" * 32, 1_700_000_000)
    assert other[16:32] != first[16:32]


def test_run__env_var__visible_to_function(run: RunFn) -> None:
    code = wat_module(
        """(import "wasi_snapshot_preview1" "environ_sizes_get" (func $sizes (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "environ_get" (func $get (param i32 i32) (result i32)))
        (func (export "_start")
          (drop (call $sizes (i32.const 200) (i32.const 204)))
          (drop (call $get (i32.const 300) (i32.const 400)))
          (i32.store (i32.const 0) (i32.const 400))
          (i32.store (i32.const 4) (i32.load (i32.const 204)))
          (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8))))"""
    )
    result = run(code, env={"B": "2", "API_KEY": "s3cret"})
    assert result.logs == b"API_KEY=s3cret\x00B=2\x00"


def test_run__same_request_twice__identical_envelopes(run: RunFn) -> None:
    code = wat_module(write_stdout_wat(OK_RESPONSE))
    assert run(code).envelope == run(code).envelope


def test_run__request_is_canonical_json_on_stdin(run: RunFn) -> None:
    code = wat_module(
        """(import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
        (func (export "_start")
          (i32.store (i32.const 0) (i32.const 1024))
          (i32.store (i32.const 4) (i32.const 60000))
          (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
          (i32.store (i32.const 4) (i32.load (i32.const 8)))
          (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8))))"""
    )
    request = sample_input(b'{"a":1}', q="1")
    logs = run(code, input=request).logs
    assert logs == request
    assert json.loads(logs)["query"] == {"q": "1"}


def test_wat_module__helper_compiles() -> None:
    assert wasmtime.Module.validate(wasmtime.Engine(), wat_module("")) is None


def test_run__bad_env_name__raises_invalid_request(run: RunFn) -> None:
    with pytest.raises(InvalidRequest):
        run(wat_module(write_stdout_wat(OK_RESPONSE)), env={"A=B": "c"})


def test_run__short_request_id__raises_invalid_request(run: RunFn) -> None:
    with pytest.raises(InvalidRequest):
        run(wat_module(write_stdout_wat(OK_RESPONSE)), request_id=b"\x01")


def test_run__host_function_bug__host_error_not_committable(
    run: RunFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, n: int) -> bytes:
        raise RuntimeError("bug")

    monkeypatch.setattr("peerhost.sandbox.randomness.RandomStream.read", broken)
    code = wat_module(
        """(import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
        (func (export "_start") (drop (call $r (i32.const 0) (i32.const 8))))"""
    )
    result = run(code)
    assert not result.committable
    assert (result.decoded.error_kind, result.decoded.error_detail) == (
        ErrorKind.HOST_ERROR,
        "RuntimeError",
    )
    assert result.decoded.to_http()[0] == 503


@pytest.mark.parametrize(("iovs", "count", "errno"), [(0, 2000, 28), (-16, 1, 21), (0, -1, 28)])
def test_run__hostile_iovecs__errno_not_host_work(
    outcome: Outcome, iovs: int, count: int, errno: int
) -> None:
    code = wat_module(
        f"""(func (export "_start")
          (call $proc_exit (call $fd_write (i32.const 1) (i32.const {iovs}) (i32.const {count})
            (i32.const 8))))"""
    )
    assert (outcome(code).error_detail) == str(errno)


def test_run__host_call_from_start_section__finds_memory_through_caller(run: RunFn) -> None:
    """A wasm start function runs inside instantiation, before the host knows the memory."""
    code = wat_module(
        """
        (data (i32.const 512) "early")
        (func $early
          (i32.store (i32.const 0) (i32.const 512))
          (i32.store (i32.const 4) (i32.const 5))
          (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8))))
        (start $early)
        """
        + write_stdout_wat(OK_RESPONSE)
    )
    result = run(code)
    assert result.logs == b"early"
    assert result.decoded.ok and result.decoded.body == "hi"
