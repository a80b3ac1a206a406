"""Fetch a job's code and input (verified), and run it in the sandbox.

Code comes from the content store by CID (the local cache first; every read is verified against
the CID by the store). The input is the event's inline bytes or, for a large one, fetched by CID;
either way its keccak must equal the job's ``inputHash``. Secrets come from the project's sealed
bundle (as of the request's block), opened with this worker's X25519 key. Anything that cannot be
fetched, verified or opened raises :class:`~peerhost.worker.errors.JobSkipped`: the worker never
commits a guess. An input with sealed credential headers (:mod:`peerhost.wire.credentials`) is
opened with the values its gateway discloses, each checked against its on-chain commitment. The
function's stderr becomes its log here, with the project's secret values masked and capped
(:func:`~peerhost.functionlogs.prepare_log`), before anything else sees it.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from peerhost.functionlogs import prepare_log
from peerhost.sandbox import Limits, RunRequest, RunResult, Sandbox, SandboxPool
from peerhost.sandbox.cache import ModuleCache
from peerhost.sandbox.engine import make_engine
from peerhost.sandbox.execution import BACKSTOP_DETAIL
from peerhost.secrets.errors import SecretsError
from peerhost.secrets.resolver import SecretsResolver
from peerhost.storage.base import ContentSource
from peerhost.storage.cid import cid_from_bytes
from peerhost.storage.errors import StorageError
from peerhost.wire.credentials import CredentialMismatch, sealed_names
from peerhost.wire.envelope import ErrorKind
from peerhost.wire.ticket import input_hash_of
from peerhost.worker.errors import JobSkipped
from peerhost.worker.job import Job

#: Bytes of function code kept in memory by CID (code is immutable; the store stays the source).
_CODE_CACHE_BYTES = 64 * 2**20
#: Fuel a ``js`` run may spend on the event loop's thread before it goes to the pool (about 2 ms
#: of JavaScript here; the JS engine alone spends about 2 million starting up).
INLINE_FUEL = 20_000_000
#: Code ids remembered as too heavy to try inline.
_HEAVY_REMEMBERED = 1024

Runner = Callable[[RunRequest], Awaitable[RunResult]]
#: What a worker strategy (:mod:`peerhost.worker.strategies`) puts between a job and its result:
#: (job, the honest run) -> the execution the worker attests, commits and reveals.
ExecutionHook = Callable[["Job", Callable[[], Awaitable["Execution"]]], Awaitable["Execution"]]
#: Opens sealed credential headers: (reply URL, input hash, input) -> the input with values.
Unsealer = Callable[[str, bytes, bytes], Awaitable[bytes]]


#: A code CID's text, remembered: every run names its code by it (parsing a binary CID costs
#: about 6 µs, on each ticket's path).
_code_id = lru_cache(maxsize=1024)(cid_from_bytes)


@dataclass(frozen=True)
class Execution:
    """A finished run: the envelope to commit, the function's log (redacted, capped, never
    hashed), and how long fetching and running took."""

    envelope: bytes
    committable: bool
    fuel_used: int
    fetch_seconds: float
    run_seconds: float
    log: str = ""


class SandboxRunner:
    """Runs requests in a :class:`~peerhost.sandbox.SandboxPool` of processes, or (with
    ``processes=0``) in one sandbox on a background thread.

    With a pool, :meth:`run_urgent` (an answer someone waits for: a feed ticket) first tries a
    ``js`` run on the calling thread with its fuel capped at ``inline_fuel`` (about 2 ms of
    JavaScript; the event loop waits that long at most): fuel is deterministic, so a run that finishes
    within the cap is exactly the run the pool would make, and a small function's answer skips
    the two process hops (each a wake-up that a busy machine delays by milliseconds). A run that
    spends the cap is run again in the pool with its own limits, and its code is not tried
    inline again; a run that is not committable (the wall-clock backstop) goes to the pool too.
    Only ``js``: its engine is loaded at :meth:`warm`, so a trial never compiles a module.

    After each inline run (on the event loop's next turn, once the answer is on its way) the
    run's store is closed and the next js run's store and engine instance are made
    (:meth:`Sandbox.prime`): they depend on no ticket, and a worker woken for a ticket would
    otherwise make them on the answer's path with its caches cold.
    """

    def __init__(self, cache_dir: Path, processes: int, inline_fuel: int = INLINE_FUEL) -> None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        self._pool: SandboxPool | None = None
        self._sandbox: Sandbox | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox")
        self.inline_fuel = inline_fuel
        self._inline_ready = False
        self._heavy: OrderedDict[str, None] = OrderedDict()  # code ids that outran the trial
        self._trial_limits: dict[Limits, Limits] = {}  # a function's limits, fuel capped
        self.inline_runs = 0
        self._cache_dir = cache_dir
        self._precompiler: ModuleCache | None = None  # built at the first prewarm
        # compiling a prewarmed module never holds up a run: a thread of its own
        self._compile_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prewarm")
        if processes > 0:
            self._pool = SandboxPool(processes, cache_dir=cache_dir)
            if inline_fuel > 0:
                # an inline run's store is closed after the answer is sent (run_urgent)
                self._sandbox = Sandbox(cache_dir, defer_cleanup=True)
        else:
            self._sandbox = Sandbox(cache_dir)

    async def warm(self) -> None:
        """Loads the JS engine (compiled once, then cached) before the first job needs it."""
        loop = asyncio.get_running_loop()
        if self._pool is not None:
            await self._pool.warm("js")
        if self._sandbox is not None:
            await loop.run_in_executor(self._thread, self._sandbox.warm, "js", b"")
            self._inline_ready = self._pool is not None
            if self._inline_ready:
                self._sandbox.prime("js", Limits().memory_bytes)

    async def prewarm(self, runtime: str, code: bytes) -> bool:
        """Gets ``code`` ready to run before its first call; True if it was compiled now.

        A ``wasi`` module is compiled on disk (bounded as the sandbox bounds it: validated, then
        compiled in a killable child with capped memory, a failure remembered and not retried)
        on a thread of its own, then loaded into every sandbox process, so the first run neither
        compiles nor loads. ``python`` loads its runtime everywhere; ``js`` and ``clf`` need
        nothing more (their engine is loaded at :meth:`warm`).

        Raises:
            InvalidModule, CompileFailed, CompileTimeout: as :meth:`ModuleCache.precompile`.
        """
        loop = asyncio.get_running_loop()
        compiled = False
        if runtime == "wasi":
            compiled = await loop.run_in_executor(self._compile_thread, self._precompile, code)
        elif runtime != "python":
            return False
        if self._pool is not None:
            await self._pool.warm(runtime, code)
        else:
            assert self._sandbox is not None
            await loop.run_in_executor(self._thread, self._sandbox.warm, runtime, code)
        return compiled

    def _precompile(self, code: bytes) -> bool:
        if self._precompiler is None:
            self._precompiler = (
                self._sandbox.cache
                if self._sandbox is not None
                else ModuleCache(self._cache_dir, make_engine())
            )
        return self._precompiler.precompile(code)

    @property
    def compiles(self) -> int:
        """Modules this process compiled (prewarm and in-process runs; not the pool's)."""
        caches = [self._sandbox.cache] if self._sandbox is not None else []
        if self._precompiler is not None and self._precompiler not in caches:
            caches.append(self._precompiler)
        return sum(cache.compiles for cache in caches)

    async def run_urgent(self, request: RunRequest) -> RunResult:
        """:meth:`run`, trying a small ``js`` run inline first (class docstring)."""
        if self._pool is not None and self._inline_ready and request.runtime == "js":
            result = self._try_inline(request)
            if result is not None:
                return result
        return await self.run(request)

    async def run(self, request: RunRequest) -> RunResult:
        if self._pool is not None:
            return await self._pool.run(request)
        assert self._sandbox is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._sandbox.run, request)

    def _try_inline(self, request: RunRequest) -> RunResult | None:
        """The run on this thread within ``inline_fuel``, or None when the pool must run it."""
        if request.code_id in self._heavy:
            self._heavy.move_to_end(request.code_id)
            return None
        assert self._sandbox is not None
        limits = request.limits
        capped = limits.fuel > self.inline_fuel
        if capped:
            trial_limits = self._trial_limits.get(limits)
            if trial_limits is None:
                if len(self._trial_limits) >= _HEAVY_REMEMBERED:
                    self._trial_limits.clear()
                trial_limits = self._trial_limits[limits] = replace(limits, fuel=self.inline_fuel)
            # built field by field: dataclasses.replace costs about 20 µs on a slotted dataclass
            trial = RunRequest(
                runtime=request.runtime,
                code=request.code,
                code_id=request.code_id,
                input=request.input,
                env=request.env,
                request_id=request.request_id,
                block_timestamp=request.block_timestamp,
                limits=trial_limits,
            )
        else:
            trial = request
        result = self._sandbox.run(trial)
        # on the loop's next turn, after this ticket's answer is on its way: the run's store
        # closed, the next run's instance made
        asyncio.get_running_loop().call_soon(self._after_inline, limits.memory_bytes)
        if not result.committable:
            return None
        # only a run that spent all its fuel can have run out of it (decoding is for that case)
        if (
            capped
            and result.fuel_used >= trial.limits.fuel  # the trial's own cap, as it ran
            and result.decoded.error_kind is ErrorKind.OUT_OF_FUEL
        ):
            self._heavy[request.code_id] = None
            while len(self._heavy) > _HEAVY_REMEMBERED:
                self._heavy.popitem(last=False)
            return None
        self.inline_runs += 1
        return result

    def _after_inline(self, memory_bytes: int) -> None:
        assert self._sandbox is not None
        self._sandbox.sweep()
        self._sandbox.prime("js", memory_bytes)

    async def close(self) -> None:
        if self._pool is not None:
            await asyncio.to_thread(self._pool.close)
        self._thread.shutdown(wait=False, cancel_futures=True)
        self._compile_thread.shutdown(wait=False, cancel_futures=True)
        if self._sandbox is not None:
            self._sandbox.close()


class JobExecutor:
    """Fetches and runs jobs.

    Args:
        store: Where code and large inputs live (verified reads).
        run: Runs one sandbox request.
        wall_clock_seconds: The sandbox's local backstop.
    """

    def __init__(
        self,
        store: ContentSource,
        run: Runner,
        wall_clock_seconds: float,
        secrets: SecretsResolver | None = None,
        unseal: Unsealer | None = None,
        hook: ExecutionHook | None = None,
    ) -> None:
        self.store = store
        self.hook = hook
        self._unseal = unseal
        self._run = run
        self.wall_clock_seconds = wall_clock_seconds
        self.secrets = secrets
        # code is content-addressed (immutable): the hot path keeps recent code in memory
        self._code: OrderedDict[bytes, bytes] = OrderedDict()
        self._code_bytes = 0
        self._run_limits: dict[tuple[int, int], Limits] = {}

    async def _env(self, job: Job) -> dict[str, str]:
        if self.secrets is None:
            return {}
        try:
            return await self.secrets.env_for_function(
                job.function_id, now=job.requested_at, block=job.block_number
            )
        except (SecretsError, StorageError) as exc:
            raise JobSkipped(job.request_id, f"secrets unavailable: {exc}") from exc

    async def _fetch(self, job: Job, cid: bytes, what: str) -> bytes:
        try:
            text = cid_from_bytes(cid)
            return await asyncio.to_thread(self.store.get, text)
        except StorageError as exc:
            raise JobSkipped(job.request_id, f"{what} unavailable: {exc}") from exc

    async def _code_of(self, job: Job) -> bytes:
        code = self._code.get(job.code_cid)
        if code is not None:
            self._code.move_to_end(job.code_cid)
            return code
        return self._keep(job.code_cid, await self._fetch(job, job.code_cid, "code"))

    async def prefetch(self, code_cid: bytes) -> bytes:
        """The code for ``code_cid``, fetched (verified) and kept in memory for the first job
        that runs it (a worker's prewarm on publish). Raises StorageError when unavailable."""
        code = self._code.get(code_cid)
        if code is not None:
            return code
        return self._keep(
            code_cid, await asyncio.to_thread(self.store.get, cid_from_bytes(code_cid))
        )

    def _limits(self, fuel: int, memory_bytes: int) -> Limits:
        """A function version's run limits, made (and validated) once per distinct pair."""
        key = (fuel, memory_bytes)
        limits = self._run_limits.get(key)
        if limits is None:
            if len(self._run_limits) >= _HEAVY_REMEMBERED:
                self._run_limits.clear()
            limits = self._run_limits[key] = Limits(
                fuel=fuel, memory_bytes=memory_bytes, wall_clock_seconds=self.wall_clock_seconds
            )
        return limits

    def _keep(self, code_cid: bytes, code: bytes) -> bytes:
        if code_cid in self._code:
            return self._code[code_cid]
        self._code[code_cid] = code
        self._code_bytes += len(code)
        while self._code_bytes > _CODE_CACHE_BYTES and len(self._code) > 1:
            _, dropped = self._code.popitem(last=False)
            self._code_bytes -= len(dropped)
        return code

    async def execute(
        self, job: Job, run: Runner | None = None, *, input_checked: bool = False
    ) -> Execution:
        """Fetches code and input, runs the function (through ``run`` when given), returns the
        envelope; a ``hook`` (a worker strategy) decides what becomes of the honest run.
        ``input_checked``: the caller compared the job's inline input with its inputHash (a
        feed ticket's check did): not hashed again.

        Raises:
            JobSkipped: code or input unavailable or not matching, or the backstop fired.
        """
        if self.hook is not None:
            return await self.hook(job, lambda: self._execute(job, run, input_checked))
        return await self._execute(job, run, input_checked)

    async def _execute(self, job: Job, run: Runner | None, input_checked: bool) -> Execution:
        started = time.perf_counter()
        code = await self._code_of(job)
        data = job.input if not job.input_cid else await self._fetch(job, job.input_cid, "input")
        checked = input_checked and not job.input_cid
        if not checked and input_hash_of(data) != job.input_hash:
            raise JobSkipped(job.request_id, "input does not match inputHash")
        if sealed_names(data):
            if self._unseal is None:
                raise JobSkipped(job.request_id, "sealed credentials, and no way to open them")
            try:
                data = await self._unseal(job.reply_url, job.input_hash, data)
            except CredentialMismatch as exc:
                raise JobSkipped(job.request_id, f"credentials unavailable: {exc}") from None
        env = await self._env(job)
        fetched = time.perf_counter()
        request = RunRequest(
            runtime=job.runtime,
            code=code,
            code_id=_code_id(job.code_cid),
            input=data,
            env=env,
            request_id=job.request_id,
            block_timestamp=job.requested_at,
            limits=self._limits(job.fuel_limit, job.memory_limit),
        )
        result = await (run or self._run)(request)
        ran = time.perf_counter()
        if not result.committable:
            raise JobSkipped(job.request_id, _not_committable(result))
        return Execution(
            envelope=result.envelope,
            committable=result.committable,
            fuel_used=result.fuel_used,
            fetch_seconds=fetched - started,
            run_seconds=ran - fetched,
            log=prepare_log(result.logs, env.values()),
        )


def _not_committable(result: RunResult) -> str:
    """Why a run gave nothing to commit, from its envelope's fixed kind and detail: the
    wall-clock backstop, or a local failure of this host (a compile timeout, a host error)."""
    envelope = result.decoded
    if envelope.error_kind is ErrorKind.TIMEOUT and envelope.error_detail == BACKSTOP_DETAIL:
        return "the wall-clock backstop fired"
    kind = envelope.error_kind.value if envelope.error_kind is not None else "no error kind"
    detail = f" ({envelope.error_detail})" if envelope.error_detail else ""
    return f"no committable result on this host: {kind}{detail}"
