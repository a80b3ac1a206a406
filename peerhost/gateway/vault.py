"""The gateway's in-memory vault of credential openings (see :mod:`peerhost.wire.credentials`)."""

from __future__ import annotations

import time
from collections.abc import Callable

from peerhost.wire.credentials import Disclosed


class CredentialVault:
    """Openings of sealed credential headers by input hash, each kept for ``ttl`` seconds."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[bytes, tuple[float, dict[str, Disclosed]]] = {}

    def __repr__(self) -> str:  # never the values
        return f"CredentialVault({len(self._entries)} requests)"

    def put(self, input_hash: bytes, openings: dict[str, Disclosed]) -> None:
        now = self._clock()
        for key in [k for k, (expires, _) in self._entries.items() if expires < now]:
            del self._entries[key]
        self._entries[input_hash] = (now + self.ttl, openings)

    def get(self, input_hash: bytes) -> dict[str, Disclosed] | None:
        entry = self._entries.get(input_hash)
        if entry is None or entry[0] < self._clock():
            return None
        return entry[1]

    def __len__(self) -> int:
        return len(self._entries)
