"""The Redactor masks known secret values in every log record that reaches a handler."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from secrets_support import VALUES

from peerhost.secrets import MASK, Redactor

DB_URL = VALUES["DB_URL"]


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO, Redactor]]:
    """A logger whose records end in a StringIO handler with a Redactor installed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.secrets.redact")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    logger.propagate = False
    redactor = Redactor(VALUES.values())
    redactor.install(logger)
    yield logger, stream, redactor
    redactor.uninstall()
    logger.removeHandler(handler)


def test_filter__value_in_args__masked(log):
    logger, stream, _ = log
    logger.info("connecting to %s now", DB_URL)
    assert stream.getvalue() == f"connecting to {MASK} now\n"


def test_filter__value_in_message_and_repr__masked(log):
    logger, stream, _ = log
    logger.warning(f"env={ {'DB_URL': DB_URL} } key={VALUES['STRIPE_KEY']}")
    out = stream.getvalue()
    assert DB_URL not in out and VALUES["STRIPE_KEY"] not in out
    assert out.count(MASK) == 2


def test_filter__value_in_exception_traceback__masked(log):
    logger, stream, _ = log
    try:
        raise RuntimeError(f"cannot reach {DB_URL}")
    except RuntimeError:
        logger.exception("run failed")
    out = stream.getvalue()
    assert "RuntimeError: cannot reach " + MASK in out
    assert DB_URL not in out


def test_filter__escaped_spelling__masked(log):
    logger, stream, redactor = log
    redactor.add(['quote"and\\slash'])
    logger.info("json %s", '"quote\\"and\\\\slash"')
    logger.info("repr %r", 'quote"and\\slash')
    assert "quote" not in stream.getvalue()


def test_filter__added_later__masked_from_then_on(log):
    logger, stream, redactor = log
    logger.info("token tok-123456")
    redactor.add(["tok-123456"])
    logger.info("token tok-123456")
    assert stream.getvalue().splitlines() == ["token tok-123456", f"token {MASK}"]


def test_filter__value_shorter_than_min_length__not_masked(log):
    logger, stream, redactor = log
    redactor.add(["on", "1"])
    logger.info("feature on: 1")
    assert stream.getvalue() == "feature on: 1\n"


def test_uninstall__afterwards__not_masked(log):
    logger, stream, redactor = log
    redactor.uninstall()
    logger.info(DB_URL)
    assert stream.getvalue() == DB_URL + "\n"


def test_install__root_logger__child_logger_records_masked(caplog):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    redactor = Redactor([DB_URL])
    try:
        redactor.install()
        logging.getLogger("some.library").error("dsn=%s", DB_URL)
    finally:
        redactor.uninstall()
        root.removeHandler(handler)
    assert stream.getvalue() == f"dsn={MASK}\n"
