"""Fetching a job's sealed credential headers from its gateway (see :mod:`peerhost.wire.credentials`).

``GET {replyTo}/credentials/0x<inputHash>`` signed with the worker's key (EIP-191 over the chain
id, the input hash and the current time). The openings are checked against the commitments in
the on-chain input before the run; values are never logged.
"""

from __future__ import annotations

import time

import httpx
from eth_account import Account
from eth_account.messages import encode_defunct

from peerhost.wire.credentials import (
    CredentialMismatch,
    Disclosed,
    disclosure_digest,
    disclosure_headers,
    disclosure_url,
    unseal,
)


class CredentialsClient:
    """Opens sealed credential headers for one worker.

    Args:
        private_key: The worker's key (signs disclosure requests; never logged).
        chain_id: The chain the jobs come from.
        timeout: Seconds per request.
    """

    def __init__(self, private_key: bytes | str, chain_id: int, timeout: float = 5.0) -> None:
        self._account = Account.from_key(private_key)
        self.chain_id = chain_id
        self._client = httpx.AsyncClient(timeout=timeout)

    def __repr__(self) -> str:
        return f"CredentialsClient({self._account.address})"

    async def open(self, reply_url: str, input_hash: bytes, data: bytes) -> bytes:
        """``data`` with its sealed credential headers replaced by their verified values.

        Raises:
            CredentialMismatch: the gateway gave no values, or values that do not match.
        """
        if not reply_url:
            raise CredentialMismatch("the job names no gateway to get its credentials from")
        issued_at = int(time.time())
        digest = disclosure_digest(self.chain_id, input_hash, issued_at)
        signature = self._account.sign_message(encode_defunct(primitive=digest)).signature
        try:
            response = await self._client.get(
                disclosure_url(reply_url, input_hash),
                headers=disclosure_headers(self._account.address, issued_at, bytes(signature)),
            )
        except httpx.HTTPError as exc:
            raise CredentialMismatch(f"the gateway is unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise CredentialMismatch(
                f"the gateway refused to disclose them (HTTP {response.status_code})"
            )
        try:
            headers = response.json()["headers"]
            openings = {str(name): Disclosed.from_json(doc) for name, doc in headers.items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CredentialMismatch("the gateway's answer is not a credentials document") from None
        return unseal(data, openings)

    async def aclose(self) -> None:
        await self._client.aclose()
