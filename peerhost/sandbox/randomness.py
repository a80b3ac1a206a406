"""The deterministic random stream behind WASI ``random_get``.

The stream is the concatenation, for i = 0, 1, 2, …, of 4,096-byte chunks
SHAKE256(b"peerhost/random/v1" || request_id || u64_be(i)). A fresh stream per
run; reading it costs C-speed hashing, so large reads stay cheap for the host.
"""

from __future__ import annotations

import hashlib

_DOMAIN = b"peerhost/random/v1"
CHUNK_BYTES = 4096


class RandomStream:
    def __init__(self, seed: bytes) -> None:
        self._prefix = _DOMAIN + seed
        self._counter = 0
        self._buffer = b""

    def _chunk(self) -> bytes:
        data = hashlib.shake_256(self._prefix + self._counter.to_bytes(8, "big"))
        self._counter += 1
        return data.digest(CHUNK_BYTES)

    def read(self, n: int) -> bytes:
        chunks = [self._buffer]
        have = len(self._buffer)
        while have < n:
            chunks.append(self._chunk())
            have += CHUNK_BYTES
        data = b"".join(chunks)
        self._buffer = data[n:]
        return data[:n]
