"""``GET /_status/requests/<id>`` (a request's on-chain state) and ``GET /_health``.

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
from peerhost.gateway.errors import UnknownRequest
from peerhost.gateway.service import Gateway


def _hex(value: Any) -> Any:
    return "0x" + value.hex() if isinstance(value, bytes) else value


async def request_status(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    request_id = parse_request_id(request.path_params["request_id"])
    label = "0x" + request_id.hex()
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
