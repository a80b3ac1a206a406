"""Errors raised while sealing, opening and managing secrets bundles.

No message here ever contains a secret value: each error is built from names,
addresses, projects and times only, so it is safe to log, to return from the
gateway and to show in a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable

# The bundle format's own errors are defined with the format, in peerhost.wire.
from peerhost.wire.errors import (
    BundleMalformed,
    InvalidSecretName,
    InvalidSecretValue,
    SecretsError,
)

__all__ = [
    "BundleBindingMismatch",
    "BundleExpired",
    "BundleMalformed",
    "BundleSignatureInvalid",
    "InvalidSecretName",
    "InvalidSecretValue",
    "NoSecretsBundle",
    "OwnerShareUnreadable",
    "ResealNeeded",
    "SecretNotSet",
    "SecretsError",
    "SecretsMissing",
]


class BundleSignatureInvalid(SecretsError, ValueError):
    """The bundle was not signed by the owner it names (tampered or forged)."""

    def __init__(self, owner: str, signer: str | None) -> None:
        self.owner = owner
        self.signer = signer
        got = f"it was signed by {signer}" if signer else "its signature does not recover"
        super().__init__(f"Secrets bundle signature invalid: it names owner {owner} but {got}.")


class BundleBindingMismatch(SecretsError, ValueError):
    """The bundle (or one of its shares) was made for another wallet, project, chain or registry."""

    def __init__(self, field: str, expected: object, found: object) -> None:
        self.field = field
        self.expected = expected
        self.found = found
        super().__init__(
            f"Secrets bundle is bound to {field} {found!r}, not {expected!r}; refusing to use it."
        )


class BundleExpired(SecretsError, ValueError):
    """The bundle's expiry has passed; the owner must re-seal it."""

    def __init__(self, project: str, expires_at: int, now: int) -> None:
        self.project = project
        self.expires_at = expires_at
        self.now = now
        super().__init__(
            f"Secrets bundle of project '{project}' expired at {expires_at} (now {now}); "
            f"the owner must run `ape run secrets reseal {project}`."
        )


class ResealNeeded(SecretsError, LookupError):
    """The bundle holds no share this worker can open (it joined, or changed key, after sealing)."""

    def __init__(self, project: str, worker: str, reason: str) -> None:
        self.project = project
        self.worker = worker
        self.reason = reason
        super().__init__(
            f"Re-seal needed: the secrets bundle of project '{project}' {reason} for worker "
            f"{worker}; the owner must run `ape run secrets reseal {project}`."
        )


class SecretsMissing(SecretsError, LookupError):
    """Code declares secrets that the project has no value for."""

    def __init__(self, project: str, missing: Iterable[str]) -> None:
        self.project = project
        self.missing = sorted(missing)
        names = ", ".join(self.missing)
        first = self.missing[0] if self.missing else "NAME"
        super().__init__(
            f"Project '{project}' declares secrets with no value: {names}. "
            f"Set each with `ape run secrets set {project} {first}` and publish again."
        )


class NoSecretsBundle(SecretsError, LookupError):
    """The project has no secrets bundle on-chain (nothing to list, unset or re-seal)."""

    def __init__(self, owner: str, project: str) -> None:
        self.owner = owner
        self.project = project
        super().__init__(f"Project '{project}' of {owner} has no secrets.")


class SecretNotSet(SecretsError, LookupError):
    """`unset` of a name the project does not have."""

    def __init__(self, project: str, name: str) -> None:
        self.project = project
        self.name = name
        super().__init__(f"Project '{project}' has no secret named {name}.")


class OwnerShareUnreadable(SecretsError, PermissionError):
    """The tooling cannot read back the current values with the owner's key."""

    def __init__(self, project: str, reason: str) -> None:
        self.project = project
        self.reason = reason
        super().__init__(
            f"Cannot read back the secrets of project '{project}': {reason}. "
            f"Set every value again with `ape run secrets set {project} NAME`."
        )
