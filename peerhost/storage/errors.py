"""Errors raised by the content store.

Each leaf builds its own message and also subclasses the builtin a caller would
naturally catch, so ``except LookupError`` or ``except ConnectionError`` keep
working next to ``except PeerHostError``.
"""

from __future__ import annotations

from peerhost.errors import PeerHostError


class StorageError(PeerHostError):
    """Base class of every content-store error."""


class InvalidCid(StorageError, ValueError):
    """A value is not a CID this store understands."""

    def __init__(self, value: object, reason: str) -> None:
        self.value = value
        shown = value.hex() if isinstance(value, bytes | bytearray) else repr(value)
        super().__init__(f"Invalid CID {shown[:120]}: {reason}.")


class ContentNotFound(StorageError, LookupError):
    """No source holds the content of a CID (a worker must not commit)."""

    def __init__(self, cid: str, where: str) -> None:
        self.cid = cid
        self.where = where
        super().__init__(f"Content {cid} not found in {where}.")


class ContentMismatch(StorageError, ValueError):
    """Bytes received for a CID hash to another CID: they are refused, never run."""

    def __init__(self, expected: str, actual: str, where: str) -> None:
        self.expected = expected
        self.actual = actual
        self.where = where
        super().__init__(
            f"Content from {where} refused: expected CID {expected}, the bytes hash to {actual}."
        )


class StoreUnavailable(StorageError, ConnectionError):
    """A store cannot be reached at all (daemon down, gateway unreachable)."""

    def __init__(self, url: str, hint: str) -> None:
        self.url = url
        self.hint = hint
        super().__init__(f"Content store at {url} is unavailable: {hint}")


class StoreReadOnly(StorageError, TypeError):
    """``put`` was called on a store that has no writable source."""

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(f"{where} is read-only: it has no source that accepts put().")


class ObjectTooLarge(StorageError, ValueError):
    """An object is larger than a bounded store can ever hold."""

    def __init__(self, size: int, max_bytes: int, where: str) -> None:
        self.size = size
        self.max_bytes = max_bytes
        super().__init__(f"Object of {size} bytes exceeds the {max_bytes}-byte bound of {where}.")


class InvalidStoreSpec(StorageError, ValueError):
    """A store spec string (``local:/path``, ``ipfs:http://...``) cannot be parsed."""

    def __init__(self, spec: str, reason: str) -> None:
        self.spec = spec
        super().__init__(f"Invalid content-store spec {spec!r}: {reason}.")


class DaemonNotInstalled(StorageError, FileNotFoundError):
    """js-ipfs is not installed where the daemon helper looks for it."""

    def __init__(self, install_script: object) -> None:
        super().__init__(
            f"js-ipfs is not installed: run `bash {install_script}` "
            "(or set PEERHOST_JSIPFS to a jsipfs executable)."
        )


class DaemonFailed(StorageError, RuntimeError):
    """A local IPFS daemon could not be started."""

    def __init__(self, what: str, output: str) -> None:
        tail = "\n".join(output.strip().splitlines()[-15:])
        super().__init__(f"{what}. Last output:\n{tail}" if tail else f"{what}.")
