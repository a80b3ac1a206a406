"""Reading request parts under caps: bodies, headers, request ids."""

from __future__ import annotations

import re

from starlette.requests import ClientDisconnect, Request

from peerhost.gateway.errors import BadRequest, PayloadTooLarge

_REQUEST_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")


def parse_request_id(text: str) -> bytes:
    """``0x`` + 64 hex → 32 bytes; raises BadRequest."""
    if not _REQUEST_ID.match(text):
        raise BadRequest(f"request id {text[:80]!r} is not 0x followed by 64 hex digits")
    return bytes.fromhex(text[2:])


def check_headers(request: Request, limit: int) -> None:
    """Raises PayloadTooLarge when the request's headers total more than ``limit`` bytes."""
    size = sum(len(k) + len(v) + 4 for k, v in request.scope["headers"])
    if size > limit:
        raise PayloadTooLarge(
            "The request's headers", size, limit, hint="Send fewer or smaller headers."
        )


async def read_body(request: Request, limit: int, what: str = "The request body") -> bytes:
    """The body, refused as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise BadRequest("Content-Length is not a number") from None
        if length > limit:
            raise PayloadTooLarge(what, length, limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(what, size, limit, hint="(stopped reading there)")
            chunks.append(chunk)
    except ClientDisconnect:
        raise BadRequest("the client disconnected while sending the body") from None
    return b"".join(chunks)
