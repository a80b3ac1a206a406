"""A logging filter that masks every known secret value in log records.

The worker adds each project's values as it opens them and installs the filter
on its log handlers once::

    redactor = Redactor()
    redactor.install()                 # on every handler of the root logger
    env = open_bundle(...)
    redactor.add(env.values())

A handler filter sees every record that reaches the handler, from any logger,
so a library that logs a value it was given is masked too.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from typing import Any

MASK = "[REDACTED]"

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
}


class Redactor(logging.Filter):
    """Masks known secret values in a record's message, arguments, exception and stack text.

    Args:
        values: Values to mask from the start.
        min_length: Values shorter than this are not masked (masking ``"1"`` would
            garble every log line; such values are not secrets worth the name).
    """

    def __init__(self, values: Iterable[str] = (), *, min_length: int = 4) -> None:
        super().__init__()
        self.min_length = min_length
        self._lock = threading.Lock()
        self._needles: tuple[str, ...] = ()
        self._values: set[str] = set()
        self._installed: list[logging.Handler] = []
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        """Start masking ``values`` (and their repr- and JSON-escaped spellings)."""
        with self._lock:
            for value in values:
                if isinstance(value, str) and len(value) >= self.min_length:
                    self._values.add(value)
            needles = set()
            for value in self._values:
                needles.update({value, repr(value)[1:-1], json.dumps(value)[1:-1]})
            # Longest first, so a value containing another is masked whole.
            self._needles = tuple(sorted(needles, key=len, reverse=True))

    def redact(self, text: str) -> str:
        """``text`` with every known value replaced by :data:`MASK`."""
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place with values masked; never drops a record.

        Masks the formatted message, the exception (text and the exception object a
        custom formatter would format), the stack text, and every string inside the
        record's extra attributes (e.g. structured ``fields`` dicts).
        """
        if not self._needles:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: mask what we have
            message = f"{record.msg} {record.args}"
        record.msg = self.redact(message)
        record.args = None
        self._mask_exception(record)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD:
                record.__dict__[name] = self._scrub(value)
        return True

    def _mask_exception(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if not record.exc_text:
            return
        masked = self.redact(record.exc_text)
        if masked == record.exc_text:
            return
        record.exc_text = masked
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters that format exc_info themselves get a look-alike exception
            # (same name, masked message) over the same traceback.
            original = record.exc_info[1]
            kind = type(original)
            stand_in = type(
                kind.__name__,
                (Exception,),
                {"__module__": kind.__module__, "__qualname__": kind.__qualname__},
            )
            record.exc_info = (stand_in, stand_in(self.redact(str(original))), record.exc_info[2])

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._scrub(v) for v in value)
        return value

    def install(self, logger: logging.Logger | None = None) -> None:
        """Add this filter to every handler of ``logger`` (default: the root logger)."""
        for handler in (logger or logging.getLogger()).handlers:
            if self not in handler.filters:
                handler.addFilter(self)
                self._installed.append(handler)

    def uninstall(self) -> None:
        """Remove this filter from the handlers :meth:`install` added it to."""
        for handler in self._installed:
            handler.removeFilter(self)
        self._installed.clear()
