"""Errors the sandbox raises on purpose.

These are *host* problems (a missing engine, a compile that ran too long). A
function misbehaving is never an exception: it is a deterministic failure
envelope (see :mod:`peerhost.wire.envelope`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peerhost.errors import PeerHostError


class SandboxError(PeerHostError):
    """Base class of the sandbox's errors.

    The leaves build their message from their own arguments, so the default pickling (calling
    the class with the message) would garble or fail to rebuild them; a :class:`SandboxPool`
    process hands its errors back pickled, and one that fails to unpickle breaks the pool and
    every run in flight. They are rebuilt from the message instead.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args))


def _rebuild(cls: type[SandboxError], args: tuple[Any, ...]) -> SandboxError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    return error


class JsEngineNotFound(SandboxError, FileNotFoundError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"The QuickJS engine is missing at {path}: run tools/quickjs/build.sh "
            "or pass Sandbox(js_engine=...)."
        )


class JsEngineMismatch(SandboxError, ValueError):
    def __init__(self, path: Path, expected: str, actual: str) -> None:
        super().__init__(
            f"The QuickJS engine at {path} has sha256 {actual}, expected {expected}: "
            "rebuild it with tools/quickjs/build.sh --force."
        )


class PythonRuntimeNotFound(SandboxError, FileNotFoundError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"The Python runtime is missing at {path}: run tools/python/build.sh in a source "
            "checkout, or point $PEERHOST_PYTHON_WASM at a built python-peerhost.wasm, "
            "or pass Sandbox(python_runtime=...)."
        )


class PythonRuntimeMismatch(SandboxError, ValueError):
    def __init__(self, path: Path, expected: str, actual: str) -> None:
        super().__init__(
            f"The Python runtime at {path} has sha256 {actual}, expected {expected}: "
            "rebuild it with tools/python/build.sh --force."
        )


class ClfPreludeMismatch(SandboxError, ValueError):
    def __init__(self, path: Path, expected: str, actual: str) -> None:
        super().__init__(
            f"The clf runtime's prelude at {path} has sha256 {actual}, expected {expected}: "
            "restore it, or (a protocol upgrade) pin the new sha256 as RUNTIME_ENGINE_SHA256"
            '["clf"] in peerhost/wire/feed.py.'
        )


class InvalidModule(SandboxError, ValueError):
    def __init__(self, code_sha256: str) -> None:
        super().__init__(f"Module {code_sha256} is not valid WebAssembly.")


class CompileTimeout(SandboxError, TimeoutError):
    def __init__(self, code_sha256: str, seconds: float) -> None:
        super().__init__(f"Compiling module {code_sha256} took longer than {seconds:g} s.")


class CompileFailed(SandboxError, RuntimeError):
    def __init__(self, code_sha256: str, reason: str) -> None:
        super().__init__(f"Compiling module {code_sha256} failed: {reason}")


class InvalidRequest(SandboxError, ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid sandbox run request: {reason}")


class SandboxProcessDied(SandboxError, RuntimeError):
    def __init__(self) -> None:
        super().__init__("A sandbox pool process died; the pool was restarted. Retry the run.")
