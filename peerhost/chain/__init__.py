"""The hot path's access to the chain: JSON-RPC, local signing, typed contract calls, log streams.

The byte formats (ids, commitments, signatures) live in :mod:`peerhost.wire`.
"""

from peerhost.chain.config import ChainConfig, ws_url_for
from peerhost.chain.errors import ChainUnavailable, RpcError, TransactionReverted
from peerhost.chain.logs import Cursor, FileCursor, LogFollower, MemoryCursor, Position
from peerhost.chain.protocol import Phase, Protocol, Status
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender

__all__ = [
    "ChainConfig",
    "ChainUnavailable",
    "Cursor",
    "FileCursor",
    "LogFollower",
    "MemoryCursor",
    "Phase",
    "Position",
    "Protocol",
    "RpcClient",
    "RpcError",
    "Status",
    "TransactionReverted",
    "TxSender",
    "ws_url_for",
]
