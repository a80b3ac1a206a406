"""Owner-only access to a project's logs (and its gateway-side HTTP settings): an EIP-191
signature over a short-lived message.

The message names what it grants and until when (unix seconds)::

    PeerHost: read the logs of project shop of 0xAbC…
    expires: 1767225600

The client sends ``X-PeerHost-Expires`` and ``X-PeerHost-Owner-Signature`` (65 bytes hex); the
gateway rebuilds the message, recovers the signer and serves the logs only if it is the wallet
that owns the project (in PeerHost the wallet in the URL *is* the owner) and the expiry is in the
future and at most :data:`MAX_LIFETIME` away. A leaked header pair is worth at most that long.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak, to_checksum_address

from peerhost.errors import PeerHostError
from peerhost.wire import headers

EXPIRES_HEADER = headers.EXPIRES_HEADER
SIGNATURE_HEADER = headers.OWNER_SIGNATURE_HEADER
#: Longest an access signature may be valid for, in seconds.
MAX_LIFETIME = 600


class AccessDenied(PeerHostError, PermissionError):
    """A log read (or a settings change) without a valid owner signature."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Only the project's owner may do this: {reason}.")


class NoAccessSignature(AccessDenied):
    """A log read that carries no signature at all."""

    def __init__(self) -> None:
        super().__init__(f"send {EXPIRES_HEADER} and {SIGNATURE_HEADER} (`ape run logs` does)")


READ_LOGS = "read the logs"
SET_HTTP = "set the HTTP settings"
SET_SCHEDULES = "set the schedules"


def access_message(
    wallet: str, project: str, expires: int, action: str = READ_LOGS, content: bytes = b""
) -> str:
    """The text the owner signs to ``action`` on ``project`` until ``expires``.

    An action that carries a body (``SET_HTTP``) also signs its keccak256, so the signature
    cannot be reused for other content.
    """
    text = f"PeerHost: {action} of project {project} of {to_checksum_address(wallet)}\n"
    if content:
        text += f"content: 0x{keccak(content).hex()}\n"
    return text + f"expires: {int(expires)}"


def sign_access(
    sign: Callable[[str], bytes],
    wallet: str,
    project: str,
    lifetime: int = 300,
    action: str = READ_LOGS,
    content: bytes = b"",
) -> dict[str, str]:
    """The request headers granting access, signed by ``sign`` (text -> 65-byte signature)."""
    expires = int(time.time()) + min(lifetime, MAX_LIFETIME)
    signature = sign(access_message(wallet, project, expires, action, content))
    return {EXPIRES_HEADER: str(expires), SIGNATURE_HEADER: "0x" + bytes(signature).hex()}


def key_signer(private_key: str | bytes) -> Callable[[str], bytes]:
    """A ``sign`` for :func:`sign_access` from a raw private key."""

    def sign(text: str) -> bytes:
        return bytes(Account.sign_message(encode_defunct(text=text), private_key).signature)

    return sign


def account_signer(account: Any) -> Callable[[str], bytes]:
    """A ``sign`` from an ape account (test accounts sign at once, keyfile accounts prompt)."""

    def sign(text: str) -> bytes:
        signature = account.sign_message(encode_defunct(text=text))
        if signature is None:
            raise PermissionError(f"Account {account.address} did not sign.")
        return bytes(signature.encode_rsv())

    return sign


def verify_access(
    wallet: str,
    project: str,
    expires: str | None,
    signature: str | None,
    now: float | None = None,
    action: str = READ_LOGS,
    content: bytes = b"",
) -> str:
    """Checks an access signature; returns the signer (the owner). Raises AccessDenied."""
    if not expires or not signature:
        raise NoAccessSignature()
    try:
        until = int(expires)
    except ValueError:
        raise AccessDenied(f"{EXPIRES_HEADER} is not a unix time") from None
    current = time.time() if now is None else now
    if until < current:
        raise AccessDenied("the signature has expired; sign a new one")
    if until > current + MAX_LIFETIME + 5:
        raise AccessDenied(f"the expiry is more than {MAX_LIFETIME} s away")
    text = signature[2:] if signature.startswith(("0x", "0X")) else signature
    try:
        raw = bytes.fromhex(text)
        signer = Account.recover_message(
            encode_defunct(text=access_message(wallet, project, until, action, content)),
            signature=raw,
        )
    except Exception:  # malformed signature bytes of any kind
        raise AccessDenied(f"{SIGNATURE_HEADER} is not a valid signature") from None
    if signer.lower() != wallet.lower():
        raise AccessDenied(f"the signature is from {signer}, not the owner {wallet}")
    return str(signer)
