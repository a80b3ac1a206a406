"""Content-addressed storage: function code and big inputs by CID.

Every read is verified against the CID asked for, whatever the source, so a
worker runs only the bytes the chain recorded. CIDs are computed in Python with
the layout an IPFS daemon uses, so the same bytes get the same CID with or
without a daemon.

Typical use::

    from peerhost.storage import open_store

    store = open_store("local:/var/cache/peerhost?max_bytes=2GiB,ipfs:http://127.0.0.1:5001")
    cid = store.put(code)          # -> "bafk..."
    code = store.get(cid)          # verified bytes, or ContentNotFound / ContentMismatch
"""

from __future__ import annotations

from peerhost.storage.base import ContentSource, ContentStore
from peerhost.storage.chained import ChainedStore
from peerhost.storage.cid import (
    Cid,
    CidLike,
    cid_from_bytes,
    cid_str,
    cid_to_bytes,
    parse_cid,
    same_cid,
)
from peerhost.storage.errors import (
    ContentMismatch,
    ContentNotFound,
    DaemonFailed,
    DaemonNotInstalled,
    InvalidCid,
    InvalidStoreSpec,
    ObjectTooLarge,
    StorageError,
    StoreReadOnly,
    StoreUnavailable,
)
from peerhost.storage.gateway import HttpGatewaySource
from peerhost.storage.ipfs import IpfsStore
from peerhost.storage.local import LocalStore, PrewarmReport
from peerhost.storage.spec import DEFAULT_STORE_SPEC, open_source, open_store
from peerhost.storage.unixfs import compute_cid
from peerhost.storage.verify import content_matches, verify

__all__ = [
    "DEFAULT_STORE_SPEC",
    "ChainedStore",
    "Cid",
    "CidLike",
    "ContentMismatch",
    "ContentNotFound",
    "ContentSource",
    "ContentStore",
    "DaemonFailed",
    "DaemonNotInstalled",
    "HttpGatewaySource",
    "InvalidCid",
    "InvalidStoreSpec",
    "IpfsStore",
    "LocalStore",
    "ObjectTooLarge",
    "PrewarmReport",
    "StorageError",
    "StoreReadOnly",
    "StoreUnavailable",
    "cid_from_bytes",
    "cid_str",
    "cid_to_bytes",
    "compute_cid",
    "content_matches",
    "open_source",
    "open_store",
    "parse_cid",
    "same_cid",
    "verify",
]
