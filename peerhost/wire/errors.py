"""Errors raised when bytes from the other side are not the format both sides agreed on.

The secrets bundle's errors are :class:`SecretsError` s (``peerhost.secrets`` raises the rest of
that family: binding, signature, expiry, re-seal); none of them ever holds a secret value.
"""

from __future__ import annotations

from peerhost.errors import PeerHostError


class WireError(PeerHostError):
    """Base class of the wire formats' errors."""


class InvalidEnvelope(WireError, ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Not a PeerHost result envelope: {reason}")


class SecretsError(PeerHostError):
    """Base class of every secrets error."""


class BundleMalformed(SecretsError, ValueError):
    """The bytes are not a secrets bundle this code understands."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"Not a valid secrets bundle: {reason}.")


class InvalidSecretName(SecretsError, ValueError):
    """A name that cannot be an environment variable."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"{name[:80]!r} is not a valid secret name: use 1-128 characters of A-Z, a-z, 0-9 "
            "and '_', not starting with a digit."
        )


class InvalidSecretValue(SecretsError, ValueError):
    """A value that cannot be passed as an environment variable, or is too big (never shown)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"The value of secret {name} is not accepted: {reason}.")
