"""Runs the function in the local PeerHost sandbox (the workers' own): `pytest tests`."""

from pathlib import Path

from peerhost.scaffold.testing import run_local

PROJECT = Path(__file__).resolve().parents[1]


def test_hello__get__answers_with_the_request_size_and_logs() -> None:
    answer = run_local(PROJECT, "hello", "GET", "/", query={"name": "ada"})
    assert answer.status == 200
    body = answer.json()
    assert body["hello"] == "from C" and body["request_bytes"] > 0
    assert answer.log.startswith("hello from C: read ")
