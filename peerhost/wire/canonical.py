"""Canonical JSON: the one byte encoding used for requests and envelopes.

UTF-8, object keys sorted by code point, no insignificant whitespace, no NaN
or Infinity. Equal values always encode to equal bytes.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Encodes ``value`` canonically; raises ``ValueError`` for NaN/Infinity."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
