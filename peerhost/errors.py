"""The root of every PeerHost error.

Each subpackage defines its own leaves (``peerhost/<pkg>/errors.py``) that
subclass :class:`PeerHostError` and the matching builtin, and build their own
message, so callers can catch ``PeerHostError`` for anything the project
raised and the gateway maps them to HTTP status codes in one place.
"""

from __future__ import annotations


class PeerHostError(Exception):
    """Base class of every error PeerHost raises on purpose."""
