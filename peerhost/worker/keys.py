"""The worker's X25519 key pair (for sealed secrets), kept in its data dir with 0600 permissions."""

from __future__ import annotations

import os
from pathlib import Path

from nacl.public import PrivateKey


def load_or_create_encryption_key(path: Path) -> PrivateKey:
    """The X25519 private key at ``path``, generated (and saved 0600) on first use."""
    if path.exists():
        return PrivateKey(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = PrivateKey.generate()
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(bytes(key))
    return key


def public_key(key: PrivateKey) -> bytes:
    """The 32-byte public key registered on-chain."""
    return bytes(key.public_key)
