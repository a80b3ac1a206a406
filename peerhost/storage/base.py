"""What every content store offers: bytes in, CID out; CID in, verified bytes out."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from peerhost.storage.cid import CidLike


@runtime_checkable
class ContentSource(Protocol):
    """A place content can be read from by CID (an HTTP gateway is only this).

    Implementations that verify what they return set a class attribute
    ``verifies_reads = True``; :class:`~peerhost.storage.ChainedStore` verifies
    the answers of any other source itself.
    """

    def get(self, cid: CidLike) -> bytes:
        """Return the content of ``cid``, verified against it.

        Raises:
            ContentNotFound: this source does not hold the content.
            ContentMismatch: the source returned other bytes (refused).
            StoreUnavailable: the source cannot be reached.
        """
        ...

    def has(self, cid: CidLike) -> bool:
        """Tell whether this source holds ``cid`` (without fetching it from elsewhere)."""
        ...


@runtime_checkable
class ContentStore(ContentSource, Protocol):
    """A content source that also accepts new content."""

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its CID (CIDv1, base32), equal to ``compute_cid(data)``.

        Raises:
            StoreUnavailable: the store cannot be reached.
            ContentMismatch: the store addressed the bytes under another CID.
        """
        ...
