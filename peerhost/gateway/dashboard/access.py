"""Owner access to the status page: an EIP-191 signature over a short message, in the URL.

    PeerHost: open the dashboard of 0xAbC…
    expires: 1767225600

The owner signs it in the browser (``personal_sign`` from their wallet) or with
``ape run dashboard-link``; the link carries ``expires`` and ``signature``. The gateway serves the
owner's view only when the signer is the wallet and the expiry is in the future and at most
:data:`MAX_LINK_LIFETIME` away. The page only reads (the transactions it prepares are signed by
the owner's own wallet), so a leaked link shows, for at most that long, what the chain shows to
anyone plus the owner's function logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import to_checksum_address

from peerhost.functionlogs.access import AccessDenied

#: Longest a dashboard link may be valid for, in seconds.
MAX_LINK_LIFETIME = 3600


def link_message(wallet: str, expires: int) -> str:
    """The text the owner signs to open their dashboard until ``expires``."""
    return f"PeerHost: open the dashboard of {to_checksum_address(wallet)}\nexpires: {int(expires)}"


def owner_link(
    gateway_url: str, wallet: str, sign: Callable[[str], bytes], lifetime: int = MAX_LINK_LIFETIME
) -> str:
    """A signed link to ``wallet``'s dashboard (``sign``: text -> 65-byte signature)."""
    expires = int(time.time()) + min(lifetime, MAX_LINK_LIFETIME)
    signature = "0x" + bytes(sign(link_message(wallet, expires))).hex()
    query = urlencode({"expires": expires, "signature": signature})
    return f"{gateway_url.rstrip('/')}/_dashboard/owner/{to_checksum_address(wallet)}?{query}"


def verify_link(
    wallet: str, expires: str | None, signature: str | None, now: float | None = None
) -> str:
    """Checks a dashboard link's signature; returns the owner. Raises AccessDenied."""
    if not expires or not signature:
        raise AccessDenied(
            "open the page through a signed link (`ape run dashboard-link`) or connect your wallet"
        )
    try:
        until = int(expires)
    except ValueError:
        raise AccessDenied("expires is not a unix time") from None
    current = time.time() if now is None else now
    if until < current:
        raise AccessDenied("the link has expired; sign a new one")
    if until > current + MAX_LINK_LIFETIME + 5:
        raise AccessDenied(f"the expiry is more than {MAX_LINK_LIFETIME} s away")
    text = signature.removeprefix("0x").removeprefix("0X")
    try:
        signer = Account.recover_message(
            encode_defunct(text=link_message(wallet, until)), signature=bytes.fromhex(text)
        )
    except Exception:  # malformed signature bytes of any kind
        raise AccessDenied("signature is not a valid signature") from None
    if signer.lower() != wallet.lower():
        raise AccessDenied(f"the link is signed by {signer}, not by {wallet}")
    return str(signer)
