"""EIP-712 typed data: the PeerHost domain, signing and recovery, and the ``Result`` type.

A worker vouches for an output it posts with its signature over ``Result(requestId,
resultHash)``; the gateway accepts the output only when the signer is a registered, staked
worker and the keccak of the bytes it received equals the signed result hash. Other message
types use :func:`sign_typed` and :func:`recover_typed` with their own type table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data

DOMAIN_NAME = "PeerHost"
DOMAIN_VERSION = "1"

#: EIP-712 type table: type name → its fields, in order.
Types = Mapping[str, Sequence[Mapping[str, str]]]

RESULT_TYPES: Types = {
    "Result": [
        {"name": "requestId", "type": "bytes32"},
        {"name": "resultHash", "type": "bytes32"},
    ]
}


def domain(
    chain_id: int,
    verifying_contract: str,
    *,
    name: str = DOMAIN_NAME,
    version: str = DOMAIN_VERSION,
) -> dict[str, Any]:
    """The PeerHost EIP-712 domain on ``chain_id`` for ``verifying_contract``.

    ``name`` and ``version`` name another PeerHost domain (the secrets bundle's is
    ``"PeerHost Secrets"``, see :mod:`peerhost.wire.secrets`).
    """
    return {
        "name": name,
        "version": version,
        "chainId": chain_id,
        "verifyingContract": verifying_contract,
    }


def typed_message(
    chain_id: int, verifying_contract: str, types: Types, message: Mapping[str, Any]
) -> SignableMessage:
    """The signable EIP-712 message of ``message`` (its type is the first of ``types``)."""
    return encode_typed_data(
        domain_data=domain(chain_id, verifying_contract),
        message_types={name: [dict(f) for f in fields] for name, fields in types.items()},
        message_data=dict(message),
    )


def sign_typed(
    private_key: bytes,
    chain_id: int,
    verifying_contract: str,
    types: Types,
    message: Mapping[str, Any],
) -> bytes:
    """The 65-byte signature of ``private_key`` over an EIP-712 message."""
    return sign_signable(private_key, typed_message(chain_id, verifying_contract, types, message))


def sign_signable(private_key: bytes | str, signable: SignableMessage) -> bytes:
    """The 65-byte ``r || s || v`` signature of ``private_key`` over an encoded message."""
    return bytes(Account.sign_message(signable, private_key).signature)


def recover_signable(signable: SignableMessage, signature: bytes, what: str = "EIP-712") -> str:
    """The checksummed address that signed an encoded message; raises ValueError if malformed.

    ``v`` must be 27 or 28 (or 0 or 1): eth_account also reads larger values as EIP-155
    transaction ``v``s, so one altered byte of a signature (``1b`` -> ``3b``) would otherwise
    still recover its signer.
    """
    if len(signature) != 65 or signature[64] not in (0, 1, 27, 28):
        raise ValueError(f"invalid {what} signature: 65 bytes ending in v = 27 or 28")
    try:
        return str(Account.recover_message(signable, signature=signature))
    except Exception as exc:  # eth_keys raises several types for bad signatures
        raise ValueError(f"invalid {what} signature: {exc}") from exc


def recover_typed(
    signature: bytes,
    chain_id: int,
    verifying_contract: str,
    types: Types,
    message: Mapping[str, Any],
    what: str = "EIP-712",
) -> str:
    """The checksummed address that signed an EIP-712 message; raises ValueError if malformed."""
    signable = typed_message(chain_id, verifying_contract, types, message)
    return recover_signable(signable, signature, what)


def sign_result(
    private_key: bytes, chain_id: int, coordinator: str, request: bytes, result: bytes
) -> bytes:
    """The 65-byte signature of ``private_key`` over ``Result(request, result)``."""
    message = {"requestId": request, "resultHash": result}
    return sign_typed(private_key, chain_id, coordinator, RESULT_TYPES, message)


def recover_signer(
    signature: bytes, chain_id: int, coordinator: str, request: bytes, result: bytes
) -> str:
    """The checksummed address that signed ``Result(request, result)``; ValueError if malformed."""
    message = {"requestId": request, "resultHash": result}
    return recover_typed(signature, chain_id, coordinator, RESULT_TYPES, message, "result")
