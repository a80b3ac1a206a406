"""Structured logs: one line per event, JSON or key=value, on stderr.

Call :func:`event` with an event name and fields; values are rendered as text (bytes as 0x-hex).
Keys and secret values are never passed here: the node logs addresses, ids and hashes only.
A record carrying an exception keeps it whole: ``error`` is its last line and ``traceback`` the
full text (in the JSON format a list of lines, in key=value one quoted string). Both are taken
from the record's exception text when a filter set it, so a secret redactor that masked the
exception (the worker's, :class:`peerhost.secrets.Redactor`) masks them too.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

LOGGER = logging.getLogger("peerhost.worker")

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def _value(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, float):
        return round(value, 6)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", None) or "log",
        }
        fields = getattr(record, "fields", None)
        if fields:
            doc.update(fields)
        else:
            doc["logger"] = record.name
            doc["message"] = record.getMessage()
        lines = _exception_lines(self, record)
        if lines:
            doc["error"] = lines[-1]
            doc["traceback"] = lines
        return json.dumps(doc, separators=(",", ":"), default=str)


def _exception_lines(formatter: logging.Formatter, record: logging.LogRecord) -> list[str]:
    """The record's exception as text lines (empty without one), masked text first."""
    if record.exc_text:
        return record.exc_text.splitlines()
    if record.exc_info and record.exc_info[1] is not None:
        return formatter.formatException(record.exc_info).splitlines()
    return []


class _KvFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"ts={record.created:.3f}",
            f"level={record.levelname.lower()}",
            f"event={getattr(record, 'event', None) or 'log'}",
        ]
        fields = getattr(record, "fields", None) or {"message": record.getMessage()}
        lines = _exception_lines(self, record)
        if lines:
            fields = {**fields, "error": lines[-1], "traceback": "\n".join(lines)}
        for key, value in fields.items():
            text = str(value)
            quote = " " in text or "\n" in text or not text
            parts.append(f"{key}={json.dumps(text) if quote else text}")
        return " ".join(parts)


def configure(fmt: str = "json", level: str = "info") -> None:
    """Sends every log record (the node's and its libraries') to stderr, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else _KvFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    LOGGER.setLevel(_LEVELS[level])
    logging.getLogger("peerhost").setLevel(_LEVELS[level])


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Logs one event with its fields."""
    if LOGGER.isEnabledFor(level):
        LOGGER.log(
            level,
            name,
            extra={"event": name, "fields": {k: _value(v) for k, v in fields.items()}},
        )


def warning(name: str, **fields: Any) -> None:
    event(name, logging.WARNING, **fields)


def error(name: str, **fields: Any) -> None:
    event(name, logging.ERROR, **fields)


def debug(name: str, **fields: Any) -> None:
    event(name, logging.DEBUG, **fields)
