"""Errors raised while bringing a devnet up."""

from __future__ import annotations

from pathlib import Path

from peerhost.errors import PeerHostError
from peerhost.processes import log_tail


class DevnetError(PeerHostError):
    """Base class of every devnet error."""


class ChildFailed(DevnetError, RuntimeError):
    """A process of the devnet (chain, worker, gateway) failed to start or died."""

    def __init__(self, what: str, reason: str, log_path: Path | None = None) -> None:
        self.what = what
        self.log_path = log_path
        message = f"{what} {reason}."
        if log_path is not None:
            last = log_tail(log_path, 15)
            message += f" Its log: {log_path}" + (f"\n{last}" if last else "")
        super().__init__(message)


class PortInUse(DevnetError, OSError):
    """A port the devnet was asked to use is taken."""

    def __init__(self, what: str, port: int) -> None:
        super().__init__(
            f"Port {port} for the {what} is in use (another devnet?). "
            f"Stop it or choose another port."
        )


class ToolMissing(DevnetError, FileNotFoundError):
    """A program the devnet needs is not installed."""

    def __init__(self, tool: str, hint: str) -> None:
        super().__init__(f"`{tool}` not found. {hint}")
