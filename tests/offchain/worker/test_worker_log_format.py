"""The worker's log lines keep an exception whole: its last line and its traceback, masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from peerhost.secrets import MASK, Redactor
from peerhost.worker import logs

SECRET = "postgres://app:s3cr3t-pa55word@db.internal/app"


@pytest.fixture
def root_restored() -> Iterator[None]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    yield
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def _fail_deep() -> None:
    raise ConnectionError(f"refused: {SECRET}")


def _fail_chained() -> None:
    try:
        _fail_deep()
    except ConnectionError as e:
        raise RuntimeError("the job could not open its database") from e


def _log_failure(redactor: Redactor | None = None) -> None:
    if redactor is not None:
        redactor.install()  # after configure(), which replaces the root handlers
    try:
        _fail_chained()
    except RuntimeError:
        logging.getLogger("peerhost.worker").exception("run failed")
    finally:
        if redactor is not None:
            redactor.uninstall()


def test_json_line__exception_logged__error_and_whole_traceback_kept(capsys, root_restored):
    logs.configure(fmt="json", level="debug")
    _log_failure()
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["error"] == "RuntimeError: the job could not open its database"
    text = "\n".join(line["traceback"])
    assert text.startswith("Traceback (most recent call last):")
    assert "in _fail_deep" in text and "in _fail_chained" in text
    assert "The above exception was the direct cause" in text


def test_kv_line__exception_logged__one_line_with_error_and_traceback(capsys, root_restored):
    logs.configure(fmt="kv", level="debug")
    _log_failure()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert 'error="RuntimeError: the job could not open its database"' in err[0]
    assert "traceback=" in err[0] and "in _fail_deep" in err[0]


@pytest.mark.parametrize("fmt", ["json", "kv"])
def test_traceback__secret_in_a_chained_cause__masked(capsys, root_restored, fmt):
    logs.configure(fmt=fmt, level="debug")
    _log_failure(Redactor([SECRET]))
    err = capsys.readouterr().err
    assert "in _fail_deep" in err
    assert f"refused: {MASK}" in err
    assert SECRET not in err
