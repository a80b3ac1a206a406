"""The owner's signatures: the EIP-712 bundle signature and the derived vault key.

Two typed messages, both in the domain ``{name: "PeerHost Secrets", version: "1",
chainId, verifyingContract: <FunctionRegistry>}`` so a signature never carries
over to another chain or deployment:

``SecretsBundle(address owner,string project,uint64 createdAt,uint64 expiresAt,bytes32 nonce,bytes32 contentHash)``
    signs a bundle; ``contentHash`` is keccak256 of the canonical JSON of the
    whole bundle without its ``signature`` field. A wallet shows owner,
    project and expiry in clear.

``SecretsVaultKey(address owner,string purpose)``
    derives the owner's X25519 *vault key*: ``blake2b(r || s)`` of the
    (deterministic, RFC 6979) signature is the private key. Only a holder of the
    owner's Ethereum key can derive it, on any machine, so the bundle's owner
    share lets the tooling read back current values to re-seal them.

Both are :class:`eip712.messages.EIP712Message` models (the encoding ape, eth-account and
wallets share), so an ape keyfile account shows the domain and every field in clear
before it signs. A *signer* is any callable that signs such a message and returns the
65-byte ``r || s || v`` signature: :func:`as_signer` builds one from a private key,
:func:`ape_signer` from an ape account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eip712.messages import EIP712Message
from eth_account import Account
from eth_pydantic_types import abi
from eth_utils import keccak
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PrivateKey

Signer = Callable[[EIP712Message], bytes]
"""Signs an EIP-712 message; returns the 65-byte ``r || s || v`` signature."""

DOMAIN_NAME = "PeerHost Secrets"
DOMAIN_VERSION = "1"
VAULT_PURPOSE = (
    "Unlock the PeerHost secrets you sealed on this chain so the tooling can re-seal them. "
    "Sign this only in PeerHost tooling: the signature reads your secrets."
)


class SecretsBundle(EIP712Message):
    """The owner's signature over one bundle."""

    owner: abi.address
    project: abi.string
    createdAt: abi.uint64
    expiresAt: abi.uint64
    nonce: abi.bytes32
    contentHash: abi.bytes32


class SecretsVaultKey(EIP712Message):
    """The owner's signature that derives its vault key."""

    owner: abi.address
    purpose: abi.string


def _domain(chain_id: int, registry: str) -> dict[str, Any]:
    return {
        "eip712_name": DOMAIN_NAME,
        "eip712_version": DOMAIN_VERSION,
        "eip712_chainId": chain_id,
        "eip712_verifyingContract": registry,
    }


def bundle_message(
    *,
    chain_id: int,
    registry: str,
    owner: str,
    project: str,
    created_at: int,
    expires_at: int,
    nonce: bytes,
    body: bytes,
) -> SecretsBundle:
    """The EIP-712 message the owner signs for a bundle whose unsigned canonical JSON is ``body``."""
    fields: dict[str, Any] = {
        "owner": owner,
        "project": project,
        "createdAt": created_at,
        "expiresAt": expires_at,
        "nonce": nonce,
        "contentHash": keccak(body),
    }
    return SecretsBundle(**fields, **_domain(chain_id, registry))


def vault_key_message(*, chain_id: int, registry: str, owner: str) -> SecretsVaultKey:
    """The EIP-712 message whose signature derives the owner's vault key."""
    fields: dict[str, Any] = {"owner": owner, "purpose": VAULT_PURPOSE}
    return SecretsVaultKey(**fields, **_domain(chain_id, registry))


def recover(message: EIP712Message, signature: bytes) -> str | None:
    """The lowercase address that signed ``message``, or None if the signature does not recover."""
    try:
        return str(Account.recover_message(message.signable_message, signature=signature)).lower()
    except Exception:  # eth_keys raises several types for junk signatures
        return None


def as_signer(key: bytes | str | Signer) -> Signer:
    """A signer from a private key (32 bytes or hex) or an existing signer (returned as is)."""
    if callable(key):
        return key
    account = Account.from_key(key)

    def sign(message: EIP712Message) -> bytes:
        return bytes(account.sign_message(message.signable_message).signature)

    return sign


def ape_signer(account: Any) -> Signer:
    """A signer backed by an ape account (test accounts sign at once, keyfile accounts prompt).

    Raises:
        PermissionError: (when called) the account declined to sign.
    """

    def sign(message: EIP712Message) -> bytes:
        signature = account.sign_message(message)  # keyfile accounts show every field
        if signature is None:
            raise PermissionError(f"Account {account.address} did not sign.")
        return bytes(signature.encode_rsv())

    return sign


def address_of_key(key: bytes | str) -> str:
    """The lowercase address of a private key."""
    return str(Account.from_key(key).address).lower()


def derive_vault_key(signer: Signer, *, chain_id: int, registry: str, owner: str) -> PrivateKey:
    """Derive the owner's X25519 vault key by signing :func:`vault_key_message`.

    Raises:
        PermissionError: the signature is not by ``owner``.
    """
    message = vault_key_message(chain_id=chain_id, registry=registry, owner=owner)
    signature = signer(message)
    if recover(message, signature) != owner.lower():
        raise PermissionError(f"The signer is not {owner}; cannot derive its vault key.")
    seed = blake2b(signature[:64], digest_size=32, person=b"peerhost-vault", encoder=RawEncoder)
    return PrivateKey(seed)
