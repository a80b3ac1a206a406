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

MASK = "[REDACTED]"


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
        """Rewrite the record in place with values masked; never drops a record."""
        if not self._needles:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: mask what we have
            message = f"{record.msg} {record.args}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

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
