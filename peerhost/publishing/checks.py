"""Checks at publish: nothing reaches the store or the chain before every function passes.

Each refusal names the file and the rule it breaks (:class:`CheckFailed`):

- ``code-size``: the code fits the sandbox's cap.
- ``valid-wasm``: a wasi module validates under the sandbox's engine configuration (no threads,
  no relaxed SIMD, ...).
- ``import-policy``: it imports only the deterministic WASI functions the sandbox provides, with
  their exact signatures.
- ``entrypoint``: it exports ``_start`` taking and returning nothing.
- ``memory-limit``: the memory it declares fits the function's memory limit.
- ``js-compiles``: js source is UTF-8, parses (esbuild, bundling it), compiles as an ES module,
  and its top level runs (in the local sandbox, up to its last statement, which the check
  appends).
- ``js-imports``: every import resolves (project modules, npm packages in ``node_modules``) and
  none is a Node built-in (``fs``, ``net``, ``child_process``, ...), which cannot run in the
  sandbox.
- ``js-handler-export``: the module matches one of the js runtime's handler shapes (a ``handler``
  or default function, a default object with a ``fetch`` method, an Express-style default
  ``(req, res)`` function), as the engine itself decides.
- ``clf-compiles``: a clf source is UTF-8, holds no static ``import``/``export`` (it is a function
  body, as Chainlink Functions ran it) and compiles as the body of an async function.
- ``python-compiles``: a Python source is UTF-8 and compiles (with the publisher's CPython).
- ``python-handler``: it defines ``handler`` at top level.
- ``python-imports``: it imports (at any depth) no module the Python runtime refuses or does not
  build (``socket``, ``subprocess``, ``threading``, ``asyncio``, ``ctypes``, ...).
- ``sample-run`` (``--check`` only): one run on a sample request (``GET /``) in the local sandbox
  ends with a response, not a trap, an out-of-fuel or a thrown error.

The local sandbox is the workers' own (same engine, same limits), so a module that passes runs
the same way on every worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import wasmtime

from peerhost.publishing.errors import BundleFailed, PublishError
from peerhost.publishing.manifest import FunctionSpec, ProjectSpec
from peerhost.publishing.python_check import PythonRefused
from peerhost.sandbox import Limits, RunRequest, Sandbox, clf
from peerhost.sandbox.engine import make_engine
from peerhost.sandbox.imports import check_imports
from peerhost.wire import Envelope, ErrorKind, canonical_request

CACHE_ENV = "PEERHOST_SANDBOX_CACHE"
_LOADED = "peerhost-publish-check: module loaded"
#: The start of the engine's error for a module that matches no handler shape (tools/quickjs/prelude.js).
_NO_HANDLER = "the module matches no handler shape"
SAMPLE_ID = bytes.fromhex("5e" * 32)


class CheckFailed(PublishError, ValueError):
    """A function breaks a publish rule."""

    def __init__(self, path: Path, rule: str, reason: str) -> None:
        self.path = path
        self.rule = rule
        super().__init__(f"{path.name}: refused ({rule}): {reason}. Nothing was published.")


@dataclass(frozen=True)
class SampleRun:
    """What ``--check`` saw of one function's sample run."""

    name: str
    status: int
    body_bytes: int
    fuel_used: int
    log: str


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "peerhost" / "sandbox")


class Checker:
    """Runs the checks; the local sandbox is made on first need (js and ``--check``).

    Args:
        cache_dir: Where the local sandbox caches compiled modules (the JS engine takes ~10 s to
            compile once).
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir or default_cache_dir()
        self._sandbox: Sandbox | None = None
        self._engine: wasmtime.Engine | None = None

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            self._sandbox = Sandbox(self.cache_dir)
        return self._sandbox

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def check_project(self, project: ProjectSpec, sample: bool = False) -> list[SampleRun]:
        """Checks every function (and with ``sample`` runs each once); raises CheckFailed."""
        codes = {spec.name: _code(spec) for spec in project.functions}
        for spec in project.functions:
            self.check(spec, codes[spec.name])
        if not sample:
            return []
        return [self.sample_run(project.name, spec, codes[spec.name]) for spec in project.functions]

    def check(self, spec: FunctionSpec, code: bytes) -> None:
        """The static checks of one function (see the module docstring)."""
        cap = Limits().max_code_bytes
        if len(code) > cap:
            raise CheckFailed(spec.path, "code-size", f"{len(code):,} bytes; the cap is {cap:,}")
        if spec.runtime == "wasi":
            self._check_wasm(spec, code)
        elif spec.runtime == "js":
            self._check_js(spec, code)
        elif spec.runtime == "clf":
            self._check_clf(spec, code)

    def _check_wasm(self, spec: FunctionSpec, code: bytes) -> None:
        if self._engine is None:
            self._engine = make_engine()
        try:
            wasmtime.Module.validate(self._engine, code)
            module = wasmtime.Module(self._engine, code)
        except wasmtime.WasmtimeError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
            raise CheckFailed(
                spec.path, "valid-wasm", f"not a valid WebAssembly module for the sandbox ({first})"
            ) from None
        refused = check_imports(module)
        if refused is not None:
            raise CheckFailed(
                spec.path,
                "import-policy",
                f"it imports {refused.error_detail}; functions may import only the "
                "wasi_snapshot_preview1 functions the sandbox provides (no network, files, "
                "threads or other modules)",
            )
        start = next((e for e in module.exports if e.name == "_start"), None)
        if (
            start is None
            or not isinstance(start.type, wasmtime.FuncType)
            or start.type.params
            or start.type.results
        ):
            raise CheckFailed(
                spec.path,
                "entrypoint",
                "it exports no `_start` function taking and returning nothing (build it as a "
                "WASI command, e.g. clang --target=wasm32-wasi)",
            )
        for export in module.exports:
            ty = export.type
            if isinstance(ty, wasmtime.MemoryType) and ty.limits.min * 65536 > spec.memory:
                raise CheckFailed(
                    spec.path,
                    "memory-limit",
                    f"its memory starts at {ty.limits.min * 65536:,} bytes, over the function's "
                    f'memory limit of {spec.memory:,} (raise "memory" in project.json)',
                )

    def _run(self, spec: FunctionSpec, code: bytes, input: bytes) -> tuple[Envelope, str]:
        result = self.sandbox.run(
            RunRequest(
                runtime=spec.runtime,
                code=code,
                code_id=f"publish-check:{spec.name}",
                input=input,
                request_id=SAMPLE_ID,
                limits=Limits(fuel=spec.fuel, memory_bytes=spec.memory),
            )
        )
        return result.decoded, result.logs.decode("utf-8", errors="replace")

    def _check_js(self, spec: FunctionSpec, code: bytes) -> None:
        try:
            source = code.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CheckFailed(
                spec.path, "js-compiles", f"the source is not UTF-8 ({exc})"
            ) from None
        probe = f'{source}\n;throw "{_LOADED}";\n'.encode()
        envelope, _ = self._run(spec, probe, _sample(spec, "check"))
        if envelope.error_detail != _LOADED:
            what = envelope.error_detail or str(envelope.error_kind)
            raise CheckFailed(
                spec.path,
                "js-compiles",
                f"the module does not compile or its top level fails: {what}",
            )
        envelope, _ = self._run(spec, code, _sample(spec, "check"))
        if envelope.error_kind is ErrorKind.JS_ERROR and _NO_HANDLER in envelope.error_detail:
            raise CheckFailed(
                spec.path,
                "js-handler-export",
                "the module matches no handler shape; export one of: `export async function "
                "handler(req)` (or a default function), `export default { async fetch(request, "
                "env, ctx) }` (Fetch API), `export default (req, res) => ...` (Express style)",
            )

    def _check_clf(self, spec: FunctionSpec, code: bytes) -> None:
        try:
            code.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CheckFailed(
                spec.path, "clf-compiles", f"the source is not UTF-8 ({exc})"
            ) from None
        line = clf.module_statement_line(code)
        if line is not None:
            raise CheckFailed(
                spec.path,
                "clf-compiles",
                f"line {line} is an import or export statement; a clf source is the body of a "
                "function (as in Chainlink Functions) and imports nothing: publish it as a js "
                "function (export async function handler(req)) to import modules",
            )
        envelope, _ = self._run(
            replace(spec, runtime="js"), clf.syntax_probe(code), _sample(spec, "check")
        )
        if not envelope.ok:
            what = envelope.error_detail or str(envelope.error_kind)
            raise CheckFailed(spec.path, "clf-compiles", f"the source does not compile: {what}")

    def sample_run(self, project: str, spec: FunctionSpec, code: bytes) -> SampleRun:
        """``--check``: one run on ``GET /``; raises CheckFailed if it gives no response."""
        envelope, log = self._run(spec, code, _sample(spec, project))
        if not envelope.ok:
            detail = f" ({envelope.error_detail})" if envelope.error_detail else ""
            tail = f"; its log: {log.strip()[-300:]}" if log.strip() else ""
            raise CheckFailed(
                spec.path,
                "sample-run",
                f"a sample GET / in the local sandbox ended with {envelope.error_kind}{detail}{tail}",
            )
        _, _, body = envelope.to_http()
        return SampleRun(spec.name, envelope.status or 0, len(body), envelope.fuel_used or 0, log)


_IMPORT_PROBLEMS = ("imports the Node built-in", "Could not resolve")


def _code(spec: FunctionSpec) -> bytes:
    """The function's code as published; a js bundling failure is a refusal naming its rule."""
    if spec.runtime == "js":  # esbuild would replace bad bytes, so read the source itself first
        try:
            spec.path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CheckFailed(
                spec.path, "js-compiles", f"the source is not UTF-8 ({exc})"
            ) from None
        except OSError:
            pass  # spec.code() names the unreadable file
    try:
        return spec.code()
    except PythonRefused as refused:
        raise CheckFailed(spec.path, refused.rule, refused.reason) from None
    except BundleFailed as failed:
        imports = any(marker in p for p in failed.problems for marker in _IMPORT_PROBLEMS)
        raise CheckFailed(
            spec.path,
            "js-imports" if imports else "js-compiles",
            "it does not bundle with its imports: " + "; ".join(failed.problems),
        ) from None


def _sample(spec: FunctionSpec, project: str) -> bytes:
    return canonical_request(
        "GET",
        "/",
        {},
        {"host": "publish-check.localhost"},
        b"",
        request_id=SAMPLE_ID,
        block_timestamp=0,
        wallet="0x" + "00" * 20,
        project=project,
        function=spec.name,
    )
