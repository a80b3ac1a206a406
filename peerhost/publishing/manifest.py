"""What a functions folder declares: the project name and each function's code and settings.

A project folder looks like this (``project.json`` is optional)::

    my-project/
      project.json          {"project": "shop", "mode": "fast",
                             "functions": {"orders-create": {"mode": "verified", "fuel": 2000000000},
                                           "stripe-webhook": {"headers": ["stripe-signature"]},
                                           "nightly": {"schedule": "0 3 * * *"}}}
      lib/                  shared modules js functions import ("../lib/db.js"; bundled)
      functions/
        hello.wat           -> function "hello", runtime wasi (compiled to .wasm when read)
        echo.wasm           -> function "echo", runtime wasi
        orders-create.js    -> function "orders-create", runtime js
        report.py           -> function "report", runtime python (checked: compiles, has handler)
        price.js            -> runtime clf with {"functions": {"price": {"runtime": "clf"}}}: a
                               Chainlink-Functions-style source (peerhost.sandbox.clf)

The folder given may be the project folder or its ``functions/`` folder itself. Without
``project.json`` the project is named after the project folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peerhost import jsbundle
from peerhost.cors import CorsPolicy, InvalidCorsPolicy
from peerhost.publishing.errors import (
    BundleFailed,
    DuplicateFunctionName,
    FunctionsFolderNotFound,
    InvalidCode,
    InvalidFunctionName,
    InvalidProjectFile,
    InvalidProjectName,
    UnknownRuntime,
)
from peerhost.publishing.python_check import check_python_source
from peerhost.storage.spec import parse_size
from peerhost.wire import declarations
from peerhost.wire.headers import HEADER_PREFIX
from peerhost.wire.schedule import InvalidSchedule, Schedule
from peerhost.wire.secrets import NAME as SECRET_NAME

FUNCTION_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
PROJECT_NAME = re.compile(r"^[a-z0-9-]{1,32}$")

RUNTIME_BY_EXTENSION = {".wasm": "wasi", ".wat": "wasi", ".js": "js", ".py": "python"}
RUNTIMES = ("wasi", "js", "python", "clf")
MODES = ("fast", "verified")

#: Default limits per runtime (clamped to the registry's maxima when publishing).
#: QuickJS interprets the source, so js functions get more fuel and memory than raw wasm;
#: the Python runtime starts with 12.75 MiB of memory in use (docs/functions.md).
DEFAULT_FUEL = {"wasi": 100_000_000, "js": 500_000_000, "python": 500_000_000, "clf": 500_000_000}
DEFAULT_MEMORY = {"wasi": 16 * 2**20, "js": 64 * 2**20, "python": 64 * 2**20, "clf": 64 * 2**20}

_SETTINGS = {"runtime", "fuel", "memory", "mode", "secrets", "headers", "schedule"}
_TOP_LEVEL = {
    "project",
    "name",
    "functions",
    "fuel",
    "memory",
    "mode",
    "secrets",
    "headers",
    "$schema",
    "description",
    "cors",
}

#: Request headers a function cannot declare, and why. (Credential headers can be declared:
#: only a salted commitment of them goes on-chain, see peerhost.wire.credentials.)
_UNDECLARABLE = {
    **dict.fromkeys(
        ("host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade",
         "te", "trailer", "expect"),
        "it belongs to the HTTP connection, not to the request",
    ),
    **dict.fromkeys(
        ("forwarded", "x-forwarded-for", "x-real-ip"),
        "it carries the caller's IP address, which must not be written on-chain",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class FunctionSpec:
    """One function to publish.

    Attributes:
        name: The function name (the URL's last segment).
        path: The file it comes from.
        runtime: ``"wasi"``, ``"js"``, ``"python"`` or ``"clf"``.
        fuel: Fuel limit per run.
        memory: Memory limit per run, in bytes.
        mode: The gateway's default answer mode, ``"fast"`` or ``"verified"``.
        secrets: Secret names the function reads (the project's shared ones, then its own);
            publishing refuses the project while any has no value.
        root: The project folder (js imports are resolved and named relative to it).
        headers: Extra request headers the function receives (lowercase, sorted), embedded in
            the published code (see :mod:`peerhost.wire.declarations`).
        schedule: A cron expression (:mod:`peerhost.wire.schedule`): the gateway runs the
            function at those times; embedded in the published code like ``headers``.
    """

    name: str
    path: Path
    runtime: str
    fuel: int
    memory: int
    mode: str
    secrets: tuple[str, ...] = ()
    root: Path | None = None
    headers: tuple[str, ...] = ()
    schedule: str | None = None

    def code(self) -> bytes:
        """The bytes to store and publish: the file, with WebAssembly text compiled to binary
        and a js function bundled with what it imports (see :mod:`peerhost.jsbundle`).

        Raises:
            InvalidCode: the file cannot be read, or its WAT does not compile.
            BundleFailed: a js import is refused or cannot be resolved.
        """
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise InvalidCode(self.path, f"cannot read it ({exc.strerror})") from exc
        if not data:
            raise InvalidCode(self.path, "the file is empty")
        declared = declarations.Declarations(self.headers, self.schedule)
        if self.runtime == "js":
            banner = declarations.js_banner(declared) if declared else ""
            try:
                return jsbundle.bundle_js(self.path, self.root or self.path.parent, banner)
            except jsbundle.BundleFailed as failed:
                raise BundleFailed.of(failed) from None
        if self.path.suffix.lower() == ".wat":
            data = _wat_to_wasm(self.path, data)
        elif self.runtime == "python":
            check_python_source(self.path, data)
            if declared:
                return declarations.add_python_line(data, declared)
        elif self.runtime == "clf":  # published as written: the prelude is the runtime's
            return declarations.add_js_line(data, declared) if declared else data
        if declared:
            return declarations.add_wasm_section(data, declared)
        return data


@dataclass(frozen=True)
class ProjectSpec:
    """A project folder, read and validated.

    Attributes:
        name: The project name.
        root: The project folder.
        functions: The functions, sorted by name.
        ignored: Files in ``functions/`` that are not functions (unknown extensions).
        cors: The project's CORS policy (``"cors"`` in project.json, see :mod:`peerhost.cors`).
    """

    name: str
    root: Path
    functions: tuple[FunctionSpec, ...]
    ignored: tuple[Path, ...] = ()
    cors: CorsPolicy | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret name any function declares, sorted."""
        return tuple(sorted({name for spec in self.functions for name in spec.secrets}))

    def function(self, name: str) -> FunctionSpec:
        for spec in self.functions:
            if spec.name == name:
                return spec
        raise KeyError(name)


def load_project(folder: Path | str, project: str | None = None) -> ProjectSpec:
    """Reads a project folder (or its ``functions/`` folder) and validates every name and setting.

    Args:
        folder: The project folder, or the ``functions/`` folder itself.
        project: Overrides the project name from ``project.json`` / the folder name.

    Raises:
        FunctionsFolderNotFound, InvalidFunctionName, DuplicateFunctionName, InvalidProjectName,
        InvalidProjectFile, UnknownRuntime.
    """
    root, functions_dir = _locate(Path(folder).expanduser().resolve())
    manifest_path = root / "project.json"
    manifest = _read_manifest(manifest_path) if manifest_path.is_file() else {}

    if project is not None:
        name, source = project, "the command line"
    elif "project" in manifest or "name" in manifest:
        name, source = str(manifest.get("project", manifest.get("name"))), str(manifest_path)
    else:
        name, source = root.name.lower(), f"the folder name {root.name!r}"
    if not PROJECT_NAME.match(name):
        raise InvalidProjectName(name, source)

    per_function = manifest.get("functions", {})
    if not isinstance(per_function, dict):
        raise InvalidProjectFile(manifest_path, '"functions" must be an object of name -> settings')

    by_name: dict[str, list[Path]] = {}
    ignored: list[Path] = []
    for path in sorted(functions_dir.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        fname = path.stem.lower()
        declared = per_function.get(fname, {})
        if path.suffix.lower() not in RUNTIME_BY_EXTENSION and not (
            isinstance(declared, dict) and "runtime" in declared
        ):
            ignored.append(path)
            continue
        if not FUNCTION_NAME.match(fname):
            raise InvalidFunctionName(path, fname)
        by_name.setdefault(fname, []).append(path)

    for fname, paths in by_name.items():
        if len(paths) > 1:
            raise DuplicateFunctionName(fname, paths)
    if not by_name:
        raise FunctionsFolderNotFound(
            functions_dir, "no function files in it (.wasm, .wat, .js or .py)"
        )
    unknown = sorted(set(per_function) - set(by_name))
    if unknown:
        raise InvalidProjectFile(
            manifest_path,
            f"settings for {', '.join(repr(u) for u in unknown)}, but no such file in {functions_dir}",
        )

    defaults: dict[str, Any] = {
        key: manifest[key] for key in ("fuel", "memory", "mode") if key in manifest
    }
    shared = _secret_names(manifest_path, "secrets", manifest.get("secrets", []))
    shared_headers = _header_names(manifest_path, "headers", manifest.get("headers", []))
    specs = [
        _function_spec(
            manifest_path,
            fname,
            paths[0],
            {**defaults, **_settings(manifest_path, fname, per_function)},
            shared,
            root,
            shared_headers,
        )
        for fname, paths in sorted(by_name.items())
    ]
    cors = None
    if "cors" in manifest:
        try:
            cors = CorsPolicy.from_json(manifest["cors"])
        except InvalidCorsPolicy as exc:
            raise InvalidProjectFile(manifest_path, str(exc).rstrip(".")) from None
    return ProjectSpec(
        name=name, root=root, functions=tuple(specs), ignored=tuple(ignored), cors=cors
    )


def _locate(folder: Path) -> tuple[Path, Path]:
    if not folder.is_dir():
        raise FunctionsFolderNotFound(folder, "no such folder")
    if (folder / "functions").is_dir():
        return folder, folder / "functions"
    if folder.name == "functions":
        return folder.parent, folder
    raise FunctionsFolderNotFound(folder, "it holds no functions/ folder")


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidProjectFile(path, f"not readable JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InvalidProjectFile(path, "must hold a JSON object")
    unknown = sorted(set(data) - _TOP_LEVEL)
    if unknown:
        raise InvalidProjectFile(
            path, f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_TOP_LEVEL))})"
        )
    return data


def _settings(path: Path, name: str, per_function: Mapping[str, Any]) -> dict[str, Any]:
    settings = per_function.get(name, {})
    if not isinstance(settings, dict):
        raise InvalidProjectFile(path, f'"functions.{name}" must be an object')
    unknown = sorted(set(settings) - _SETTINGS)
    if unknown:
        raise InvalidProjectFile(
            path,
            f'"functions.{name}" has unknown key(s) {", ".join(unknown)} '
            f"(known: {', '.join(sorted(_SETTINGS))})",
        )
    return settings


def _secret_names(manifest: Path, where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidProjectFile(manifest, f'"{where}" must be a list of secret names')
    bad = [v for v in value if not SECRET_NAME.match(v)]
    if bad:
        raise InvalidProjectFile(
            manifest,
            f'"{where}": {", ".join(repr(b) for b in bad)} is not a secret name '
            "(letters, digits and '_', not starting with a digit, at most 128)",
        )
    return tuple(dict.fromkeys(value))


def _header_names(manifest: Path, where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidProjectFile(manifest, f'"{where}" must be a list of request header names')
    names = tuple(dict.fromkeys(v.strip().lower() for v in value))
    for header in names:
        if not declarations.HEADER_NAME.match(header):
            raise InvalidProjectFile(
                manifest,
                f'"{where}": {header!r} is not an HTTP header name (at most 64 characters)',
            )
        if header in _UNDECLARABLE or header.startswith(HEADER_PREFIX):
            why = _UNDECLARABLE.get(header, "the gateway's own headers cannot be declared")
            raise InvalidProjectFile(manifest, f'"{where}": {header!r} cannot be declared: {why}')
    if len(names) > declarations.MAX_HEADERS:
        raise InvalidProjectFile(
            manifest, f'"{where}": at most {declarations.MAX_HEADERS} headers can be declared'
        )
    return names


def _function_spec(
    manifest: Path,
    name: str,
    path: Path,
    settings: Mapping[str, Any],
    shared_secrets: tuple[str, ...] = (),
    root: Path | None = None,
    shared_headers: tuple[str, ...] = (),
) -> FunctionSpec:
    runtime = settings.get("runtime") or RUNTIME_BY_EXTENSION.get(path.suffix.lower())
    if runtime not in RUNTIMES:
        raise UnknownRuntime(path, runtime, list(RUNTIMES))
    mode = str(settings.get("mode", "fast")).lower()
    if mode not in MODES:
        raise InvalidProjectFile(manifest, f"'{name}': mode must be one of {', '.join(MODES)}")
    fuel = settings.get("fuel", DEFAULT_FUEL[runtime])
    if isinstance(fuel, bool) or not isinstance(fuel, int) or fuel <= 0:
        raise InvalidProjectFile(manifest, f"'{name}': fuel must be a positive integer")
    memory_raw = settings.get("memory", DEFAULT_MEMORY[runtime])
    try:
        memory = parse_size(memory_raw) if isinstance(memory_raw, str) else int(memory_raw)
    except (TypeError, ValueError) as exc:
        raise InvalidProjectFile(manifest, f"'{name}': memory: {exc}") from exc
    if memory <= 0:
        raise InvalidProjectFile(manifest, f"'{name}': memory must be positive")
    own = _secret_names(manifest, f"functions.{name}.secrets", settings.get("secrets", []))
    return FunctionSpec(
        name=name,
        path=path,
        runtime=runtime,
        fuel=fuel,
        memory=memory,
        mode=mode,
        secrets=tuple(dict.fromkeys(shared_secrets + own)),
        root=root,
        headers=tuple(
            sorted(
                set(shared_headers)
                | set(
                    _header_names(
                        manifest, f"functions.{name}.headers", settings.get("headers", [])
                    )
                )
            )
        ),
        schedule=_schedule(manifest, name, settings.get("schedule")),
    )


def _schedule(manifest: Path, name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidProjectFile(
            manifest, f'"functions.{name}.schedule" must be a cron expression (a string)'
        )
    try:
        Schedule.parse(value)
    except InvalidSchedule as exc:
        raise InvalidProjectFile(manifest, f'"functions.{name}.schedule": {exc}') from None
    return value.strip()


def _wat_to_wasm(path: Path, data: bytes) -> bytes:
    import wasmtime

    try:
        return bytes(wasmtime.wat2wasm(data.decode()))
    except (UnicodeDecodeError, wasmtime.WasmtimeError) as exc:
        raise InvalidCode(path, f"WebAssembly text does not compile: {exc}") from exc
