"""The hot path's access to the chain: JSON-RPC, local signing, typed contract calls, log streams."""

from peerhost.chain.commitments import commitment, new_salt, request_id, result_hash
from peerhost.chain.config import ChainConfig, ws_url_for
from peerhost.chain.errors import ChainUnavailable, RpcError, TransactionReverted
from peerhost.chain.logs import Cursor, FileCursor, LogFollower, MemoryCursor, Position
from peerhost.chain.protocol import Phase, Protocol, Status
from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.chain.signatures import recover_signer, sign_result

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
    "commitment",
    "new_salt",
    "recover_signer",
    "request_id",
    "result_hash",
    "sign_result",
    "ws_url_for",
]
