"""Errors raised while talking to the chain."""

from __future__ import annotations

from peerhost.errors import PeerHostError


class ChainUnavailable(PeerHostError, ConnectionError):
    """The JSON-RPC endpoint cannot be reached."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(
            f"Cannot reach the chain at {url} ({reason}). "
            "Start a node there (e.g. `ape run devnet`) or pass the right RPC URL."
        )


class RpcError(PeerHostError, RuntimeError):
    """The node answered a JSON-RPC call with an error."""

    def __init__(self, method: str, code: int, message: str, data: str | None = None) -> None:
        self.method = method
        self.code = code
        self.data = data
        self.rpc_message = message
        super().__init__(f"{method} failed: {message} (code {code})")


class TransactionReverted(PeerHostError, RuntimeError):
    """A transaction or call reverted; ``reason`` is the decoded custom error when known."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what} reverted: {reason}")


class BuildArtifactsMissing(PeerHostError, FileNotFoundError):
    """The compiled contract ABIs are not on disk."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"No compiled contracts at {path}. Run `ape compile` in the project first."
        )
