"""One execution: a fresh Store, the WASI host bound, ``_start`` called.

Maps every way a run can end to an envelope. Only trap *codes* and the
protocol's own fixed strings go into an envelope, never wasmtime's messages.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import wasmtime

from peerhost.sandbox import js_engine, python_engine
from peerhost.sandbox.randomness import RandomStream
from peerhost.sandbox.request import RunRequest
from peerhost.sandbox.wasi import HostOutOfFuel, OutputTooLarge, ProcExit, RunIO, WasiHost
from peerhost.wire.envelope import Envelope, ErrorKind, failure
from peerhost.wire.response import OutputRejected, parse_response

logger = logging.getLogger(__name__)

TABLE_ELEMENTS = 1_000_000
MAX_TABLES = 8
#: A failed run whose memory ends this close to the cap is labelled memory_limit.
MEMORY_SLACK_BYTES = 1024 * 1024
ARGV = [b"main"]
#: The detail of a TIMEOUT envelope when the wall-clock backstop (epoch interruption) fired.
BACKSTOP_DETAIL = "wall-clock backstop"


@dataclass(frozen=True, slots=True)
class Outcome:
    envelope: Envelope
    committable: bool
    logs: bytes
    fuel_used: int


def _trap_failure(trap: wasmtime.Trap, fuel_used: int) -> tuple[Envelope, bool]:
    code = trap.trap_code
    if code is wasmtime.TrapCode.OUT_OF_FUEL:
        return failure(ErrorKind.OUT_OF_FUEL, fuel_used=fuel_used), True
    if code is wasmtime.TrapCode.INTERRUPT:
        return failure(ErrorKind.TIMEOUT, BACKSTOP_DETAIL, fuel_used=None), False
    if code is wasmtime.TrapCode.STACK_OVERFLOW:
        # Where native stack runs out depends on the host's code generation,
        # so the fuel spent by then is not committed.
        return failure(ErrorKind.STACK_OVERFLOW, fuel_used=None), True
    name = code.name.lower() if code is not None else "unknown"
    return failure(ErrorKind.TRAP, name, fuel_used=fuel_used), True


def _host_error(error: BaseException) -> tuple[Envelope, bool]:
    logger.exception("sandbox host error", exc_info=error)
    return failure(ErrorKind.HOST_ERROR, type(error).__name__, fuel_used=None), False


def _js_error_detail(stdout: bytes) -> str:
    try:
        message = json.loads(stdout)
    except ValueError:
        return "uncaught exception"
    return message if isinstance(message, str) else "uncaught exception"


def _exited(request: RunRequest, code: int, stdout: bytes, fuel_used: int) -> Envelope:
    if code != 0:
        if request.runtime == "js" and code in (js_engine.EXIT_THROWN, js_engine.EXIT_NO_HANDLER):
            return failure(ErrorKind.JS_ERROR, _js_error_detail(stdout), fuel_used=fuel_used)
        if request.runtime == "python":
            if code in (python_engine.EXIT_RAISED, python_engine.EXIT_NO_HANDLER):
                detail = _js_error_detail(stdout)
                return failure(ErrorKind.PYTHON_ERROR, detail, fuel_used=fuel_used)
            if code == python_engine.EXIT_MEMORY:
                return failure(ErrorKind.MEMORY_LIMIT, "MemoryError", fuel_used=fuel_used)
        return failure(ErrorKind.EXIT, str(code), fuel_used=fuel_used)
    try:
        response = parse_response(stdout)
    except OutputRejected as rejected:
        return failure(ErrorKind.INVALID_OUTPUT, str(rejected), fuel_used=fuel_used)
    return Envelope(
        ok=True,
        status=response.status,
        headers=response.headers,
        body=response.body,
        body_encoding=response.body_encoding,
        fuel_used=fuel_used,
    )


def _memory_bytes(store: wasmtime.Store, instance: wasmtime.Instance | None) -> int:
    if instance is None:
        return 0
    memory = instance.exports(store).get("memory")
    return memory.data_len(store) if isinstance(memory, wasmtime.Memory) else 0


def _declared_memory_too_big(module: wasmtime.Module, cap: int) -> bool:
    for export in module.exports:
        ty = export.type
        if isinstance(ty, wasmtime.MemoryType) and ty.limits.min * 65536 > cap:
            return True
    return False


def execute(
    *,
    engine: wasmtime.Engine,
    pre: wasmtime.InstancePre,
    wasi: WasiHost,
    request: RunRequest,
    stdin: bytes,
    epoch_ticks: int,
) -> Outcome:
    """Runs ``pre`` once for ``request`` with ``stdin``; never raises for the guest."""
    limits = request.limits
    store = wasmtime.Store(engine)
    store.set_fuel(limits.fuel)
    store.set_epoch_deadline(epoch_ticks)
    store.set_limits(
        memory_size=limits.memory_bytes,
        table_elements=TABLE_ELEMENTS,
        instances=1,
        tables=MAX_TABLES,
        memories=1,
    )
    io = RunIO(
        stdin=stdin,
        args=list(ARGV),
        env=[f"{k}={v}".encode() for k, v in sorted(request.env.items())],
        clock_ns=request.block_timestamp * 1_000_000_000,
        random=RandomStream(request.request_id),
        max_stdout=limits.max_output_bytes,
        max_stderr=limits.max_log_bytes,
    )
    instance: wasmtime.Instance | None = None
    envelope: Envelope | None = None
    committable = True
    exit_code = 0
    wasi.bind(io)
    try:
        instance = pre.instantiate(store)
        exports = instance.exports(store)
        memory = exports.get("memory")
        io.memory = memory if isinstance(memory, wasmtime.Memory) else None
        start = exports.get("_start")
        if (
            not isinstance(start, wasmtime.Func)
            or start.type(store).params
            or start.type(store).results
        ):
            envelope = failure(ErrorKind.NO_ENTRYPOINT)
        else:
            start(store)
    except ProcExit as exited:
        exit_code = exited.code
    except OutputTooLarge:
        envelope = failure(ErrorKind.OUTPUT_TOO_LARGE)
    except HostOutOfFuel:
        envelope = failure(ErrorKind.OUT_OF_FUEL)
    except wasmtime.Trap as trap:
        envelope, committable = _trap_failure(trap, 0)
    except wasmtime.WasmtimeError as error:
        if instance is not None:  # not a trap, after instantiation: the host's problem
            envelope, committable = _host_error(error)
        elif _declared_memory_too_big(pre.module, limits.memory_bytes):
            envelope = failure(ErrorKind.MEMORY_LIMIT)
        else:
            envelope = failure(ErrorKind.LINK_ERROR, "instantiation failed")
    except Exception as error:  # a bug of the host functions: never committed
        envelope, committable = _host_error(error)
    finally:
        wasi.bind(None)
    fuel_used = limits.fuel - store.get_fuel()
    if envelope is None:
        envelope = _exited(request, exit_code, bytes(io.stdout), fuel_used)
    elif envelope.fuel_used is not None:
        envelope = failure(envelope.error_kind or ErrorKind.TRAP, envelope.error_detail, fuel_used)
    if envelope.error_kind in (
        ErrorKind.TRAP,
        ErrorKind.EXIT,
        ErrorKind.JS_ERROR,
        ErrorKind.PYTHON_ERROR,
    ) and (_memory_bytes(store, instance) + MEMORY_SLACK_BYTES > limits.memory_bytes):
        envelope = failure(ErrorKind.MEMORY_LIMIT, envelope.error_detail, fuel_used)
    return Outcome(envelope, committable, bytes(io.stderr), fuel_used)
