"""One execution: a fresh Store, the WASI host bound, ``_start`` called.

Maps every way a run can end to an envelope. Only trap *codes* and the
protocol's own fixed strings go into an envelope, never wasmtime's messages.
"""

from __future__ import annotations

import ctypes
import json
import logging
import weakref
from dataclasses import dataclass

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime import _func as wasmtime_func

from peerhost.sandbox import js_engine, python_engine
from peerhost.sandbox.randomness import RandomStream
from peerhost.sandbox.request import JS_RUNTIMES, RunRequest
from peerhost.sandbox.wasi import HostOutOfFuel, OutputTooLarge, ProcExit, RunIO, WasiHost
from peerhost.wire.envelope import Envelope, ErrorKind, failure
from peerhost.wire.response import OutputRejected, parse_response

logger = logging.getLogger(__name__)

TABLE_ELEMENTS = 1_000_000
MAX_TABLES = 8
#: A failed run whose memory ends this close to the cap is labelled memory_limit.
MEMORY_SLACK_BYTES = 1024 * 1024
ARGV = [b"main"]
#: wasmtime's message when the instance pool is full (see engine.POOL_INSTANCES).
POOL_EXHAUSTED = "maximum concurrent limit"
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
        if request.runtime in JS_RUNTIMES and code in (
            js_engine.EXIT_THROWN,
            js_engine.EXIT_NO_HANDLER,
        ):
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


_EXTERN_FUNC = ffi.WASMTIME_EXTERN_FUNC.value
_EXTERN_MEMORY = ffi.WASMTIME_EXTERN_MEMORY.value
_ENTRY_OK: weakref.WeakKeyDictionary[wasmtime.InstancePre, bool] = weakref.WeakKeyDictionary()


def _has_entry(pre: wasmtime.InstancePre) -> bool:
    """Whether the module exports ``_start: [] -> []`` (read once per prepared module)."""
    verdict = _ENTRY_OK.get(pre)
    if verdict is None:
        verdict = False
        for export in pre.module.exports:
            ty = export.type
            if export.name == "_start" and isinstance(ty, wasmtime.FuncType):
                verdict = not ty.params and not ty.results
        _ENTRY_OK[pre] = verdict
    return verdict


def _export(store: wasmtime.Store, instance: wasmtime.Instance, name: bytes) -> object | None:
    """The instance's export ``name`` (a Memory or the raw function), without listing them all."""
    item = ffi.wasmtime_extern_t()
    found = ffi.wasmtime_instance_export_get(
        store._context(), ctypes.byref(instance._instance), name, len(name), ctypes.byref(item)
    )
    if not found:
        return None
    if item.kind == _EXTERN_MEMORY:
        return wasmtime.Memory._from_raw(item.of.memory)
    if item.kind == _EXTERN_FUNC:
        return item.of.func
    return None


def _call_start(store: wasmtime.Store, start: ffi.wasmtime_func_t) -> None:
    """Calls ``_start`` (type already checked) the way ``Func.__call__`` does, minus its lookups."""
    with wasmtime_func.enter_wasm(store) as trap:
        error = ffi.wasmtime_func_call(
            store._context(), ctypes.byref(start), None, 0, None, 0, trap
        )
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)


def _declared_memory_too_big(module: wasmtime.Module, cap: int) -> bool:
    for export in module.exports:
        ty = export.type
        if isinstance(ty, wasmtime.MemoryType) and ty.limits.min * 65536 > cap:
            return True
    return False


@dataclass(slots=True)
class Primed:
    """A store whose instance of ``pre`` was made ahead of its run (:func:`prime`)."""

    pre: wasmtime.InstancePre
    memory_bytes: int
    store: wasmtime.Store
    instance: wasmtime.Instance


def _set_limits(store: wasmtime.Store, memory_bytes: int) -> None:
    store.set_limits(
        memory_size=memory_bytes,
        table_elements=TABLE_ELEMENTS,
        instances=1,
        tables=MAX_TABLES,
        memories=1,
    )


def prime(engine: wasmtime.Engine, pre: wasmtime.InstancePre, memory_bytes: int) -> Primed | None:
    """A store and a fresh instance of ``pre`` under a run's store limits, before any run.

    Instantiating a module without a start function runs no guest code, takes no input and
    spends no fuel: the instance is the one :func:`execute` would make (its memory the module's
    image in a reset pool slot), only made earlier. The store has no fuel, so a module whose
    instantiation would run code fails here instead (None: such a module is instantiated by its
    run, which pays for it). None too when instantiation fails for any other reason.
    """
    store = wasmtime.Store(engine)
    try:
        store.set_fuel(0)
        _set_limits(store, memory_bytes)
        instance = pre.instantiate(store)
    except Exception:  # the run itself instantiates, and reports, whatever failed here
        store.close()
        return None
    return Primed(pre, memory_bytes, store, instance)


def execute(
    *,
    engine: wasmtime.Engine,
    pre: wasmtime.InstancePre,
    wasi: WasiHost,
    request: RunRequest,
    stdin: bytes,
    epoch_ticks: int,
    start_fuel: int = 0,
    spent_stores: list[wasmtime.Store] | None = None,
    primed: Primed | None = None,
) -> Outcome:
    """Runs ``pre`` once for ``request`` with ``stdin``; never raises for the guest.

    ``start_fuel`` is charged before the guest starts: the runtime's constant
    start-up charge (see :func:`peerhost.sandbox.snapshot.start_fuel`).

    The run's store (its instance and memory) is closed before this returns, or, with
    ``spent_stores``, appended to it for the caller to close once the answer is out: closing
    resets the instance's memory slot, tens of microseconds that no result depends on.

    ``primed`` (from :func:`prime`) is used when it holds an instance of ``pre`` under this
    request's memory limit, and closed (or left in ``spent_stores``) otherwise.
    """
    limits = request.limits
    if primed is not None and (primed.pre is not pre or primed.memory_bytes != limits.memory_bytes):
        _release(primed.store, spent_stores)
        primed = None
    if start_fuel > limits.fuel:
        if primed is not None:
            _release(primed.store, spent_stores)
        spent = failure(ErrorKind.OUT_OF_FUEL, fuel_used=limits.fuel)
        return Outcome(spent, True, b"", limits.fuel)
    store = primed.store if primed is not None else wasmtime.Store(engine)
    try:
        return _run(
            store,
            pre,
            wasi,
            request,
            stdin,
            epoch_ticks,
            start_fuel,
            primed.instance if primed is not None else None,
        )
    finally:
        _release(store, spent_stores)


def _release(store: wasmtime.Store, spent_stores: list[wasmtime.Store] | None) -> None:
    # Freed explicitly, not when the collector finds it: a traceback cycle through a host
    # call's frames would otherwise keep the instance's memory for a while.
    if spent_stores is not None:
        spent_stores.append(store)
    else:
        store.close()


def _run(
    store: wasmtime.Store,
    pre: wasmtime.InstancePre,
    wasi: WasiHost,
    request: RunRequest,
    stdin: bytes,
    epoch_ticks: int,
    start_fuel: int,
    instance: wasmtime.Instance | None = None,
) -> Outcome:
    limits = request.limits
    store.set_fuel(limits.fuel - start_fuel)
    store.set_epoch_deadline(epoch_ticks)
    if instance is None:
        _set_limits(store, limits.memory_bytes)
    io = RunIO(
        stdin=stdin,
        args=list(ARGV),
        env=[f"{k}={v}".encode() for k, v in sorted(request.env.items())],
        clock_ns=request.block_timestamp * 1_000_000_000,
        random=RandomStream(request.request_id),
        max_stdout=limits.max_output_bytes,
        max_stderr=limits.max_log_bytes,
    )
    envelope: Envelope | None = None
    committable = True
    exit_code = 0
    wasi.bind(io)
    try:
        if instance is None:
            instance = pre.instantiate(store)
        memory = _export(store, instance, b"memory")
        io.memory = memory if isinstance(memory, wasmtime.Memory) else None
        if not _has_entry(pre):
            envelope = failure(ErrorKind.NO_ENTRYPOINT)
        else:
            start = _export(store, instance, b"_start")
            assert isinstance(start, ffi.wasmtime_func_t)  # the module's export, checked above
            _call_start(store, start)
    except ProcExit as exited:
        exit_code = exited.code
    except OutputTooLarge:
        envelope = failure(ErrorKind.OUTPUT_TOO_LARGE)
    except HostOutOfFuel:
        envelope = failure(ErrorKind.OUT_OF_FUEL)
    except wasmtime.Trap as trap:
        envelope, committable = _trap_failure(trap, 0)
    except wasmtime.WasmtimeError as error:
        # Not a trap after instantiation, or this host's pool full: the host's problem.
        if instance is not None or POOL_EXHAUSTED in str(error):
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
