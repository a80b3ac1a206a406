"""The status page's endpoints, mounted by the gateway under ``/_dashboard``.

- ``GET  /_dashboard``                      the network: workers, settlements, slashes, latency;
  on the ticket path also the staked workers and the recent batches
- ``GET  /_dashboard/data``                 the same as JSON (the page polls it)
- ``GET  /_dashboard/owner/<wallet>``       an owner's projects, functions, requests, spend
- ``GET  /_dashboard/owner/<wallet>/data``  the owner's recent requests as JSON
- ``POST /_dashboard/owner/<wallet>/prepare``  an unsigned registry transaction (rollback,
  disable, enable) for the owner's wallet to sign

Owner views need a signed link (``?expires=…&signature=…``, see :mod:`peerhost.gateway.dashboard.access`).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from peerhost.functionlogs.access import AccessDenied
from peerhost.gateway.dashboard.access import MAX_LINK_LIFETIME, link_message, verify_link
from peerhost.gateway.dashboard.activity import ChainActivity, FunctionRow
from peerhost.gateway.dashboard.batches import BatchActivity
from peerhost.gateway.errors import BadRequest
from peerhost.gateway.routing import parse_wallet
from peerhost.gateway.service import Gateway
from peerhost.gateway.ticketbook import TicketBook

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
ETHER = 10**18
#: Points on the latency chart.
CHART_POINTS = 200


def _activity(request: Request) -> tuple[Gateway, ChainActivity]:
    gateway: Gateway = request.app.state.gateway
    activity: ChainActivity | None = getattr(request.app.state, "dashboard_activity", None)
    if activity is None:
        settlement = gateway.desk.view if gateway.desk is not None else None  # the ticket path
        activity = ChainActivity(gateway.protocol, settlement=settlement)
        request.app.state.dashboard_activity = activity
    return gateway, activity


def eth(wei: int | None) -> str:
    """``1.5 ETH`` from wei, trimmed."""
    if wei is None:
        return "-"
    text = f"{wei / ETHER:.6f}".rstrip("0").rstrip(".")
    return f"{text} ETH"


def short(value: str | None, keep: int = 6) -> str:
    if not value:
        return "-"
    return value if len(value) <= 2 * keep + 2 else f"{value[: keep + 2]}…{value[-4:]}"


def clock(at: float) -> str:
    """``HH:MM:SS`` UTC of a unix time."""
    return time.strftime("%H:%M:%S", time.gmtime(at))


TEMPLATES.env.filters["eth"] = eth
TEMPLATES.env.filters["clock"] = clock
TEMPLATES.env.filters["short"] = short


def latency_series(gateway: Gateway) -> list[dict[str, Any]]:
    return [
        {"at": s.at, "ms": s.latency_ms, "mode": s.mode, "status": s.status}
        for s in list(gateway.metrics.recent)[-CHART_POINTS:]
    ]


def chart_points(series: list[dict[str, Any]], width: int = 600, height: int = 120) -> str:
    """The SVG polyline of latencies (oldest left); the page's script redraws it the same way."""
    if not series:
        return ""
    top = max(s["ms"] for s in series) or 1.0
    step = width / max(len(series) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{height - (s['ms'] / top) * (height - 4):.1f}"
        for i, s in enumerate(series)
    )


async def _workers(activity: ChainActivity) -> list[dict[str, Any]]:
    protocol = activity.protocol
    rows = sorted(activity.workers.values(), key=lambda w: w.registered_block)

    async def one(address: str) -> tuple[Any, Any]:
        return await asyncio.gather(
            activity.read(protocol.workers, protocol.config.workers, "getWorker", address),
            activity.read(protocol.workers, protocol.config.workers, "reputation", address),
        )

    found = await asyncio.gather(*(one(to_checksum_address(w.address)) for w in rows))
    return [
        {
            "address": w.address,
            "stake": int(info["stake"]),
            "locked": int(info["locked"]),
            "won": int(rep["jobsWon"]),
            "agreed": int(rep["jobsAgreed"]),
            "slashed": int(rep["jobsSlashed"]),
            "missed": int(rep["revealsMissed"]),
            "commits": w.commits,
            "earned": w.earned_wei,
            "slashed_wei": w.slashed_wei,
            "recent_jobs": list(w.jobs)[:5],
        }
        for w, (info, rep) in zip(rows, found, strict=True)
    ]


async def _stakers(tickets: BatchActivity) -> list[dict[str, Any]]:
    """The settlement contracts' workers: bonded stake (``getStaker``), seats, pay, slashes."""
    rows = sorted(tickets.stakers.values(), key=lambda w: w.registered_block)
    found = await asyncio.gather(*(tickets.view.staker(w.address) for w in rows))
    return [
        {
            "address": w.address,
            "stake": int(info["stake"]),
            "member": bool(info["member"]),
            "jailed_until": int(info["jailedUntil"]),
            "seats": w.seats,
            "earned": w.earned_wei,
            "slashes": w.slashes,
            "slashed_wei": w.slashed_wei,
            "recent_batches": list(w.batches)[:5],
        }
        for w, info in zip(rows, found, strict=True)
    ]


async def public_data(gateway: Gateway, activity: ChainActivity) -> dict[str, Any]:
    await activity.refresh()
    tickets = activity.tickets
    return {
        "block": activity.head,
        "gateway": gateway.address,
        "chain_id": gateway.settings.chain.chain_id,
        "workers": await _workers(activity),
        "settlements": [vars(s) for s in list(activity.settlements)[:20]],
        "slashes": list(activity.slashes)[:20],
        "latency": latency_series(gateway),
        "requests_seen": len(activity.requests),
        "tickets": tickets is not None,
        "stakers": await _stakers(tickets) if tickets is not None else [],
        "batches": [vars(b) for b in tickets.recent()] if tickets is not None else [],
        "stake_slashes": list(tickets.slashes)[:20] if tickets is not None else [],
    }


async def dashboard(request: Request) -> Response:
    gateway, activity = _activity(request)
    data = await public_data(gateway, activity)
    return TEMPLATES.TemplateResponse(
        request,
        "public.html",
        {"data": data, "points": chart_points(data["latency"]), "lifetime": MAX_LINK_LIFETIME},
    )


async def dashboard_data(request: Request) -> Response:
    gateway, activity = _activity(request)
    return JSONResponse(await public_data(gateway, activity))


def _owner(request: Request) -> str:
    wallet = parse_wallet(request.path_params["wallet"])
    verify_link(wallet, request.query_params.get("expires"), request.query_params.get("signature"))
    return wallet


def _requests(
    gateway: Gateway, activity: ChainActivity, wallet: str, projects: list[str]
) -> list[dict[str, Any]]:
    entries = []
    for project in projects:
        for entry in gateway.logs.query(wallet, project):
            doc = entry.to_json()
            doc["project"] = project
            row = activity.requests.get(entry.request_id)
            doc["result_hash"] = row.result_hash if row else None
            doc["settled"] = row.status if row else "-"
            if row is None and gateway.desk is not None:
                _ticket_state(gateway.desk.book, activity, doc)
            entries.append(doc)
    entries.sort(key=lambda e: e["seq"], reverse=True)
    return entries[:50]


def _ticket_state(book: TicketBook, activity: ChainActivity, doc: dict[str, Any]) -> None:
    """A ticket call's result hash (final, else attested) and its batch, from the ticket book."""
    try:
        stored = book.get(bytes.fromhex(str(doc["request_id"]).removeprefix("0x")))
    except ValueError:
        return
    if stored is None:
        return
    if stored.result_hash is not None:
        doc["result_hash"] = "0x" + stored.result_hash.hex()
    elif stored.attestations:
        doc["result_hash"] = stored.attestations[0][1]
    if stored.batch_id is None:
        doc["settled"] = f"ticket {stored.state}"
        return
    batch = activity.tickets.batches.get(stored.batch_id) if activity.tickets else None
    doc["settled"] = f"batch {stored.batch_id} {batch.phase if batch else 'posted'}"


async def owner_data(gateway: Gateway, activity: ChainActivity, wallet: str) -> dict[str, Any]:
    await activity.refresh()
    protocol = activity.protocol
    functions = activity.functions_of(wallet)
    by_project: dict[str, list[FunctionRow]] = {}
    for fn in functions:
        by_project.setdefault(fn.project, []).append(fn)
    projects = []
    for name, rows in sorted(by_project.items()):
        pid = await activity.read(
            protocol.registry, protocol.config.registry, "projectIdOf", wallet, name
        )
        account = await gateway.protocol.project_account(pid)
        project_id = "0x" + bytes(pid).hex()
        spent = activity.spent_by({f.function_id for f in rows})
        reserve = None
        if activity.tickets is not None:  # the ticket path pays from the project's reserve
            spent += activity.tickets.spent_by(project_id)
            reserve = await activity.tickets.view.reserve_of(bytes(pid))
        projects.append(
            {
                "name": name,
                "project_id": project_id,
                "balance": int(account["balance"]),
                "reserve": reserve,
                "price": int(account["pricePerRequest"]),
                "spent": spent,
                "functions": [vars(f) for f in rows],
            }
        )
    return {
        "wallet": wallet,
        "block": activity.head,
        "projects": projects,
        "requests": _requests(gateway, activity, wallet, sorted(by_project)),
    }


def _denied(request: Request, exc: AccessDenied) -> Response:
    return TEMPLATES.TemplateResponse(request, "denied.html", {"reason": str(exc)}, status_code=403)


async def owner_page(request: Request) -> Response:
    gateway, activity = _activity(request)
    try:
        wallet = _owner(request)
    except AccessDenied as exc:
        return _denied(request, exc)
    data = await owner_data(gateway, activity, wallet)
    query = {k: request.query_params[k] for k in ("expires", "signature")}
    return TEMPLATES.TemplateResponse(
        request,
        "owner.html",
        {
            "data": data,
            "query": query,
            "chain_id": gateway.settings.chain.chain_id,
            "points": chart_points(latency_series(gateway)),
        },
    )


async def owner_json(request: Request) -> Response:
    gateway, activity = _activity(request)
    wallet = _owner(request)  # AccessDenied -> 403 problem
    return JSONResponse(await owner_data(gateway, activity, wallet))


async def prepare(request: Request) -> Response:
    """An unsigned transaction for the owner's wallet: ``{"action": "rollback", "function_id":
    "0x…", "version": N}``, or ``disable`` / ``enable`` with ``function_id``."""
    gateway, activity = _activity(request)
    wallet = _owner(request)
    try:
        body = json.loads(await request.body() or b"{}")
        action, fid = str(body["action"]), str(body["function_id"]).lower()
    except (ValueError, KeyError, TypeError):
        raise BadRequest(
            'send {"action": "rollback"|"disable"|"enable", "function_id": "0x…"}'
        ) from None
    await activity.refresh()
    fn = activity.functions.get(fid)
    if fn is None or fn.owner.lower() != wallet.lower():
        raise BadRequest(f"{fid[:70]} is not a function of {wallet}")
    registry = activity.protocol.registry
    raw_id = bytes.fromhex(fid[2:])
    if action == "rollback":
        version = body.get("version")
        known = {v["version"] for v in fn.versions}
        if not isinstance(version, int) or version not in known:
            raise BadRequest(f"version must be one of {sorted(known)}")
        data, what = registry.encode_call("setActiveVersion", raw_id, version), f"v{version}"
    elif action in ("disable", "enable"):
        data, what = registry.encode_call("setDisabled", raw_id, action == "disable"), action
    else:
        raise BadRequest(f"unknown action {action[:20]!r}: rollback, disable or enable")
    to = to_checksum_address(activity.protocol.config.registry)
    return JSONResponse(
        {
            "description": f"{fn.project}/{fn.name}: {what}",
            "transaction": {
                "from": wallet,
                "to": to,
                "data": "0x" + data.hex(),
                "value": "0x0",
                "chainId": hex(gateway.settings.chain.chain_id),
            },
            "cast": f"cast send {to} 0x{data.hex()} --from {wallet}",
        }
    )


async def link_text(request: Request) -> Response:
    """``GET /_dashboard/link-message?wallet=0x…&expires=N``: the text to sign in the browser."""
    wallet = parse_wallet(request.query_params.get("wallet", ""))
    try:
        expires = int(request.query_params.get("expires", ""))
    except ValueError:
        raise BadRequest("expires must be a unix time") from None
    return JSONResponse({"message": link_message(wallet, expires), "now": int(time.time())})


def routes() -> list[BaseRoute]:
    return [
        Route("/_dashboard", dashboard, methods=["GET"]),
        Route("/_dashboard/data", dashboard_data, methods=["GET"]),
        Route("/_dashboard/link-message", link_text, methods=["GET"]),
        Route("/_dashboard/owner/{wallet}", owner_page, methods=["GET"]),
        Route("/_dashboard/owner/{wallet}/data", owner_json, methods=["GET"]),
        Route("/_dashboard/owner/{wallet}/prepare", prepare, methods=["POST"]),
    ]
