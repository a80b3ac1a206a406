"""The deterministic random stream behind WASI ``random_get``.

Block i of the stream is SHA-256(b"peerhost/random/v1" || request_id ||
u64_be(i)); the stream is their concatenation. A fresh stream per run.
"""

from __future__ import annotations

import hashlib

_DOMAIN = b"peerhost/random/v1"


class RandomStream:
    def __init__(self, seed: bytes) -> None:
        self._prefix = _DOMAIN + seed
        self._counter = 0
        self._buffer = b""

    def read(self, n: int) -> bytes:
        chunks = [self._buffer]
        have = len(self._buffer)
        while have < n:
            block = hashlib.sha256(self._prefix + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            chunks.append(block)
            have += len(block)
        data = b"".join(chunks)
        self._buffer = data[n:]
        return data[:n]
