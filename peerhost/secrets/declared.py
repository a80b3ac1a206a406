"""Publishing's check: every secret the code declares must have a value in the project's bundle."""

from __future__ import annotations

from collections.abc import Iterable

from peerhost.secrets.bundle import list_secrets
from peerhost.secrets.errors import SecretsMissing


def missing_secrets(declared: Iterable[str], available_names: Iterable[str]) -> list[str]:
    """The declared names that have no value, sorted and without duplicates."""
    return sorted(set(declared) - set(available_names))


def require_secrets(declared: Iterable[str], bundle: bytes | None, *, project: str) -> None:
    """Refuse to publish code that declares secrets the project's current bundle lacks.

    Args:
        declared: Secret names the functions declare (project.json).
        bundle: The bundle the registry points at, or None when it points at none.
        project: The project name (for the message).

    Raises:
        SecretsMissing: naming every missing secret.
        BundleMalformed: the bundle cannot be read.
    """
    names = [name for name, _ in list_secrets(bundle)] if bundle else []
    missing = missing_secrets(declared, names)
    if missing:
        raise SecretsMissing(project, missing)
