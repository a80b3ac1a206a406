"""A run's stderr made fit to travel: decoded, secret values masked, capped.

The worker calls :func:`prepare_log` before anything else sees the text, so the values of the
project's secrets never leave the worker (the gateway, the owner's terminal and every file see
``[REDACTED]``). The result rides in the ``X-PeerHost-Log`` header of the inbox post as base64
(:func:`encode_log`); it is not part of the envelope, so it never changes the result hash.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

from peerhost.secrets.redact import Redactor

#: Bytes of log text kept per run (UTF-8), after redaction; the rest is cut with a marker.
MAX_LOG_BYTES = 4096
TRUNCATED = "… [log truncated: {dropped} more bytes]"


def prepare_log(stderr: bytes, secrets: Iterable[str] = (), cap: int = MAX_LOG_BYTES) -> str:
    """``stderr`` as text with every value of ``secrets`` masked, at most ``cap`` bytes of it.

    Redaction runs on the whole text before cutting, so a value cannot survive by straddling
    the cut.
    """
    text = stderr.decode("utf-8", errors="replace")
    values = [v for v in secrets if v]
    if values:
        text = Redactor(values).redact(text)
    raw = text.encode("utf-8")
    if len(raw) <= cap:
        return text
    kept = raw[:cap].decode("utf-8", errors="ignore")
    return kept + TRUNCATED.format(dropped=len(raw) - len(kept.encode("utf-8")))


def encode_log(text: str) -> str:
    """The header value for ``text`` (base64 of its UTF-8 bytes)."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode_log(value: str, cap: int = MAX_LOG_BYTES) -> str:
    """The text of a header value; raises ValueError if it is not base64 of UTF-8 text.

    Text beyond ``cap`` bytes (plus room for the truncation marker) is cut: the gateway does
    not trust a worker to have capped it.
    """
    try:
        raw = base64.b64decode(value.strip(), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"not base64 of UTF-8 text ({exc})") from None
    limit = cap + 64
    if len(raw) > limit:
        kept = raw[:limit].decode("utf-8", errors="ignore")
        return kept + TRUNCATED.format(dropped=len(raw) - len(kept.encode("utf-8")))
    return text
