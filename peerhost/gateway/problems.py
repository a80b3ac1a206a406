"""The one place where errors become HTTP responses.

Every error body is ``application/problem+json`` (RFC 9457)::

    {"type": "urn:peerhost:problem:function-not-found", "title": "Function not found",
     "status": 404, "detail": <sentence>,
     "error": <class name>, "message": <sentence>, ...details}

``type`` is a URN (stable, not meant to be dereferenced) named after the error; ``error`` and
``message`` are the fields clients used before the RFC 9457 members existed, kept as they were.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peerhost.chain.errors import ChainUnavailable, RpcError, TransactionReverted
from peerhost.cors import CorsRefused
from peerhost.errors import PeerHostError
from peerhost.functionlogs.access import AccessDenied, NoAccessSignature
from peerhost.gateway import errors as e

log = logging.getLogger(__name__)

#: Status per error class; the first match in method resolution order wins.
STATUS: dict[type[BaseException], int] = {
    e.BadRequest: 400,
    e.RefusedAtEdge: 400,
    e.RequestTimeout: 408,
    e.HeadTooLarge: 431,
    e.TooManyConnections: 429,
    e.InvalidResultSignature: 401,
    e.InvalidWorkerSignature: 401,
    NoAccessSignature: 401,
    AccessDenied: 403,
    e.WorkerNotActive: 403,
    e.NoRoute: 404,
    e.FunctionNotFound: 404,
    e.UnknownRequest: 404,
    e.DuplicateResult: 409,
    e.FunctionDisabled: 410,
    e.PayloadTooLarge: 413,
    e.MethodNotAllowed: 405,
    CorsRefused: 403,
    e.RateLimited: 429,
    e.RequestReverted: 502,
    e.RequestRefunded: 502,
    TransactionReverted: 502,
    e.PaymentUnavailable: 503,
    e.ReserveExhausted: 402,
    e.NoAttesters: 503,
    e.PosterBehind: 503,
    e.ShuttingDown: 503,
    ChainUnavailable: 503,
    RpcError: 503,
    e.ResultTimeout: 504,
}

_CHAIN_DOWN = (
    "The gateway cannot reach its chain node right now; retry in a few seconds. "
    "If this persists, the operator should check that the node at the gateway's RPC URL is up."
)


def status_of(exc: BaseException) -> int:
    """The HTTP status of ``exc`` (500 for anything unexpected)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


PROBLEM_JSON = "application/problem+json"


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def problem_response(
    name: str,
    status: int,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **fields: Any,
) -> Response:
    """An RFC 9457 problem response for the error called ``name`` (a class name)."""
    body: dict[str, Any] = {
        "type": f"urn:peerhost:problem:{_slug(name)}",
        "title": _slug(name).replace("-", " ").capitalize(),
        "status": status,
        "detail": detail,
        "error": name,
        "message": detail,
        **fields,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def problem(exc: BaseException) -> Response:
    """The problem response for ``exc``."""
    status = status_of(exc)
    body: dict[str, object] = {}
    if isinstance(exc, ChainUnavailable):
        body["message"] = _CHAIN_DOWN
    elif isinstance(exc, RpcError):
        body["message"] = f"The chain node refused the gateway's transaction: {exc}. Retry later."
    elif isinstance(exc, TransactionReverted):
        body["message"] = str(exc)
        body["reason"] = exc.reason
    elif status == 500:
        body["message"] = "Internal gateway error."
    else:
        body["message"] = str(exc)
    if isinstance(exc, e.GatewayError):
        body.update(exc.details)
    headers: dict[str, str] = {}
    if isinstance(exc, (e.RateLimited, e.PosterBehind)):
        headers["Retry-After"] = str(max(1, round(exc.retry_after + 0.5)))
    detail = str(body.pop("message"))
    return problem_response(type(exc).__name__, status, detail, headers, **body)


async def handle_error(request: Request, exc: Exception) -> Response:
    if status_of(exc) == 500:
        log.exception("unexpected error serving %s %s", request.method, request.url.path)
    return problem(exc)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return problem_response("HTTPException", exc.status_code, str(exc.detail), exc.headers)


#: Starlette ``exception_handlers`` for create_app (unexpected errors stay 500s, logged).
EXCEPTION_HANDLERS = {
    HTTPException: handle_http_exception,
    PeerHostError: handle_error,
}
