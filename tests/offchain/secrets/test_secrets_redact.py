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


def test_filter__structured_fields__masked(log):
    logger, stream, redactor = log
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "event", None, None)
    record.fields = {"reason": f"bad dsn {DB_URL}", "nested": [DB_URL, 3], "n": 1}
    redactor.filter(record)
    assert record.fields == {"reason": f"bad dsn {MASK}", "nested": [MASK, 3], "n": 1}


def test_filter__formatter_formatting_exc_info_itself__sees_masked_exception(log):
    _, _, redactor = log
    try:
        raise ValueError(f"cannot parse {DB_URL}")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    redactor.filter(record)
    last_line = logging.Formatter().formatException(record.exc_info).splitlines()[-1]
    assert last_line == f"ValueError: cannot parse {MASK}"


@pytest.mark.parametrize("fmt", ["json", "kv"])
def test_install__worker_log_configuration__events_and_errors_masked(capsys, fmt):
    from peerhost.worker import logs

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    redactor = Redactor(VALUES.values())
    try:
        logs.configure(fmt=fmt, level="debug")
        redactor.install()  # after configure(), which replaces the root handlers
        logs.warning("job_skipped", reason=f"could not connect to {DB_URL}")
        try:
            raise ConnectionError(f"refused: {DB_URL}")
        except ConnectionError:
            logging.getLogger("peerhost.worker").exception("run failed")
    finally:
        redactor.uninstall()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    err = capsys.readouterr().err
    assert "could not connect to " + MASK in err
    for value in VALUES.values():
        assert value not in err
