"""The deterministic random stream behind WASI ``random_get``.

The stream is the concatenation, for i = 0, 1, 2, …, of 4,096-byte chunks
SHAKE256(b"peerhost/random/v1" || request_id || u64_be(i)). A fresh stream per
run; reading it costs C-speed hashing, so large reads stay cheap for the host.
"""

from __future__ import annotations

import hashlib
from typing import Any

_DOMAIN = b"peerhost/random/v1"
CHUNK_BYTES = 4096


#: How far into a chunk a read may end and still squeeze only what it needs (SHAKE's output is a
#: prefix of any longer output of the same input, so the bytes are the chunk's own).
_PARTIAL_BYTES = 512


class RandomStream:
    """The stream of one run (module docstring), made as it is read.

    A chunk is squeezed only as far as the reads so far reach while they stay within its first
    :data:`_PARTIAL_BYTES` (a JS engine's seed is a few bytes, read once per run: squeezing the
    whole 4,096 bytes for it was most of the host call); a read past that squeezes the whole
    chunk once and slices it from then on. Either way each byte is the same byte of the stream.
    """

    __slots__ = ("_prefix", "_counter", "_hasher", "_chunk", "_pos")

    def __init__(self, seed: bytes) -> None:
        self._prefix = _DOMAIN + seed
        self._counter = 0
        self._hasher: Any = None  # the current chunk's SHAKE state (None: not started)
        self._chunk = b""  # the current chunk, once squeezed whole
        self._pos = 0  # bytes of the current chunk already read

    def _next_chunk(self) -> None:
        self._hasher = hashlib.shake_256(self._prefix + self._counter.to_bytes(8, "big"))
        self._counter += 1
        self._chunk = b""
        self._pos = 0

    def read(self, n: int) -> bytes:
        out: list[bytes] = []
        while n > 0:
            if self._hasher is None or self._pos == CHUNK_BYTES:
                self._next_chunk()
            take = min(n, CHUNK_BYTES - self._pos)
            end = self._pos + take
            if not self._chunk and end <= _PARTIAL_BYTES:
                out.append(self._hasher.digest(end)[self._pos :])
            else:
                if not self._chunk:
                    self._chunk = self._hasher.digest(CHUNK_BYTES)
                out.append(self._chunk[self._pos : end])
            self._pos = end
            n -= take
        return out[0] if len(out) == 1 else b"".join(out)
