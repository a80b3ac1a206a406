"""``GET /_inputs/0x<request id>``: a posted ticket's input, for the seats that re-execute it.

Inputs stay off-chain (they may hold personal data). A committee seat proves who it is by signing
:func:`~peerhost.wire.feed.input_request_digest` (this gateway, the request id, an expiry at most
five minutes ahead); the gateway serves the input when the signer holds a seat in the ticket's
batch (drawn already, or drawn by the seed block of a batch nobody seated yet: a holder seats
its batch with its commitment, so it runs the leaves first; :mod:`peerhost.gateway.seats` keeps a
batch's committee a few seconds for its seats' next asks), a seat of its leaf's tier-2 panel,
or, once the leaf's case is at tier 3, is an active worker.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from peerhost.gateway.bodies import parse_request_id
from peerhost.gateway.errors import (
    BadRequest,
    InvalidResultSignature,
    UnknownRequest,
    WorkerNotActive,
)
from peerhost.gateway.service import Gateway
from peerhost.wire.disputes import TIER_ALL, TIER_PANEL
from peerhost.wire.feed import (
    INPUT_EXPIRES_HEADER,
    INPUT_SIGNATURE_HEADER,
    INPUT_WORKER_HEADER,
    FeedMessageError,
    input_request_digest,
    recover_digest,
)

_MAX_AHEAD = 300


async def serve_input(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    request_id = parse_request_id(request.path_params["request_id"])
    label = "0x" + request_id.hex()
    if gateway.desk is None:
        raise UnknownRequest(label, "here (this gateway issues no tickets)")
    worker = request.headers.get(INPUT_WORKER_HEADER, "")
    try:
        expires = int(request.headers.get(INPUT_EXPIRES_HEADER, ""))
        signature = bytes.fromhex(
            request.headers.get(INPUT_SIGNATURE_HEADER, "").removeprefix("0x")
        )
    except ValueError:
        raise BadRequest(
            f"send {INPUT_WORKER_HEADER}, {INPUT_EXPIRES_HEADER} (unix seconds) and "
            f"{INPUT_SIGNATURE_HEADER} (0x-hex)"
        ) from None
    now = int(time.time())
    if not now <= expires <= now + _MAX_AHEAD:
        raise BadRequest(f"{INPUT_EXPIRES_HEADER} must be within the next {_MAX_AHEAD} s")
    try:
        signer = recover_digest(
            input_request_digest(gateway.address, request_id, expires), signature
        )
    except FeedMessageError as exc:
        raise InvalidResultSignature(label, worker, str(exc)) from None
    if signer.lower() != worker.lower():
        raise InvalidResultSignature(label, worker, "the signature is another account's")
    stored = gateway.book.get(request_id)
    # mined but not recorded yet (the seats read the chain first): placed from the post's receipt
    placed = None if stored is None else await gateway.poster.placed(stored)
    if stored is None or placed is None:
        raise UnknownRequest(label, "in a posted batch of this gateway")
    if gateway.settings.withhold_inputs:
        raise WorkerNotActive(signer)  # a misbehaving gateway (protocol tests): serves nobody
    if not await may_fetch(gateway, signer, *placed):
        raise WorkerNotActive(signer)
    return Response(stored.input, media_type="application/octet-stream")


async def may_fetch(gateway: Gateway, worker: str, batch_id: int, index: int | None) -> bool:
    """Whether ``worker`` may read an input of leaf ``index`` of ``batch_id``: a seat of the
    batch's committee, a seat of the leaf's tier-2 panel, or (once the leaf's case reached the
    stake-weighted tier 3) any worker of the active set."""
    if await gateway.seats.holds(batch_id, worker):  # kept a few seconds (gateway.seats)
        return True
    courts = await gateway.courts()
    if courts is None or index is None:
        return False
    case = await courts.case_of(batch_id, index)
    tier = int(case["tier"])
    if tier == TIER_PANEL:
        voters = await courts.voters_of(batch_id, index, TIER_PANEL)
        return any(str(v["worker"]).lower() == worker.lower() for v in voters)
    if tier == TIER_ALL:
        return (await gateway.settlement.active_set()).contains(worker)
    return False
