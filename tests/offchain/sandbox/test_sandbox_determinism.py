"""Same request, same bytes: across runs, sandboxes and fresh processes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from determinism_probe import probe
from sandbox_helpers import REQUEST_ID, example_requests

from peerhost.sandbox import Sandbox

HERE = Path(__file__).resolve().parent


def _fresh_process_probe(cache_dir: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    done = subprocess.run(
        [sys.executable, str(HERE / "determinism_probe.py"), str(cache_dir)],
        capture_output=True,
        check=True,
        cwd=HERE,
        env=env,
        timeout=120,
    )
    result: dict[str, str] = json.loads(done.stdout)
    return result


def test_examples__fresh_processes__identical_envelopes(cache_dir: Path, sandbox: Sandbox) -> None:
    sandbox.warm("js")  # compile once; the children load the cached modules
    sandbox.warm("python")
    here = probe(cache_dir)
    first = _fresh_process_probe(cache_dir)
    second = _fresh_process_probe(cache_dir)
    assert first == second == here
    # Python's clocks, random sources (random, os.urandom, secrets, uuid4) and hash seed included
    assert {"hello", "echo", "orders-create-201", "clock-and-dice", "report"} <= set(first)
    assert {"py-clock-and-random", "py-evil-response", "py-forbidden-imports"} <= set(first)


def test_examples__fresh_cache__identical_envelopes(
    tmp_path: Path, cache_dir: Path, sandbox: Sandbox
) -> None:
    other = Sandbox(cache_dir=tmp_path)
    for name, request in example_requests().items():
        if request.runtime == "wasi":
            assert other.run(request).envelope == sandbox.run(request).envelope, name


def test_examples__all_succeed_with_expected_status(sandbox: Sandbox) -> None:
    statuses = {name: sandbox.run(r).decoded.status for name, r in example_requests().items()}
    assert statuses == {
        "hello": 200,
        "echo": 200,
        "orders-create-201": 201,
        "orders-create-400": 400,
        "clock-and-dice": 200,
        "report": 200,
        "report-400": 400,
    }


def test_report__new_request_id__same_clock_new_pick(sandbox: Sandbox) -> None:
    from dataclasses import replace

    request = example_requests()["report"]
    picks = set()
    for seed in range(8):
        again = replace(request, request_id=hashlib.sha256(bytes([seed])).digest())
        body = sandbox.run(again).decoded.body
        assert body["generated_at"] == "2026-01-01T00:00:00+00:00"
        picks.add(body["pick"])
    assert len(picks) > 1


def test_clock_and_dice__new_request_id__new_dice(sandbox: Sandbox) -> None:
    from dataclasses import replace

    request = example_requests()["clock-and-dice"]
    again = replace(request, request_id=hashlib.sha256(REQUEST_ID).digest())
    first, second = sandbox.run(request).decoded, sandbox.run(again).decoded
    assert first.body["now_ms"] == second.body["now_ms"] == 1_767_225_600_000
    assert first.body["random"] != second.body["random"]
