"""The malicious corpus (corpus/cases.json): each case's expected canonical outcome."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_helpers import CorpusCase, load_corpus, pinned_envelopes

from peerhost.sandbox import Sandbox

CASES = load_corpus()
PINS = pinned_envelopes()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus__hostile_case__expected_outcome(sandbox: Sandbox, case: CorpusCase) -> None:
    result = sandbox.run(case.request)
    assert result.committable
    env = result.decoded
    expect = case.expect
    if expect.get("ok"):
        assert env.ok, env
        assert env.status == expect["status"]
        if "body" in expect:
            assert env.body == expect["body"]
    else:
        assert not env.ok
        assert env.error_kind == expect["kind"]
        if "detail" in expect:
            assert env.error_detail == expect["detail"]
    assert result.envelope == sandbox.run(case.request).envelope


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus__envelope__matches_pinned_bytes(sandbox: Sandbox, case: CorpusCase) -> None:
    """Pinned envelope hashes: a change here changes consensus (wasmtime, engine, ABI)."""
    assert case.name in PINS, "run `python tests/offchain/sandbox/sandbox_helpers.py pin DIR`"
    digest = hashlib.sha256(sandbox.run(case.request).envelope).hexdigest()
    assert digest == PINS[case.name]


@pytest.fixture(scope="module")
def priming_sandbox(cache_dir: Path) -> Iterator[Sandbox]:
    """A sandbox as a worker's inline runner uses it: stores closed late, instances made early."""
    sandbox = Sandbox(cache_dir=cache_dir, compile_in_subprocess=False, defer_cleanup=True)
    yield sandbox
    sandbox.close()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus__primed_instance__matches_pinned_bytes(
    priming_sandbox: Sandbox, case: CorpusCase
) -> None:
    """A run on an instance made before it (a worker's next ticket) gives the pinned bytes."""
    request = case.request
    engine_runtime = request.runtime in ("js", "clf", "python")  # one module for every function
    if engine_runtime:
        priming_sandbox.warm(request.runtime)
    priming_sandbox.sweep()
    assert priming_sandbox.prime(request.runtime, request.limits.memory_bytes) == engine_runtime
    first = priming_sandbox.run(request).envelope
    assert not priming_sandbox.primed  # taken by the run
    assert priming_sandbox.pending_cleanup <= 1  # used by it (or no store made): none thrown away
    priming_sandbox.sweep()
    second = priming_sandbox.run(request).envelope  # and one made by the run itself
    assert hashlib.sha256(first).hexdigest() == PINS[case.name]
    assert second == first
