"""``GET /_status/requests/<id>`` (a request's on-chain state), ``GET /_status/batches/<id>`` (a
batch's tickets and attestations), ``GET /_status/workers`` (the gateway's record of its workers)
and ``GET /_health``.

The status endpoint reads the coordinator, so it answers for any request, including ones this
replica never held or held before a restart; ``held_here`` adds what this replica knows.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peerhost.chain.errors import TransactionReverted
from peerhost.chain.protocol import Phase, Status
from peerhost.gateway.bodies import parse_request_id
from peerhost.gateway.errors import BadRequest, UnknownRequest
from peerhost.gateway.service import Gateway
from peerhost.gateway.ticketbook import StoredTicket
from peerhost.wire.feed import ticket_to_doc


def _hex(value: Any) -> Any:
    return "0x" + value.hex() if isinstance(value, bytes) else value


async def request_status(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    request_id = parse_request_id(request.path_params["request_id"])
    label = "0x" + request_id.hex()
    if gateway.desk is not None:
        record = gateway.book.get(request_id)
        if record is not None:
            return JSONResponse(await ticket_status(gateway, record))
    try:
        stored = await gateway.protocol.get_request(request_id)
        phase = await gateway.protocol.phase(request_id)
    except TransactionReverted as exc:
        if exc.reason.startswith("UnknownRequest"):
            raise UnknownRequest(label) from None
        raise
    body: dict[str, Any] = {
        "request_id": label,
        "status": Status(int(stored["status"])).name.lower(),
        "phase": Phase(int(phase)).name.lower(),
        **{key: _hex(value) for key, value in stored.items() if key != "status"},
    }
    waiter = gateway.waiters.get(request_id)
    body["held_here"] = (
        None
        if waiter is None
        else {
            "mode": waiter.mode,
            "outputs": len(waiter.outputs),
            "workers": sorted(waiter.workers),
            "finalized": _hex(waiter.finalized),
        }
    )
    return JSONResponse(body)


_PHASES = ("none", "awaiting_seed", "commit", "reveal", "settle", "finalized", "closed", "expired")
_LEAF_STATES = ("none", "pending", "final", "unaudited", "refunded", "disputed")


async def ticket_status(gateway: Gateway, stored: StoredTicket) -> dict[str, Any]:
    """A ticket, its attestations, its batch and its settlement."""
    body: dict[str, Any] = {
        "request_id": "0x" + stored.request_id.hex(),
        "ticket": ticket_to_doc(stored.ticket),
        "ticket_signature": "0x" + stored.signature.hex(),
        "state": stored.state,
        "attestations": [
            {"worker": w, "result_hash": r, "signature": "0x" + sig.hex()}
            for w, r, sig in stored.attestations
        ],
        "batch": None,
        "settlement": None,
    }
    if stored.batch_id is not None and stored.leaf_index is not None:
        view = gateway.settlement
        batch = await view.get_batch(stored.batch_id)
        phase = await view.phase_of(stored.batch_id)
        leaf = await view.leaf_state(stored.batch_id, stored.leaf_index)
        body["batch"] = {
            "id": stored.batch_id,
            "leaf_index": stored.leaf_index,
            "phase": _PHASES[phase] if phase < len(_PHASES) else str(phase),
            "root": _hex(bytes(batch["root"])),
            "seed_block": int(batch["seedBlock"]),
            "results_commitment": _hex(bytes(batch["resultsCommitment"])),
        }
        body["settlement"] = {
            "leaf_state": _LEAF_STATES[leaf] if leaf < len(_LEAF_STATES) else str(leaf),
            "final_vector_hash": _hex(bytes(batch["finalVectorHash"])),
        }
    return body


async def batch_status(request: Request) -> Response:
    """``GET /_status/batches/<id>``: every ticket of one of this gateway's batches with its
    attestations, by leaf index (from the ticket book: no chain call). Seats read it to present
    attestations that contradict a settled result."""
    gateway: Gateway = request.app.state.gateway
    try:
        batch_id = int(request.path_params["batch_id"])
    except ValueError:
        raise BadRequest("a batch id is a decimal number") from None
    if gateway.desk is None:
        raise UnknownRequest(f"batch {batch_id}", "here (this gateway issues no tickets)")
    tickets = [
        {
            "leaf_index": t.leaf_index,
            "ticket": ticket_to_doc(t.ticket),
            "attestations": [
                {"worker": w, "result_hash": r, "signature": "0x" + sig.hex()}
                for w, r, sig in t.attestations
            ],
        }
        for t in sorted(gateway.book.in_batch(batch_id), key=lambda t: t.leaf_index or 0)
    ]
    return JSONResponse({"batch_id": batch_id, "tickets": tickets})


async def workers_status(request: Request) -> Response:
    """Every worker this gateway knows (linked now or recorded): reputation and latency, in the
    order it would pick them as attesters."""
    hub = request.app.state.gateway.hub
    linked = {worker.lower(): link for worker, link in hub.links.items()}
    rows = []
    for worker in set(hub.reputations) | set(hub.latencies) | set(linked):
        reputation = hub.reputation(worker)
        link = linked.get(worker)
        latency = link.latency if link is not None else hub.latencies.get(worker, 0.0)
        rows.append(
            {
                "worker": worker,
                "linked": link is not None,
                "good": reputation.good,
                "bad": reputation.bad,
                "dropped": reputation.dropped,
                "score": reputation.score,
                "latency_ms": round(latency * 1000, 3),
                "cost": hub.cost(link) if link is not None else None,
            }
        )
    rows.sort(key=lambda r: (not r["linked"], r["cost"] or 0.0, r["worker"]))
    return JSONResponse({"workers": rows})


async def health(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    block = await gateway.protocol.block_number()  # ChainUnavailable → 503
    follower = gateway.follower
    return JSONResponse(
        {
            "status": "ok",
            "gateway": gateway.address,
            "chain_id": gateway.settings.chain.chain_id,
            "block": block,
            "reply_to": gateway.settings.reply_to,
            "in_flight": gateway.submitter.in_flight,
            "waiting": len(gateway.waiters),
            "log_reconnects": follower.reconnects if follower else None,
            "tx_sent": gateway.sender.sent,
            "tx_batches": gateway.sender.batches,
            "ids_mispredicted": gateway.submitter.mispredicted,
            "feed_links": len(gateway.hub.links),
            "tickets": gateway.desk is not None,
        }
    )
