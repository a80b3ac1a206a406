"""The schedules over HTTP.

- ``GET /_schedules``: this gateway's schedule parameters (``min_interval``, ``catch_up``,
  ``tick``, seconds); publish reads ``min_interval`` to refuse a schedule below it.
- ``PUT /_projects/<wallet>/<project>/schedules``: the owner names the project's functions this
  gateway runs on their schedule, ``{"functions": ["nightly", ...]}`` (the whole set; ``[]``
  stops them), signed like the HTTP settings (:mod:`peerhost.functionlogs.access`, action "set the
  schedules"): 401 without a signature, 403 for anyone else's. The cron expression itself is the
  one the active version's code declares. ``ape run publish`` sends it.
- ``GET /_status/schedules/<wallet>/<project>``: each scheduled function's expression, its next
  run times and its latest runs (due time, request id, HTTP status, outcome), newest first.
"""

from __future__ import annotations

import json
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peerhost.functionlogs.access import (
    EXPIRES_HEADER,
    SET_SCHEDULES,
    SIGNATURE_HEADER,
    verify_access,
)
from peerhost.gateway.bodies import read_body
from peerhost.gateway.errors import BadRequest, FunctionNotFound
from peerhost.gateway.routing import Target, parse_wallet, valid_project
from peerhost.gateway.scheduler import Scheduler, iso
from peerhost.gateway.service import Gateway

MAX_BODY_BYTES = 16 * 1024
MAX_FUNCTIONS = 64
_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
NEXT_RUNS = 5


def _scheduler(gateway: Gateway) -> Scheduler:
    if gateway.scheduler is None:
        raise BadRequest(
            "this gateway runs no schedules: scheduled runs are tickets, and its chain has no "
            "settlement contracts"
        )
    return gateway.scheduler


async def schedule_params(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    settings = gateway.settings
    return JSONResponse(
        {
            "min_interval": settings.schedule_min_interval,
            "catch_up": settings.schedule_catch_up,
            "tick": settings.schedule_tick,
            "enabled": gateway.scheduler is not None,
            # who a project's schedule key is sealed to, to have this gateway sign its runs
            "gateway": gateway.sender.address,
            "seal_key": "0x" + gateway.scheduler.keys.seal_key.hex()
            if gateway.scheduler is not None and gateway.scheduler.keys is not None
            else None,
        }
    )


async def put_schedules(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    wallet = parse_wallet(request.path_params["wallet"])
    project = valid_project(request.path_params["project"])
    body = await read_body(request, MAX_BODY_BYTES, "The schedules")
    verify_access(
        wallet,
        project,
        request.headers.get(EXPIRES_HEADER),
        request.headers.get(SIGNATURE_HEADER),
        action=SET_SCHEDULES,
        content=body,
    )
    scheduler = _scheduler(gateway)
    try:
        doc = json.loads(body)
    except ValueError:
        raise BadRequest("the schedules are not JSON") from None
    names = doc.get("functions") if isinstance(doc, dict) and set(doc) == {"functions"} else None
    if not isinstance(names, list) or not all(isinstance(n, str) and _NAME.match(n) for n in names):
        raise BadRequest('the schedules must be {"functions": [function names]}')
    if len(names) > MAX_FUNCTIONS:
        raise BadRequest(f"at most {MAX_FUNCTIONS} scheduled functions per project")
    scheduler.book.register(wallet, project, sorted(set(names)), int(scheduler.clock()))
    return JSONResponse({"wallet": wallet, "project": project, "functions": sorted(set(names))})


async def schedule_status(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    wallet = parse_wallet(request.path_params["wallet"])
    project = valid_project(request.path_params["project"])
    scheduler = _scheduler(gateway)
    now = int(scheduler.clock())
    out = []
    for entry in scheduler.book.scheduled(wallet, project):
        doc: dict[str, object] = {"function": entry.function, "since": entry.since}
        try:
            fn = await gateway.functions.resolve(Target(wallet, project, entry.function, "/"))
        except FunctionNotFound:
            fn = None
        expression = fn.schedule if fn is not None else None
        doc["schedule"] = expression
        if fn is None:
            doc["state"] = "not published"
        elif fn.disabled:
            doc["state"] = "disabled"
        elif expression is None:
            doc["state"] = "the active version declares no schedule"
        else:
            parsed = scheduler.schedule_of(expression)
            if isinstance(parsed, str):
                doc["state"] = f"not run: {parsed}"
            else:
                doc["state"] = "running"
                doc["next_runs"] = [iso(t) for t in parsed.next_runs(now, NEXT_RUNS)]
        runs = scheduler.book.runs(wallet, project, entry.function)
        doc["runs"] = [r.to_json() for r in runs]
        out.append(doc)
    return JSONResponse({"wallet": wallet, "project": project, "now": now, "functions": out})
