"""The sandbox: runs one function on one input, deterministically.

``Sandbox.run`` never raises for anything the function does; every outcome is
an envelope. It raises only for host problems (missing JS engine, bad request
object).
"""

from __future__ import annotations

import threading
import time
import weakref
from pathlib import Path

import wasmtime

from peerhost.sandbox import clf, js_engine, python_engine, snapshot
from peerhost.sandbox.cache import ModuleCache
from peerhost.sandbox.engine import make_engine
from peerhost.sandbox.epoch import EpochTicker
from peerhost.sandbox.errors import CompileFailed, CompileTimeout, InvalidModule, InvalidRequest
from peerhost.sandbox.execution import Primed, execute, prime
from peerhost.sandbox.imports import check_imports
from peerhost.sandbox.request import JS_RUNTIMES, RUNTIMES, RunRequest, RunResult
from peerhost.sandbox.wasi import WasiHost
from peerhost.wire.envelope import Envelope, ErrorKind, failure
from peerhost.wire.request import bind_metadata

_Prepared = Envelope | wasmtime.InstancePre

# wasmtime-py hands a host function's exception back through one process-wide
# slot, so two runs must never be inside wasm at once in one process. Parallel
# runs use processes (SandboxPool).
_RUN_LOCK = threading.Lock()


class Sandbox:
    """A wasmtime host for functions.

    Runs are serialized within a process (see ``_RUN_LOCK``); use
    :class:`~peerhost.sandbox.pool.SandboxPool` to run on every core.

    Args:
        cache_dir: where compiled modules are cached (see :class:`ModuleCache`).
        js_engine: path of the QuickJS engine wasm (default: the repo's build).
        python_runtime: path of the Python runtime wasm (default: the repo's build).
        compile_timeout_seconds: bound on compiling one module.
        compile_in_subprocess: compile untrusted code in a killable child process.
        defer_cleanup: leave each run's store (instance and memory) for :meth:`sweep` instead of
            closing it before :meth:`run` returns, so the caller can answer first; the next run
            sweeps anything left, so at most one run's store waits.

    With ``defer_cleanup``, :meth:`prime` makes the next run's store and instance ahead of it
    (after an answer is out), so the run that follows starts at the guest's entry point.
    """

    def __init__(
        self,
        cache_dir: Path,
        *,
        js_engine: Path | None = None,
        python_runtime: Path | None = None,
        compile_timeout_seconds: float = 60.0,
        compile_in_subprocess: bool = True,
        defer_cleanup: bool = False,
    ) -> None:
        self._spent: list[wasmtime.Store] | None = [] if defer_cleanup else None
        self.engine = make_engine(pooled=True)
        self.unpooled_engine = make_engine()
        self.cache = ModuleCache(
            cache_dir,
            self.engine,
            fallback=self.unpooled_engine,
            compile_timeout_seconds=compile_timeout_seconds,
            compile_in_subprocess=compile_in_subprocess,
        )
        self.ticker = EpochTicker(self.engine, others=(self.unpooled_engine,))
        # A sandbox dropped without close() still stops its ticker: the ticker's thread holds both
        # engines, and each pooled engine reserves address space for its instance pool, so leaked
        # tickers add up until no new engine can be made.
        self._stop_ticker = weakref.finalize(self, self.ticker.stop)
        self.wasi = WasiHost()
        self.linker = wasmtime.Linker(self.engine)
        self.wasi.define(self.linker)
        self.unpooled_linker = wasmtime.Linker(self.unpooled_engine)
        self.wasi.define(self.unpooled_linker)
        self._js_engine_path = js_engine
        self._js_engine: bytes | None = None
        self._python_runtime_path = python_runtime
        self._python_runtime: bytes | None = None
        self._clf_prelude: bytes | None = None
        self._prepared: dict[int, tuple[wasmtime.Module, _Prepared, wasmtime.Engine]] = {}
        self._js_start_fuel: int | None = None
        self._primed: Primed | None = None

    @property
    def js_engine(self) -> bytes:
        """The verified QuickJS engine bytes (loaded once)."""
        if self._js_engine is None:
            self._js_engine = js_engine.load_engine(self._js_engine_path)
        return self._js_engine

    @property
    def python_runtime(self) -> bytes:
        """The verified Python runtime bytes (loaded once)."""
        if self._python_runtime is None:
            self._python_runtime = python_engine.load_engine(self._python_runtime_path)
        return self._python_runtime

    @property
    def clf_prelude(self) -> bytes:
        """The verified clf prelude (loaded once)."""
        if self._clf_prelude is None:
            self._clf_prelude = clf.load_prelude()
        return self._clf_prelude

    @property
    def js_start_fuel(self) -> int:
        """The fuel every js run is charged for the engine start-up its snapshot skips."""
        if self._js_start_fuel is None:
            self._js_start_fuel = snapshot.start_fuel(self.js_engine)
        return self._js_start_fuel

    def warm(self, runtime: str, code: bytes = b"") -> None:
        """Compiles (or loads from the cache) what ``runtime`` needs for ``code``."""
        self._module(runtime, code)

    def _module(self, runtime: str, code: bytes) -> wasmtime.Module:
        if runtime in JS_RUNTIMES:
            return self.cache.get(self.js_engine, digest=js_engine.ENGINE_SHA256)
        if runtime == "python":
            return self.cache.get(self.python_runtime, digest=python_engine.ENGINE_SHA256)
        return self.cache.get(code)

    def _stdin(self, request: RunRequest, bound: bytes) -> bytes:
        if request.runtime == "js":
            return js_engine.engine_stdin(request.code, bound)
        if request.runtime == "clf":
            return js_engine.engine_stdin(clf.compose(request.code, self.clf_prelude), bound)
        if request.runtime == "python":
            return python_engine.engine_stdin(request.code, request.env, bound)
        return bound

    def run(self, request: RunRequest) -> RunResult:
        """Runs ``request``; every outcome of the function is an envelope."""
        if self._spent:
            self.sweep()
        started = time.perf_counter()
        if len(request.request_id) != 32:
            raise InvalidRequest("request_id must be 32 bytes")
        for name, value in request.env.items():
            if not name or "=" in name or "\0" in name or "\0" in value:
                raise InvalidRequest(f"bad environment variable name or value: {name!r}")
        limits = request.limits
        early = self._precheck(request)
        if early is not None:
            return self._result(early, True, b"", 0, started)
        bound = bind_metadata(
            request.input, request_id=request.request_id, block_timestamp=request.block_timestamp
        )
        stdin = self._stdin(request, bound)
        try:
            module = self._module(request.runtime, request.code)
        except InvalidModule:
            return self._result(failure(ErrorKind.INVALID_MODULE), True, b"", 0, started)
        except CompileTimeout:
            timed_out = failure(ErrorKind.TIMEOUT, "compile timed out", fuel_used=None)
            return self._result(timed_out, False, b"", 0, started)
        except CompileFailed:
            broken = failure(ErrorKind.HOST_ERROR, "compile failed", fuel_used=None)
            return self._result(broken, False, b"", 0, started)
        prepared, engine = self._prepare(module)
        if isinstance(prepared, Envelope):
            return self._result(prepared, True, b"", 0, started)
        with _RUN_LOCK:  # a primed instance is taken by one run only, whatever thread runs it
            epoch_ticks = self.ticker.ticks_for(limits.wall_clock_seconds)
            start_fuel = self.js_start_fuel if request.runtime in JS_RUNTIMES else 0
            primed, self._primed = self._primed, None  # nothing raises between this and its run
            outcome = execute(
                engine=engine,
                pre=prepared,
                wasi=self.wasi,
                request=request,
                stdin=stdin,
                epoch_ticks=epoch_ticks,
                start_fuel=start_fuel,
                spent_stores=self._spent,
                primed=primed,
            )
        return self._result(
            outcome.envelope, outcome.committable, outcome.logs, outcome.fuel_used, started
        )

    def sweep(self) -> None:
        """Closes the stores of finished runs left by ``defer_cleanup`` (nothing otherwise)."""
        spent = self._spent
        while spent:
            spent.pop().close()

    def prime(self, runtime: str, memory_bytes: int) -> bool:
        """Makes the store and instance of the next ``runtime`` run under ``memory_bytes`` now.

        For the runtimes whose module is the same for every function (``js`` and ``clf``: the
        engine; ``python``: the runtime), and only with ``defer_cleanup`` (whoever primes also
        sweeps; runs of one sandbox are serialized, so a primed instance waits for one run). The
        next run uses it when its runtime's module and memory limit are these (what it computes
        is the same either way: :func:`~peerhost.sandbox.execution.prime`), and closes it
        otherwise. A run already primed is left as it is. Loads nothing: False when the
        runtime's module is not compiled and loaded yet, or the instance could not be made.
        """
        if self._spent is None or runtime not in (*JS_RUNTIMES, "python"):
            return False
        if self._primed is not None:  # (checked again under the lock below)
            return True
        digest = python_engine.ENGINE_SHA256 if runtime == "python" else js_engine.ENGINE_SHA256
        module = self.cache.loaded(digest)
        if module is None:
            return False
        prepared, engine = self._prepare(module)
        if isinstance(prepared, Envelope):
            return False
        with _RUN_LOCK:
            if self._primed is None:  # another thread may have primed meanwhile: never replaced
                self._primed = prime(engine, prepared, memory_bytes)
            return self._primed is not None

    @property
    def primed(self) -> bool:
        """Whether the next run's store and instance are made already (:meth:`prime`)."""
        return self._primed is not None

    @property
    def pending_cleanup(self) -> int:
        """Finished runs whose store :meth:`sweep` has not closed yet."""
        return len(self._spent or ())

    def close(self) -> None:
        """Stops the epoch ticker thread (the sandbox cannot run afterwards)."""
        primed, self._primed = self._primed, None
        if primed is not None:
            primed.store.close()
        self.sweep()
        self._stop_ticker()

    def _precheck(self, request: RunRequest) -> Envelope | None:
        limits = request.limits
        if request.runtime not in RUNTIMES:
            return failure(ErrorKind.UNSUPPORTED_RUNTIME, request.runtime[:64])
        if len(request.code) > limits.max_code_bytes:
            return failure(ErrorKind.CODE_TOO_LARGE)
        if len(request.input) > limits.max_input_bytes:
            return failure(ErrorKind.INPUT_TOO_LARGE)
        return None

    def _prepare(self, module: wasmtime.Module) -> tuple[_Prepared, wasmtime.Engine]:
        """The import check's verdict, or the module pre-linked, and its engine (memoized)."""
        entry = self._prepared.get(id(module))
        if entry is not None and entry[0] is module:
            return entry[1], entry[2]
        if len(self._prepared) > 256:
            self._prepared.clear()
        if self.cache.outside_pool(module):
            linker, engine = self.unpooled_linker, self.unpooled_engine
        else:
            linker, engine = self.linker, self.engine
        prepared: _Prepared = check_imports(module) or linker.instantiate_pre(module)
        self._prepared[id(module)] = (module, prepared, engine)
        return prepared, engine

    @staticmethod
    def _result(
        envelope: Envelope, committable: bool, logs: bytes, fuel_used: int, started: float
    ) -> RunResult:
        return RunResult(
            envelope=envelope.encode(),
            committable=committable,
            logs=logs,
            fuel_used=fuel_used,
            duration_seconds=time.perf_counter() - started,
        )
