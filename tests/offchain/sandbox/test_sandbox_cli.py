"""python -m peerhost.sandbox: run a function once from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sandbox_helpers import EXAMPLES

from peerhost.sandbox.__main__ import main


def test_cli__hello_with_env__prints_envelope_and_hash(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "wasi",
            str(EXAMPLES / "hello.wasm"),
            "--env",
            "GREETING=Yo",
            "--cache-dir",
            str(cache_dir),
        ]
    )
    envelope, hash_line = capsys.readouterr().out.splitlines()
    assert code == 0
    assert json.loads(envelope)["response"]["body"] == "Yo"
    assert hash_line.startswith("resultHash 0x") and hash_line.endswith("committable=True")


def test_cli__orders_bad_body__exit_code_0_for_a_400_response(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["js", str(EXAMPLES / "orders-create.js"), "--method", "POST", "--body", "nope"]
    assert main([*args, "--cache-dir", str(cache_dir)]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["response"]["status"] == 400
