"""``python -m peerhost.storage``: cid, put, get."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerhost.storage import compute_cid
from peerhost.storage.__main__ import main


def test_cli__put_then_get__round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, out, spec = tmp_path / "code.wasm", tmp_path / "out.wasm", f"local:{tmp_path / 's'}"
    source.write_bytes(b"\0asm code")

    assert main(["put", "--store", spec, str(source)]) == 0
    cid = capsys.readouterr().out.split()[0]
    assert main(["get", "--store", spec, cid, "-o", str(out)]) == 0

    assert cid == compute_cid(b"\0asm code")
    assert out.read_bytes() == b"\0asm code"


def test_cli__cid__prints_text_and_chain_hex(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "f").write_bytes(b"")

    assert main(["cid", str(tmp_path / "f")]) == 0

    text, chain_hex, _ = capsys.readouterr().out.split()
    assert text == compute_cid(b"")
    assert chain_hex.startswith("0x01551220")


def test_cli__get_missing__exit_1_with_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["get", "--store", f"local:{tmp_path}", compute_cid(b"absent")])

    assert code == 1
    assert "not found" in capsys.readouterr().err
