"""A worker's X25519 encryption key: generated once, kept in its data directory (mode 0600).

The public half is what the worker registers on-chain (``register(bytes32)`` /
``setEncryptionKey(bytes32)``); owners seal secrets to it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from nacl.public import PrivateKey

KEY_FILE_NAME = "x25519.key"
"""The conventional file name inside a worker's data directory."""


def generate_worker_keypair() -> tuple[PrivateKey, bytes]:
    """A fresh X25519 key pair: the private key and the 32-byte public key to register."""
    key = PrivateKey.generate()
    return key, bytes(key.public_key)


def load_or_create_worker_key(path: Path | str) -> PrivateKey:
    """Load the worker's X25519 private key from ``path``, creating it (0600) if absent.

    The file holds the 32 raw key bytes. It is created atomically with mode 0600
    (never readable by others, even for an instant); an existing file that others
    can read or write is refused.

    Raises:
        PermissionError: the existing file is readable or writable by group or others.
        ValueError: the existing file does not hold 32 bytes.
    """
    path = Path(path).expanduser()
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise PermissionError(
                f"{path} is accessible to other users (mode {mode:o}); run `chmod 600 {path}`."
            )
        data = path.read_bytes()
        if len(data) != 32:
            raise ValueError(f"{path} does not hold a 32-byte X25519 key.")
        return PrivateKey(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    key, _ = generate_worker_keypair()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, bytes(key))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process created the key meanwhile
    except FileExistsError:
        tmp.unlink()
        return load_or_create_worker_key(path)
    tmp.unlink()
    return key
