"""Canonical JSON: the one byte encoding used for requests and envelopes.

UTF-8, object keys sorted by code point, no insignificant whitespace, no NaN
or Infinity. Equal values always encode to equal bytes.
"""

from __future__ import annotations

import json
from typing import Any

#: The canonical encoder, made once (``json.dumps`` with these arguments makes one per call).
CANONICAL_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> bytes:
    """Encodes ``value`` canonically; raises ``ValueError`` for NaN/Infinity."""
    return CANONICAL_ENCODER.encode(value).encode("utf-8")
