"""``GET /_logs/<wallet>/<project>``: a project's recent function logs, for its owner only.

Query: ``function`` (one function), ``request`` (one request id), ``after`` (entries with a
larger sequence number), ``wait`` (seconds, at most 30: wait for a first matching entry; for
``--follow``). Access takes the owner's signature (:mod:`peerhost.functionlogs.access`): 401
without one, 403 for anyone else's or an expired one. Answer: ``{"entries": [...], "last": N}``;
pass ``last`` back as ``after`` to get only newer entries.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peerhost.functionlogs.access import EXPIRES_HEADER, SIGNATURE_HEADER, verify_access
from peerhost.gateway.bodies import parse_request_id
from peerhost.gateway.errors import BadRequest
from peerhost.gateway.routing import parse_wallet, valid_function, valid_project
from peerhost.gateway.service import Gateway

MAX_WAIT = 30.0


def _number(request: Request, name: str, default: float, cap: float) -> float:
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{name} must be a number, not {text[:40]!r}") from None
    if not re.fullmatch(r"-?\d+(\.\d+)?", text.strip()) or value < 0:
        raise BadRequest(f"{name} must be a non-negative number")
    return min(value, cap)


async def read_logs(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    wallet = parse_wallet(request.path_params["wallet"])
    project = valid_project(request.path_params["project"])
    function = request.query_params.get("function")
    if function is not None:
        function = valid_function(function)
    request_id = request.query_params.get("request")
    if request_id is not None:
        request_id = "0x" + parse_request_id(request_id).hex()
    after = int(_number(request, "after", 0, float(2**62)))
    wait = _number(request, "wait", 0.0, MAX_WAIT)
    verify_access(
        wallet,
        project,
        request.headers.get(EXPIRES_HEADER),
        request.headers.get(SIGNATURE_HEADER),
    )
    if wait > 0:
        entries = await gateway.logs.wait(wallet, project, function, request_id, after, wait)
    else:
        entries = gateway.logs.query(wallet, project, function, request_id, after)
    last = max((e.seq for e in entries), default=max(after, gateway.logs.last))
    return JSONResponse({"entries": [e.to_json() for e in entries], "last": last})
