"""Seal secrets into a signed bundle, open a worker's share, list names without decrypting.

Typical use::

    data = seal_bundle({"DB_URL": url}, [(worker, worker_pubkey)], owner_key, owner,
                       "shop", expiry=now + 30 * 86400, chain_id=31337, registry_address=registry)
    env = open_bundle(data, worker_address=worker, worker_private_key=sk,
                      expected_owner=owner, project="shop", chain_id=31337,
                      registry=registry, now=block_timestamp)
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from peerhost.secrets.errors import (
    BundleBindingMismatch,
    BundleExpired,
    BundleMalformed,
    BundleSignatureInvalid,
    OwnerShareUnreadable,
    ResealNeeded,
)
from peerhost.secrets.signing import as_signer, derive_vault_key
from peerhost.wire.secrets import (
    OWNER_RECIPIENT,
    PROJECT_NAME,
    Bundle,
    Share,
    Signer,
    bundle_signer,
    check_values,
    decode_share,
    encode_share,
    normalize_address,
    signed_bundle,
)

_BINDING_ORDER = ("owner", "project", "chainId", "registry", "recipient", "expiresAt", "nonce")

WorkerKey = tuple[str, bytes]
"""A worker's address and its 32-byte X25519 public key (as registered on-chain)."""


def seal_bundle(
    values: Mapping[str, str],
    workers: Iterable[WorkerKey],
    owner_key: bytes | str | Signer,
    owner_address: str,
    project: str,
    expiry: int,
    chain_id: int,
    registry_address: str,
    *,
    set_at: Mapping[str, int] | None = None,
    now: int | None = None,
    owner_vault_key: bytes | None = None,
    owner_share: bool = True,
) -> bytes:
    """Seal ``values`` to every worker and sign the bundle as the owner.

    Args:
        values: Secret names to values.
        workers: ``(address, x25519_public_key)`` of each worker that may run the project.
        owner_key: The owner's Ethereum private key, or a :data:`Signer` (e.g. ``ape_signer(account)``).
        owner_address: The project's owner (must be the key's address).
        project: The project name.
        expiry: Unix time after which workers refuse the bundle.
        chain_id: The chain the registry lives on.
        registry_address: The FunctionRegistry that will point at the bundle.
        set_at: When each name was last set (defaults to ``now`` for names not given).
        now: Unix time of sealing (defaults to the clock).
        owner_vault_key: The owner's vault X25519 public key; derived with one more
            signature when omitted and ``owner_share`` is true.
        owner_share: Also seal a share to the owner's vault key so the tooling can re-seal.

    Returns:
        The canonical bundle bytes, ready to store by CID.

    Raises:
        InvalidSecretName, InvalidSecretValue: bad names or values (never shown).
        ValueError: bad project, addresses, keys or expiry.
        PermissionError: the signer is not the owner.
    """
    values = check_values(dict(values))
    if not isinstance(project, str) or not PROJECT_NAME.match(project):
        raise ValueError(f"not a project name: {project!r}")
    owner = normalize_address(owner_address)
    registry = normalize_address(registry_address)
    created_at = int(time.time()) if now is None else int(now)
    if expiry <= created_at:
        raise ValueError(f"expiry {expiry} is not after now ({created_at})")
    signer = as_signer(owner_key)
    set_at = set_at or {}
    skeleton = Bundle(
        chain_id=int(chain_id),
        registry=registry,
        owner=owner,
        project=project,
        nonce=os.urandom(32),
        created_at=created_at,
        expires_at=int(expiry),
        secrets=tuple((n, int(set_at.get(n, created_at))) for n in sorted(values)),
        shares={},
        owner_share=None,
        signature=b"",
    )
    shares: dict[str, Share] = {}
    for address, key in workers:
        worker = normalize_address(address)
        shares[worker] = _seal(skeleton, worker, _public_key(key, worker), values)
    vault: Share | None = None
    if owner_share:
        if owner_vault_key is None:
            derived = derive_vault_key(signer, chain_id=chain_id, registry=registry, owner=owner)
            owner_vault_key = bytes(derived.public_key)
        vault = _seal(skeleton, OWNER_RECIPIENT, _public_key(owner_vault_key, "owner"), values)
    return sign_bundle(replace(skeleton, shares=shares, owner_share=vault), signer)


def sign_bundle(bundle: Bundle, owner_key: bytes | str | Signer) -> bytes:
    """Sign ``bundle`` (its signature field is ignored) as its owner; returns the canonical bytes.

    Raises:
        PermissionError: the key is not the bundle owner's.
    """
    return signed_bundle(bundle, as_signer(owner_key))


def open_bundle(
    bundle: bytes,
    *,
    worker_address: str,
    worker_private_key: PrivateKey | bytes,
    expected_owner: str,
    project: str,
    chain_id: int,
    registry: str,
    now: int,
) -> dict[str, str]:
    """Verify a bundle and decrypt this worker's share into environment values.

    Args:
        bundle: The bundle bytes (fetched by the CID the registry points at).
        worker_address: This worker's address.
        worker_private_key: This worker's X25519 private key.
        expected_owner: The project's on-chain owner.
        project: The project name.
        chain_id: This chain's id.
        registry: The FunctionRegistry address.
        now: The time to judge expiry by (use the request's block timestamp so
            every worker decides alike).

    Returns:
        Secret names to values.

    Raises:
        BundleMalformed: not a well-formed bundle, or the share does not decrypt.
        BundleBindingMismatch: made for another owner, project, chain or registry
            (or a share copied from another bundle).
        BundleSignatureInvalid: not signed by ``expected_owner`` (tampered).
        BundleExpired: ``now`` is at or past the bundle's expiry.
        ResealNeeded: no share for this worker, or a share for its old key.
    """
    parsed = _verified(bundle, expected_owner, project, chain_id, registry)
    if now >= parsed.expires_at:
        raise BundleExpired(project, parsed.expires_at, now)
    worker = normalize_address(worker_address)
    private = _private_key(worker_private_key)
    share = parsed.shares.get(worker)
    if share is None:
        raise ResealNeeded(project, worker, "has no share")
    if share.key != bytes(private.public_key):
        raise ResealNeeded(project, worker, "was sealed to another encryption key")
    return _open(parsed, share, private, worker)


def recover_values(
    bundle: bytes,
    *,
    vault_key: PrivateKey,
    expected_owner: str,
    project: str,
    chain_id: int,
    registry: str,
) -> tuple[dict[str, str], dict[str, int]]:
    """Read back a bundle's values through the owner's share (expired bundles too).

    Args:
        bundle: The bundle bytes.
        vault_key: The owner's vault key (:func:`peerhost.secrets.signing.derive_vault_key`).
        expected_owner: The owner.
        project: The project name.
        chain_id: This chain's id.
        registry: The FunctionRegistry address.

    Returns:
        ``(values, set_at)``: names to values, and names to the unix time each was set.

    Raises:
        BundleMalformed, BundleBindingMismatch, BundleSignatureInvalid: as for :func:`open_bundle`.
        OwnerShareUnreadable: the bundle has no owner share, or one for another key.
    """
    parsed = _verified(bundle, expected_owner, project, chain_id, registry)
    share = parsed.owner_share
    if share is None:
        raise OwnerShareUnreadable(project, "the current bundle has no owner share")
    if share.key != bytes(vault_key.public_key):
        raise OwnerShareUnreadable(project, "the owner share was sealed to another vault key")
    values = _open(parsed, share, vault_key, OWNER_RECIPIENT)
    return values, dict(parsed.secrets)


def list_secrets(bundle: bytes) -> list[tuple[str, int]]:
    """The bundle's secret names and when each was set (unix time), without decrypting anything.

    The listing is read from the bundle as is; use :func:`open_bundle` (workers)
    or :func:`recover_values` (owner) to also verify it.

    Raises:
        BundleMalformed: not a well-formed bundle.
    """
    return list(Bundle.from_bytes(bundle).secrets)


def _verified(data: bytes, owner: str, project: str, chain_id: int, registry: str) -> Bundle:
    bundle = Bundle.from_bytes(data)
    expected: list[tuple[str, object, object]] = [
        ("chain id", int(chain_id), bundle.chain_id),
        ("registry", normalize_address(registry), bundle.registry),
        ("owner", normalize_address(owner), bundle.owner),
        ("project", project, bundle.project),
    ]
    for field, want, found in expected:
        if want != found:
            raise BundleBindingMismatch(field, want, found)
    signer = bundle_signer(bundle)
    if signer != bundle.owner:
        raise BundleSignatureInvalid(bundle.owner, signer)
    return bundle


def _seal(bundle: Bundle, recipient: str, key: PublicKey, values: dict[str, str]) -> Share:
    plaintext = encode_share(bundle.binding(recipient), values)
    return Share(key=bytes(key), box=SealedBox(key).encrypt(plaintext))


def _open(bundle: Bundle, share: Share, private: PrivateKey, recipient: str) -> dict[str, str]:
    try:
        plaintext = SealedBox(private).decrypt(share.box)
    except CryptoError as exc:
        raise BundleMalformed(f"the share for {recipient} does not decrypt") from exc
    binding, values = decode_share(plaintext, recipient)
    want = bundle.binding(recipient)
    if set(binding) != set(want):
        raise BundleMalformed(f"the share for {recipient} has binding fields {sorted(binding)}")
    for field in _BINDING_ORDER:
        if binding.get(field) != want.get(field):
            raise BundleBindingMismatch(f"share {field}", want.get(field), binding.get(field))
    if sorted(values) != [n for n, _ in bundle.secrets] or not all(
        isinstance(v, str) for v in values.values()
    ):
        raise BundleMalformed(f"the share for {recipient} does not hold the listed names")
    return {str(k): v for k, v in values.items()}


def _public_key(key: bytes, whose: str) -> PublicKey:
    if not isinstance(key, bytes | bytearray) or len(key) != 32 or not any(key):
        raise ValueError(f"the X25519 key of {whose} is not 32 non-zero bytes")
    return PublicKey(bytes(key))


def _private_key(key: PrivateKey | bytes) -> PrivateKey:
    return key if isinstance(key, PrivateKey) else PrivateKey(bytes(key))
