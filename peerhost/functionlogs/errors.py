"""Errors of reading function logs."""

from __future__ import annotations

from peerhost.errors import PeerHostError


class LogsUnavailable(PeerHostError, RuntimeError):
    """The gateway did not hand over the logs."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"Cannot read logs from {url}: {reason}")
