"""Errors raised when bytes from the other side are not the format both sides agreed on."""

from __future__ import annotations

from peerhost.errors import PeerHostError


class WireError(PeerHostError):
    """Base class of the wire formats' errors."""


class InvalidEnvelope(WireError, ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Not a PeerHost result envelope: {reason}")
