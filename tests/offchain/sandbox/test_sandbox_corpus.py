"""The malicious corpus (corpus/cases.json): each case's expected canonical outcome."""

from __future__ import annotations

import hashlib

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
