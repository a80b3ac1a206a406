"""EIP-712 signatures over (requestId, resultHash): how a worker vouches for an output it posts.

The gateway accepts an output only when the signer is a registered, staked worker and the
keccak of the bytes it received equals the signed result hash.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

DOMAIN_NAME = "PeerHost"
DOMAIN_VERSION = "1"

_TYPES = {
    "Result": [
        {"name": "requestId", "type": "bytes32"},
        {"name": "resultHash", "type": "bytes32"},
    ]
}


def _typed(chain_id: int, coordinator: str, request: bytes, result: bytes) -> Any:
    return encode_typed_data(
        domain_data={
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": coordinator,
        },
        message_types=_TYPES,
        message_data={"requestId": request, "resultHash": result},
    )


def sign_result(
    private_key: bytes, chain_id: int, coordinator: str, request: bytes, result: bytes
) -> bytes:
    """The 65-byte signature of ``private_key`` over (request, result)."""
    signed = Account.sign_message(_typed(chain_id, coordinator, request, result), private_key)
    return bytes(signed.signature)


def recover_signer(
    signature: bytes, chain_id: int, coordinator: str, request: bytes, result: bytes
) -> str:
    """The checksummed address that signed (request, result); raises ValueError if malformed."""
    try:
        return str(
            Account.recover_message(
                _typed(chain_id, coordinator, request, result), signature=signature
            )
        )
    except Exception as exc:  # eth_keys raises several types for bad signatures
        raise ValueError(f"invalid result signature: {exc}") from exc
