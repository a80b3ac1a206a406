"""The developer's side: set, unset, list and re-seal a project's secrets.

Where the values live between rotations: in the current bundle itself. Every
bundle carries an *owner share*, sealed to an X25519 key derived from the
owner's EIP-712 signature (:func:`peerhost.secrets.signing.derive_vault_key`).
To change one value the tool reads the registry's pointer, fetches the bundle,
opens the owner share, changes that one value, re-seals everything to the
currently active workers, stores the new bundle and points the registry at it.
Nothing is kept on the developer's disk, any machine holding the owner's key
can manage the secrets, and no command ever prints a value.

Typical use (``ape run secrets`` builds the same from the CLI)::

    tool = SecretsTool(chain=ApeSecretsChain(registry, worker_registry, account),
                       store=open_store("local:.devnet/store"), signer=ape_signer(account),
                       owner=account.address, chain_id=chain.chain_id, registry=registry.address)
    tool.set("shop", "DB_URL", value)
    tool.listing("shop")       # [("DB_URL", 1767225600)]
    tool.reseal("shop")        # after new workers joined
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from nacl.public import PrivateKey

from peerhost.secrets.bundle import WorkerKey, list_secrets, recover_values, seal_bundle
from peerhost.secrets.errors import NoSecretsBundle, SecretNotSet
from peerhost.secrets.signing import Signer, derive_vault_key
from peerhost.storage import ContentStore, cid_from_bytes, cid_to_bytes
from peerhost.wire.secrets import Bundle, check_name, normalize_address

DEFAULT_TTL = 90 * 86400
"""How long a bundle stays valid unless asked otherwise (seconds)."""

WORKER_PAGE = 100


class SecretsChain(Protocol):
    """What the tool needs from the chain (see :class:`ApeSecretsChain`)."""

    def active_workers(self) -> list[WorkerKey]:
        """Every active worker with a registered encryption key."""
        ...

    def bundle_cid(self, owner: str, project: str) -> bytes:
        """The binary CID the registry points ``(owner, project)`` at; empty when none."""
        ...

    def set_bundle(self, project: str, cid: bytes) -> None:
        """Point the owner's ``project`` at ``cid`` (empty clears it)."""
        ...


@dataclass(frozen=True)
class SealResult:
    """What a change published.

    Attributes:
        cid: The new bundle's CID, or None when the last secret was removed (pointer cleared).
        names: The project's secret names now.
        workers: The workers it was sealed to.
        expires_at: Unix time the bundle expires.
    """

    cid: str | None
    names: list[str]
    workers: list[str]
    expires_at: int


@dataclass(frozen=True)
class BundleStatus:
    """Whether the current bundle still serves the active workers (read without decrypting).

    Attributes:
        cid: The bundle's CID.
        names: ``(name, set_at)`` pairs.
        expires_at: Unix time the bundle expires.
        expired: Whether it has expired by the tool's clock.
        sealed: Active workers holding a share for their current key.
        reseal_needed: Active workers with no share, or one for an older key.
    """

    cid: str
    names: list[tuple[str, int]]
    expires_at: int
    expired: bool
    sealed: list[str]
    reseal_needed: list[str]


@dataclass
class SecretsTool:
    """Manages one owner's project secrets on one deployment.

    Attributes:
        chain: Chain access (workers, pointer read and write).
        store: The content store bundles are put in (workers must be able to read it).
        signer: Signs as the owner (:func:`peerhost.secrets.signing.ape_signer`).
        owner: The owner's address.
        chain_id: The chain's id.
        registry: The FunctionRegistry address.
        ttl: Lifetime of each new bundle, in seconds.
        clock: Unix time source.
    """

    chain: SecretsChain
    store: ContentStore
    signer: Signer
    owner: str
    chain_id: int
    registry: str
    ttl: int = DEFAULT_TTL
    clock: Callable[[], int] = field(default=lambda: int(time.time()))
    _vault: PrivateKey | None = field(default=None, init=False, repr=False)

    def listing(self, project: str) -> list[tuple[str, int]]:
        """The project's secret names and when each was set; empty when it has none."""
        data = self._current(project)
        return list_secrets(data) if data else []

    def status(self, project: str) -> BundleStatus | None:
        """The current bundle against the active workers (None when the project has no secrets)."""
        cid = self.chain.bundle_cid(self.owner, project)
        if not cid:
            return None
        text = cid_from_bytes(cid)
        bundle = Bundle.from_bytes(self.store.get(text))
        sealed: list[str] = []
        missing: list[str] = []
        for address, key in self.chain.active_workers():
            share = bundle.shares.get(normalize_address(address))
            (sealed if share is not None and share.key == key else missing).append(address)
        return BundleStatus(
            cid=text,
            names=list(bundle.secrets),
            expires_at=bundle.expires_at,
            expired=self.clock() >= bundle.expires_at,
            sealed=sealed,
            reseal_needed=missing,
        )

    def set(self, project: str, name: str, value: str, *, fresh: bool = False) -> SealResult:
        """Set (or rotate) one secret and publish a new bundle.

        Args:
            project: The project name.
            name: The secret's name (an environment variable name).
            value: Its value (never logged or shown).
            fresh: Start from no secrets instead of reading back the current bundle
                (when it cannot be read back any more); other names are dropped.

        Raises:
            InvalidSecretName, InvalidSecretValue: see :func:`seal_bundle`.
            OwnerShareUnreadable: the current values cannot be read back (use ``fresh``).
        """
        check_name(name)
        values, set_at = ({}, {}) if fresh else self._values(project)
        values[name] = value
        set_at[name] = self.clock()
        return self._publish(project, values, set_at)

    def unset(self, project: str, name: str) -> SealResult:
        """Remove one secret and publish a new bundle (or clear the pointer when none is left).

        Raises:
            NoSecretsBundle: the project has no secrets.
            SecretNotSet: it has no secret of that name.
        """
        if not self._current(project):
            raise NoSecretsBundle(self.owner, project)
        values, set_at = self._values(project)
        if name not in values:
            raise SecretNotSet(project, name)
        del values[name]
        set_at.pop(name, None)
        return self._publish(project, values, set_at)

    def reseal(self, project: str) -> SealResult:
        """Seal the current values again to the currently active workers, with a fresh expiry.

        Raises:
            NoSecretsBundle: the project has no secrets.
            OwnerShareUnreadable: the current values cannot be read back.
        """
        if not self._current(project):
            raise NoSecretsBundle(self.owner, project)
        values, set_at = self._values(project)
        return self._publish(project, values, set_at)

    def vault_key(self) -> PrivateKey:
        """The owner's vault key (derived with one signature, then kept for this tool's life)."""
        if self._vault is None:
            self._vault = derive_vault_key(
                self.signer, chain_id=self.chain_id, registry=self.registry, owner=self.owner
            )
        return self._vault

    def _current(self, project: str) -> bytes | None:
        cid = self.chain.bundle_cid(self.owner, project)
        return self.store.get(cid_from_bytes(cid)) if cid else None

    def _values(self, project: str) -> tuple[dict[str, str], dict[str, int]]:
        data = self._current(project)
        if not data:
            return {}, {}
        return recover_values(
            data,
            vault_key=self.vault_key(),
            expected_owner=self.owner,
            project=project,
            chain_id=self.chain_id,
            registry=self.registry,
        )

    def _publish(self, project: str, values: dict[str, str], set_at: dict[str, int]) -> SealResult:
        now = self.clock()
        if not values:
            self.chain.set_bundle(project, b"")
            return SealResult(cid=None, names=[], workers=[], expires_at=0)
        workers = self.chain.active_workers()
        data = seal_bundle(
            values,
            workers,
            self.signer,
            self.owner,
            project,
            expiry=now + self.ttl,
            chain_id=self.chain_id,
            registry_address=self.registry,
            set_at=set_at,
            now=now,
            owner_vault_key=bytes(self.vault_key().public_key),
        )
        cid = self.store.put(data)
        self.chain.set_bundle(project, cid_to_bytes(cid))
        return SealResult(
            cid=cid,
            names=sorted(values),
            workers=[normalize_address(w) for w, _ in workers],
            expires_at=now + self.ttl,
        )


class ApeSecretsChain:
    """:class:`SecretsChain` over ape contract instances (scripts, console, tests).

    Args:
        registry: The FunctionRegistry contract instance.
        worker_registry: The WorkerRegistry contract instance.
        account: The owner's ape account (sends ``setSecretsBundle``).
    """

    def __init__(self, registry: Any, worker_registry: Any, account: Any) -> None:
        self.registry = registry
        self.worker_registry = worker_registry
        self.account = account

    def active_workers(self) -> list[WorkerKey]:
        count = int(self.worker_registry.workerCount())
        found: list[WorkerKey] = []
        for offset in range(0, count, WORKER_PAGE):
            for address in self.worker_registry.workers(offset, WORKER_PAGE):
                key = bytes(self.worker_registry.getWorker(address).encryptionKey)
                if any(key) and self.worker_registry.isActive(address):
                    found.append((str(address), key))
        return found

    def bundle_cid(self, owner: str, project: str) -> bytes:
        return bytes(self.registry.secretsBundle(owner, project))

    def set_bundle(self, project: str, cid: bytes) -> None:
        self.registry.setSecretsBundle(project, cid, sender=self.account)
