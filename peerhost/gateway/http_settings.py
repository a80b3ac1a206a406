"""``PUT /_projects/<wallet>/<project>/http``: the owner sets the project's HTTP settings here.

Body ``{"cors": {...} | null}`` (see :mod:`peerhost.cors`), with the owner's signature over it
(:mod:`peerhost.functionlogs.access`, action "set the HTTP settings"): 401 without one, 403 for
anyone else's. ``ape run publish`` sends it when ``project.json`` declares ``cors``.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peerhost.cors import CorsPolicy, InvalidCorsPolicy
from peerhost.functionlogs.access import EXPIRES_HEADER, SET_HTTP, SIGNATURE_HEADER, verify_access
from peerhost.gateway.bodies import read_body
from peerhost.gateway.errors import BadRequest
from peerhost.gateway.routing import parse_wallet, valid_project
from peerhost.gateway.service import Gateway

MAX_SETTINGS_BYTES = 16 * 1024


async def put_http_settings(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    wallet = parse_wallet(request.path_params["wallet"])
    project = valid_project(request.path_params["project"])
    body = await read_body(request, MAX_SETTINGS_BYTES, "The settings")
    verify_access(
        wallet,
        project,
        request.headers.get(EXPIRES_HEADER),
        request.headers.get(SIGNATURE_HEADER),
        action=SET_HTTP,
        content=body,
    )
    try:
        doc = json.loads(body)
    except ValueError:
        raise BadRequest("the settings are not JSON") from None
    if not isinstance(doc, dict) or set(doc) - {"cors"}:
        raise BadRequest('the settings must be {"cors": {...} or null}')
    try:
        policy = None if doc.get("cors") is None else CorsPolicy.from_json(doc["cors"])
    except InvalidCorsPolicy as exc:
        raise BadRequest(str(exc).rstrip(".")) from None
    gateway.projects.set_cors(wallet, project, policy)
    return JSONResponse({"project": project, "wallet": wallet, "cors": policy and policy.to_json()})
