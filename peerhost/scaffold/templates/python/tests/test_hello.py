"""Runs the function in the local PeerHost sandbox (the workers' own): `pytest tests`."""

from pathlib import Path

from peerhost.scaffold.testing import run_local

PROJECT = Path(__file__).resolve().parents[1]


def test_hello__get_with_a_name__greets_it_and_logs() -> None:
    answer = run_local(PROJECT, "hello", "GET", "/", query={"name": "ada"})
    assert answer.status == 200
    assert answer.json() == {"hello": "ada", "method": "GET", "path": "/"}
    assert answer.log == "greeting ada\n"
