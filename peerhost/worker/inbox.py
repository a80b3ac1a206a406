"""The client side of the gateway's result inbox: POST the raw output, signed, as soon as it exists.

The wire format is :mod:`peerhost.wire.inbox` (``POST {replyTo}/0x<requestId>``, the envelope
as body, the worker's address and EIP-712 signature in headers, and
``x-peerhost-log`` with the function's log: base64, redacted and capped by the executor, not
signed, not hashed). 202 means accepted; a 4xx is a refusal (logged, not retried);
connection failures and 5xx are retried briefly with backoff. Posting never blocks committing.
"""

from __future__ import annotations

import asyncio
from enum import Enum

import httpx

from peerhost.functionlogs.capture import encode_log
from peerhost.wire.headers import LOG_HEADER
from peerhost.wire.inbox import post_headers, post_url
from peerhost.worker import logs


class PostOutcome(Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    SKIPPED = "skipped"


class InboxClient:
    """Posts outputs to result inboxes.

    Args:
        worker: The worker's checksummed address.
        retries: Attempts for connection errors and 5xx answers.
        timeout: Seconds per attempt.
    """

    def __init__(self, worker: str, retries: int = 3, timeout: float = 5.0) -> None:
        self.worker = worker
        self.retries = max(1, retries)
        self._client = httpx.AsyncClient(timeout=timeout)

    async def post(
        self, base_url: str, request_id: bytes, envelope: bytes, signature: bytes, log: str = ""
    ) -> PostOutcome:
        """Posts one output; returns what became of it (never raises for network trouble)."""
        if not base_url:
            return PostOutcome.SKIPPED
        url = post_url(base_url, request_id)
        headers = post_headers(self.worker, signature)
        if log:
            headers[LOG_HEADER] = encode_log(log)
        delay = 0.1
        for attempt in range(1, self.retries + 1):
            try:
                response = await self._client.post(url, content=envelope, headers=headers)
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
            else:
                if response.status_code < 300:
                    logs.debug("output_posted", request_id=request_id, status=response.status_code)
                    return PostOutcome.ACCEPTED
                if response.status_code < 500:
                    logs.warning(
                        "output_refused",
                        request_id=request_id,
                        status=response.status_code,
                        reason=response.text[:200],
                    )
                    return PostOutcome.REFUSED
                reason = f"HTTP {response.status_code}"
            if attempt < self.retries:
                await asyncio.sleep(delay)
                delay *= 2
        logs.warning("output_not_posted", request_id=request_id, url=url, reason=reason)
        return PostOutcome.UNREACHABLE

    async def aclose(self) -> None:
        await self._client.aclose()
