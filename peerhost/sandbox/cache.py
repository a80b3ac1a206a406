"""Compiled-module cache: in memory, and on disk as host-signed ``.cwasm`` files.

Keyed by the sha256 of the module bytes and the engine fingerprint (wasmtime
version, CPU architecture, engine settings). Deserializing a ``.cwasm`` runs
native code, so the cache only ever deserializes files this host wrote: each
file carries an HMAC-SHA256 tag under a per-cache-dir key (``host.key``, mode
0600) over (fingerprint, code sha256, serialized bytes). A file that fails the
check is discarded and the module recompiled.

Modules are compiled by an engine without the instance pool (the pool changes
no code) and loaded into the pooled engine that runs them. A module the pool
cannot hold (a table larger than its slots, say) is loaded into the unpooled
``fallback`` engine instead, so the pool never changes what a module does; so is
a module whose initial memory exceeds what a slot keeps resident, which runs
faster mapped afresh.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import weakref
from collections import OrderedDict
from pathlib import Path

import wasmtime

from peerhost.sandbox.engine import POOL_KEEP_RESIDENT_BYTES, fingerprint
from peerhost.sandbox.errors import CompileFailed, CompileTimeout, InvalidModule

MAGIC = b"PHCWASM1"
TAG_BYTES = 32
COMPILER_ADDRESS_SPACE = 8 * 1024**3


def _initial_memory_bytes(module: wasmtime.Module) -> int:
    """The initial size of the module's exported memories."""
    total = 0
    for export in module.exports:
        ty = export.type
        if isinstance(ty, wasmtime.MemoryType):
            total += ty.limits.min * 65536
    return total


class ModuleCache:
    """Gives a compiled :class:`wasmtime.Module` for wasm bytes.

    Args:
        cache_dir: directory for ``.cwasm`` files and the host key.
        engine: the engine the modules are for (built by ``make_engine``).
        fallback: the same engine without the instance pool, for the modules
            ``engine``'s pool cannot hold (None: ``engine`` has no pool).
        compile_timeout_seconds: bound on one compilation.
        compile_in_subprocess: compile in a killable child process (default);
            False compiles in-process (trusted code only, e.g. benchmarks).
        memory_entries: how many modules to keep in memory.
    """

    def __init__(
        self,
        cache_dir: Path,
        engine: wasmtime.Engine,
        *,
        fallback: wasmtime.Engine | None = None,
        compile_timeout_seconds: float = 60.0,
        compile_in_subprocess: bool = True,
        memory_entries: int = 64,
    ) -> None:
        self.dir = Path(cache_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.engine = engine
        self.fallback = fallback
        self._outside_pool: weakref.WeakSet[wasmtime.Module] = weakref.WeakSet()
        self.fingerprint = fingerprint()
        self.compile_timeout = compile_timeout_seconds
        self.in_subprocess = compile_in_subprocess
        self._key = self._host_key()
        self._memory: OrderedDict[str, wasmtime.Module] = OrderedDict()
        self._memory_entries = memory_entries
        self._lock = threading.Lock()
        self._last_digest: tuple[bytes, str] | None = None
        # Code whose compilation timed out or failed here: not retried by this
        # process, so a hostile module cannot make every request recompile it.
        self._failed: dict[str, CompileFailed | CompileTimeout] = {}
        #: Where :meth:`get` found its modules (a worker's metrics and the prewarm test read them).
        self.memory_hits = 0
        self.disk_loads = 0
        self.compiles = 0

    def get(self, code: bytes, digest: str | None = None) -> wasmtime.Module:
        """The compiled module for ``code``; raises InvalidModule if it is not wasm.

        ``digest`` (the sha256 hex of ``code``) may be given when the caller
        has already verified it, to skip hashing large trusted modules.
        """
        digest = digest or self._digest(code)
        with self._lock:
            module = self._memory.get(digest)
            if module is not None:
                self._memory.move_to_end(digest)
                self.memory_hits += 1
                return module
        failed = self._failed.get(digest)
        if failed is not None:
            raise failed
        try:
            module = self._load(digest)
            if module is not None:
                self.disk_loads += 1
            else:
                module = self._deserialize(self._compile(digest, code))
        except (CompileFailed, CompileTimeout) as exc:
            self._failed[digest] = exc
            raise
        with self._lock:
            self._memory[digest] = module
            while len(self._memory) > self._memory_entries:
                self._memory.popitem(last=False)
        return module

    def loaded(self, digest: str) -> wasmtime.Module | None:
        """The module of sha256 ``digest`` if it is in memory already (never loads or compiles)."""
        with self._lock:
            return self._memory.get(digest)

    def precompile(self, code: bytes) -> bool:
        """Puts ``code``'s compiled module on disk without loading it; True if it compiled now.

        For a worker's prewarm: the compilation is bounded exactly as in :meth:`get` (validated
        first, then compiled in the killable, address-space-capped child), so a hostile module
        costs at most one compile timeout and is not retried. The processes that will run the
        module then load the host-signed file (milliseconds) instead of compiling it.

        Raises:
            InvalidModule: ``code`` is not valid wasm.
            CompileFailed, CompileTimeout: compiling failed here (remembered, not retried).
        """
        digest = self._digest(code)
        with self._lock:
            if digest in self._memory:
                return False
        failed = self._failed.get(digest)
        if failed is not None:
            raise failed
        if self.path_for(digest).exists():
            return False
        compiles = self.compiles
        try:
            self._compile(digest, code)
        except (CompileFailed, CompileTimeout) as exc:
            self._failed[digest] = exc
            raise
        return self.compiles > compiles

    def outside_pool(self, module: wasmtime.Module) -> bool:
        """True if ``module`` was loaded into the ``fallback`` engine."""
        return module in self._outside_pool

    def _deserialize(self, blob: bytes) -> wasmtime.Module:
        if self.fallback is None:
            return wasmtime.Module.deserialize(self.engine, blob)
        try:
            module = wasmtime.Module.deserialize(self.engine, blob)
        except wasmtime.WasmtimeError:
            pass  # both engines share every compilation setting: only the pool refuses it
        else:
            if _initial_memory_bytes(module) <= POOL_KEEP_RESIDENT_BYTES:
                return module
            # A memory image beyond what a pool slot keeps resident is copied back into
            # the slot on every reuse: slower than mapping it fresh (the Python runtime).
        module = wasmtime.Module.deserialize(self.fallback, blob)
        self._outside_pool.add(module)
        return module

    def _digest(self, code: bytes) -> str:
        # The same bytes object is often run many times: hash it once.
        last = self._last_digest
        if last is not None and last[0] is code and type(code) is bytes:
            return last[1]
        digest = hashlib.sha256(code).hexdigest()
        self._last_digest = (code, digest)
        return digest

    def path_for(self, digest: str) -> Path:
        return self.dir / f"{digest}.{self.fingerprint[:16]}.cwasm"

    def _host_key(self) -> bytes:
        path = self.dir / "host.key"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as f:
            key = secrets.token_bytes(32)
            f.write(key)
        return key

    def _tag(self, digest: str, blob: bytes) -> bytes:
        mac = hmac.new(self._key, self.fingerprint.encode() + digest.encode(), hashlib.sha256)
        mac.update(blob)
        return mac.digest()

    def _read(self, digest: str) -> bytes | None:
        """The serialized module on disk, if this host signed it (a bad file is removed)."""
        path = self.path_for(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        header = len(MAGIC) + TAG_BYTES
        blob = data[header:]
        if data[: len(MAGIC)] != MAGIC or not hmac.compare_digest(
            data[len(MAGIC) : header], self._tag(digest, blob)
        ):
            path.unlink(missing_ok=True)
            return None
        return blob

    def _load(self, digest: str) -> wasmtime.Module | None:
        blob = self._read(digest)
        if blob is None:
            return None
        try:
            return self._deserialize(blob)
        except wasmtime.WasmtimeError:
            self.path_for(digest).unlink(missing_ok=True)
            return None

    def _compile(self, digest: str, code: bytes) -> bytes:
        """Compiles ``code``, stores the signed file, and returns the serialized module.

        Processes sharing the cache directory (a worker's sandbox processes and its prewarm, the
        workers of a devnet) compile one module once: the first takes the module's lock file,
        the others wait for it and load what it stored.
        """
        compiler = self.fallback or self.engine
        try:
            wasmtime.Module.validate(compiler, code)
        except wasmtime.WasmtimeError:
            raise InvalidModule(digest) from None
        lock_path = self.dir / f"{digest}.lock"
        with open(lock_path, "ab") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                blob = self._read(digest)  # compiled by another process while this one waited
                if blob is not None:
                    self.disk_loads += 1
                    return blob
                if self.in_subprocess:
                    blob = self._compile_in_child(digest, code)
                else:
                    blob = bytes(wasmtime.Module(compiler, code).serialize())
                self.compiles += 1
                self._store(digest, blob)
                lock_path.unlink(missing_ok=True)  # later comers find the file first
                return blob
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _store(self, digest: str, blob: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + self._tag(digest, blob) + blob)
        os.replace(tmp, self.path_for(digest))

    def _compile_in_child(self, digest: str, code: bytes) -> bytes:
        with tempfile.TemporaryDirectory(dir=self.dir) as work:
            source, target = Path(work) / "in.wasm", Path(work) / "out.cwasm"
            source.write_bytes(code)
            command = [
                sys.executable,
                "-m",
                "peerhost.sandbox.compiler",
                str(source),
                str(target),
                str(COMPILER_ADDRESS_SPACE),
            ]
            try:
                done = subprocess.run(
                    command, capture_output=True, timeout=self.compile_timeout, check=False
                )
            except subprocess.TimeoutExpired:
                raise CompileTimeout(digest, self.compile_timeout) from None
            if done.returncode != 0 or not target.exists():
                reason = done.stderr.decode(errors="replace").strip().splitlines()
                raise CompileFailed(digest, reason[-1] if reason else f"exit {done.returncode}")
            return target.read_bytes()
