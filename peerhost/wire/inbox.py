"""The result inbox's wire format: where a worker posts an output, and how.

``POST {replyTo}/0x<requestId>`` with the raw envelope bytes as body
(``resultHash = keccak256(body)``) and the headers ``x-peerhost-worker`` (the worker's
address) and ``x-peerhost-signature`` (``0x`` + the 65-byte EIP-712 signature over
``Result(requestId, resultHash)``, see :mod:`peerhost.wire.eip712`). A gateway serves its inbox
at :data:`INBOX_PATH` under its public URL; that base URL is each request's ``replyTo``.
"""

from __future__ import annotations

from peerhost.wire.headers import SIGNATURE_HEADER, WORKER_HEADER
from peerhost.wire.ids import request_id_text

#: Where a gateway serves its inbox, below its public URL.
INBOX_PATH = "/_inbox"
CONTENT_TYPE = "application/octet-stream"


def inbox_base_url(public_url: str) -> str:
    """The inbox base URL (a request's ``replyTo``) of a gateway serving at ``public_url``."""
    return public_url.rstrip("/") + INBOX_PATH


def post_url(base_url: str, request_id: bytes) -> str:
    """The URL a worker posts the output of ``request_id`` to."""
    return f"{base_url.rstrip('/')}/{request_id_text(request_id)}"


def post_headers(worker: str, signature: bytes) -> dict[str, str]:
    """The headers of a worker's post: its address and its signature over the result."""
    return {
        "content-type": CONTENT_TYPE,
        WORKER_HEADER: worker,
        SIGNATURE_HEADER: "0x" + signature.hex(),
    }
