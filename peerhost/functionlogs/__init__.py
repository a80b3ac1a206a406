"""Function logs: what a function writes to stderr (``console.*`` in js), from the worker's run to
the owner's terminal.

- :mod:`.capture`: the worker decodes, redacts (the project's secret values) and caps a run's
  stderr, and sends it beside its signed output in the ``X-PeerHost-Log`` header (never part of
  the result hash).
- :mod:`.store`: the gateway keeps the recent entries of each project in memory.
- :mod:`.access`: reading them takes the owner's signature over a short-lived access message.
- :mod:`.client`: ``ape run logs`` and the devnet fetch, follow and print them.
"""

from __future__ import annotations

from peerhost.functionlogs.access import (
    AccessDenied,
    NoAccessSignature,
    access_message,
    key_signer,
    sign_access,
    verify_access,
)
from peerhost.functionlogs.capture import (
    MAX_LOG_BYTES,
    decode_log,
    encode_log,
    prepare_log,
)
from peerhost.functionlogs.store import LogEntry, LogStore
from peerhost.wire.headers import LOG_HEADER

__all__ = [
    "LOG_HEADER",
    "MAX_LOG_BYTES",
    "AccessDenied",
    "LogEntry",
    "LogStore",
    "NoAccessSignature",
    "access_message",
    "decode_log",
    "encode_log",
    "key_signer",
    "prepare_log",
    "sign_access",
    "verify_access",
]
