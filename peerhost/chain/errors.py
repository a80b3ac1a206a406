"""Errors raised while talking to the chain."""

from __future__ import annotations

from urllib.parse import urlsplit

from peerhost.errors import PeerHostError


def shown_url(url: str) -> str:
    """``url`` as it may be printed: scheme://host:port only. A provider's URL may carry its API
    key in the userinfo, the path or the query (``https://eth.example/v3/KEY``): those are cut."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "<unprintable URL>"
    if not parts.scheme or not host:
        return "<unprintable URL>"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{port}"


def without_url(error: BaseException, url: str) -> str:
    """``error``'s message with ``url`` in it shown as :func:`shown_url` (a WebSocket library's
    error may quote the URL it was given)."""
    text = str(error)
    return text.replace(url, shown_url(url)) if url else text


class ChainUnavailable(PeerHostError, ConnectionError):
    """The JSON-RPC endpoint cannot be reached."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = shown_url(url)  # (the full URL may hold a provider's key: never kept here)
        super().__init__(
            f"Cannot reach the chain at {self.url} ({reason}). "
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
