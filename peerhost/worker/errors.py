"""Errors raised by the worker node."""

from __future__ import annotations

from peerhost.chain.errors import shown_url
from peerhost.errors import PeerHostError


class WorkerError(PeerHostError):
    """Base class of every worker error."""


class InvalidWorkerSettings(WorkerError, ValueError):
    """A flag or environment variable has a value the worker cannot use."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(f"Invalid worker setting {name}: {reason}.")


class MissingWorkerKey(WorkerError, KeyError):
    """The worker's private key was not given in its environment variable."""

    def __init__(self, variable: str) -> None:
        self.variable = variable
        super().__init__(
            f"No worker key: set {variable} to the worker account's private key "
            "(it is never read from the command line)."
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class WorkerNotRegistered(WorkerError, RuntimeError):
    """The account is not an active worker and the node was not asked to stake."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(
            f"{address} is not an active worker. Register it (`ape run worker --account …`) "
            "or start the node with --stake WEI."
        )


class ContractsNotFound(WorkerError, LookupError):
    """The chain config points at an address with no contract (wrong chain, or a restarted one)."""

    def __init__(self, name: str, address: str, rpc_url: str) -> None:
        super().__init__(
            f"No {name} contract at {address} on {shown_url(rpc_url)}: the chain config does not match this "
            "chain (was it restarted?). Deploy (`ape run deploy`) and pass the new addresses."
        )


class JobSkipped(WorkerError, RuntimeError):
    """A job the worker cannot answer honestly (code unavailable, backstop fired, bad input)."""

    def __init__(self, request_id: bytes, reason: str) -> None:
        self.request_id = request_id
        self.reason = reason
        super().__init__(f"Job 0x{request_id.hex()} skipped: {reason}.")


class WorkerStartTimeout(WorkerError, TimeoutError):
    """A launched worker process did not report ready in time."""

    def __init__(self, seconds: float, log_tail: str) -> None:
        super().__init__(
            f"Worker process not ready after {seconds:.0f} s. Last log lines:\n{log_tail}"
        )


class WorkerExited(WorkerError, RuntimeError):
    """A launched worker process exited before it was ready."""

    def __init__(self, code: int | None, log_tail: str) -> None:
        self.code = code
        super().__init__(f"Worker process exited with code {code}. Last log lines:\n{log_tail}")


class CosignRefused(WorkerError, ValueError):
    """A gateway's co-sign request this worker will not sign."""

    def __init__(self, batch_id: int, reason: str) -> None:
        self.reason = reason
        super().__init__(f"Co-signing batch {batch_id} refused: {reason}.")
