"""Structured logs: one line per event, JSON or key=value, on stderr.

Call :func:`event` with an event name and fields; values are rendered as text (bytes as 0x-hex).
Keys and secret values are never passed here: the node logs addresses, ids and hashes only.
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
        if record.exc_info:
            doc["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(doc, separators=(",", ":"), default=str)


class _KvFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"ts={record.created:.3f}",
            f"level={record.levelname.lower()}",
            f"event={getattr(record, 'event', None) or 'log'}",
        ]
        fields = getattr(record, "fields", None) or {"message": record.getMessage()}
        for key, value in fields.items():
            text = str(value)
            parts.append(f"{key}={json.dumps(text) if (' ' in text or not text) else text}")
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
