"""The owner's keys: signers for the bundle's EIP-712 messages, and the derived vault key.

The messages themselves (``SecretsBundle``, ``SecretsVaultKey``, their domain) are wire formats:
:mod:`peerhost.wire.secrets`. A *signer* is any callable that signs such a message and returns
the 65-byte ``r || s || v`` signature: :func:`as_signer` builds one from a private key,
:func:`ape_signer` from an ape account (an ape keyfile account shows the domain and every field
in clear before it signs).

The owner's X25519 *vault key* is ``blake2b(r || s)`` of its (deterministic, RFC 6979)
signature over :func:`~peerhost.wire.secrets.vault_key_message`. Only a holder of the owner's
Ethereum key can derive it, on any machine, so the bundle's owner share lets the tooling read
back current values to re-seal them.
"""

from __future__ import annotations

from typing import Any

from eip712.messages import EIP712Message
from eth_account import Account
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PrivateKey

from peerhost.wire.eip712 import sign_signable
from peerhost.wire.secrets import Signer, recover, vault_key_message

__all__ = ["Signer", "address_of_key", "ape_signer", "as_signer", "derive_vault_key"]


def as_signer(key: bytes | str | Signer) -> Signer:
    """A signer from a private key (32 bytes or hex) or an existing signer (returned as is)."""
    if callable(key):
        return key
    account = Account.from_key(key)

    def sign(message: EIP712Message) -> bytes:
        return sign_signable(account.key, message.signable_message)

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
