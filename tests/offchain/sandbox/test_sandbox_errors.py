"""Sandbox errors survive pickling (a SandboxPool process hands them back pickled)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from peerhost.sandbox import errors
from peerhost.sandbox.errors import SandboxError

RUNTIME = Path("/opt/runtime.wasm")
CASES = [
    errors.JsEngineNotFound(RUNTIME),
    errors.JsEngineMismatch(RUNTIME, "aa" * 32, "bb" * 32),
    errors.PythonRuntimeNotFound(RUNTIME),
    errors.PythonRuntimeMismatch(RUNTIME, "aa" * 32, "bb" * 32),
    errors.InvalidModule("cc" * 32),
    errors.CompileTimeout("cc" * 32, 60),
    errors.CompileFailed("cc" * 32, "out of memory"),
    errors.InvalidRequest("request_id must be 32 bytes"),
    errors.SandboxProcessDied(),
]


@pytest.mark.parametrize("error", CASES, ids=[type(e).__name__ for e in CASES])
def test_pickle__every_sandbox_error__same_type_and_message(error: SandboxError) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert again.args == error.args
