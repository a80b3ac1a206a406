"""Fixtures for the sandbox tests: one sandbox per session over a session cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import BLOCK_TIMESTAMP, REQUEST_ID, SMALL, RunFn, sample_input

from peerhost.sandbox import Limits, RunRequest, RunResult, Sandbox
from peerhost.wire import Envelope


@pytest.fixture(scope="session")
def cache_dir(compiled_modules: Path) -> Path:
    """The session's compiled-module cache (tests/conftest.py): the runtimes compile once."""
    return compiled_modules


@pytest.fixture(scope="session")
def sandbox(cache_dir: Path) -> Sandbox:
    # Compiling in-process keeps the suite fast; test_sandbox_cache covers the
    # production path (compiling in a killable child process).
    return Sandbox(cache_dir=cache_dir, compile_in_subprocess=False)


@pytest.fixture(scope="session")
def run(sandbox: Sandbox) -> RunFn:
    """``run(code, runtime="wasi", input=..., limits=..., **fields) -> RunResult``."""

    def _run(code: bytes, runtime: str = "wasi", **fields: Any) -> RunResult:
        fields.setdefault("input", sample_input())
        fields.setdefault("request_id", REQUEST_ID)
        fields.setdefault("block_timestamp", BLOCK_TIMESTAMP)
        fields.setdefault("limits", SMALL if runtime == "wasi" else Limits())
        return sandbox.run(RunRequest(runtime=runtime, code=code, code_id="test", **fields))

    return _run


@pytest.fixture(scope="session")
def outcome(run: RunFn) -> Callable[..., Envelope]:
    """Like ``run`` but returns the decoded envelope of a committable result."""

    def _outcome(code: bytes, runtime: str = "wasi", **fields: Any) -> Envelope:
        result = run(code, runtime, **fields)
        assert result.committable
        return result.decoded

    return _outcome
