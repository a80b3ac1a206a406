"""The devnet's development webhook secret and the signer its printed curl runs."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from peerhost.devnet.webhook import DEV_PREFIX, SECRET_FILE, dev_secret, main, signature


def test_dev_secret__first_and_second_read__same_labelled_value_readable_by_owner_only(
    tmp_path: Path,
) -> None:
    first = dev_secret(tmp_path)
    assert first.startswith(DEV_PREFIX) and len(first) > len(DEV_PREFIX) + 16
    assert dev_secret(tmp_path) == first
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
    assert dev_secret(tmp_path / "other") != first


def test_signature__known_body__stripe_style_hmac_of_timestamp_and_body() -> None:
    mac = hmac.new(b"k", b"1767225600.{}", hashlib.sha256).hexdigest()
    assert signature("k", "{}", 1767225600) == f"t=1767225600,v1={mac}"
    assert signature("k", "{}", 1767225600) != signature("k", "{ }", 1767225600)


def test_main__secret_file__prints_the_header_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = dev_secret(tmp_path)
    assert main(["--secret-file", str(tmp_path / SECRET_FILE), '{"id": 1}']) == 0
    printed = capsys.readouterr().out.strip()
    t = int(printed.split(",")[0].removeprefix("t="))
    assert printed == signature(secret, '{"id": 1}', t)
    assert secret not in printed


def test_main__no_secret_file__clear_error_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--secret-file", str(tmp_path / "missing"), "{}"]) == 2
    err = capsys.readouterr().err
    assert "Cannot read the webhook secret" in err and "bin/devnet" in err
