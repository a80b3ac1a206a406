"""The result inbox: ``POST /_inbox/0x<requestId>`` from workers.

Body: the raw envelope bytes (``resultHash = keccak256(body)``). Headers:
``X-PeerHost-Worker: <address>`` and ``X-PeerHost-Signature: 0x<65-byte hex>``, an EIP-712
signature over (requestId, resultHash) (see :mod:`peerhost.wire.inbox`). Optionally
``x-peerhost-log``: the function's log, base64 (see :mod:`peerhost.functionlogs.capture`); it is
not signed and not part of the result hash, and a malformed one is replaced by a note, never a
reason to refuse the output.

A late output for a request this replica already answered (fast mode) gets 200 with
``{"accepted": false, "reason": "already answered"}``: nothing is stored, and the worker has no
reason to log a refusal. Accepted (202) only when the request is waiting on this replica, the body fits
``max_result_bytes`` and is an envelope, the signature recovers to the named worker, that
worker is active in the WorkerRegistry, and it has not posted for this request before.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peerhost.functionlogs.capture import decode_log
from peerhost.gateway.bodies import parse_request_id, read_body
from peerhost.gateway.errors import (
    BadRequest,
    InvalidResultSignature,
    UnknownRequest,
    WorkerNotActive,
)
from peerhost.gateway.service import Gateway
from peerhost.gateway.waiters import Output
from peerhost.wire.eip712 import recover_signer
from peerhost.wire.envelope import ErrorKind, decode_envelope, result_hash
from peerhost.wire.errors import InvalidEnvelope
from peerhost.wire.headers import LOG_HEADER, SIGNATURE_HEADER, WORKER_HEADER

#: Seconds an output for an unknown id waits for this replica's pending receipts.
_SETTLE_SECONDS = 2.0


def _hex_bytes(value: str, length: int, what: str) -> bytes:
    text = value.strip()
    if text.startswith(("0x", "0X")):
        text = text[2:]
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise BadRequest(f"{what} is not hex") from None
    if len(raw) != length:
        raise BadRequest(f"{what} must be {length} bytes")
    return raw


def _log_of(request: Request) -> str:
    value = request.headers.get(LOG_HEADER)
    if not value:
        return ""
    try:
        return decode_log(value)
    except ValueError as exc:
        return f"[the worker sent a log the gateway could not read: {exc}]"


async def post_result(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    request_id = parse_request_id(request.path_params["request_id"])
    label = "0x" + request_id.hex()
    worker_header = request.headers.get(WORKER_HEADER)
    signature_header = request.headers.get(SIGNATURE_HEADER)
    if not worker_header or not signature_header:
        raise BadRequest(f"the {WORKER_HEADER} and {SIGNATURE_HEADER} headers are required")
    worker = "0x" + _hex_bytes(worker_header, 20, WORKER_HEADER).hex()
    signature = _hex_bytes(signature_header, 65, SIGNATURE_HEADER)
    body = await read_body(request, gateway.settings.max_result_bytes, "The posted result")

    waiter = gateway.waiters.get(request_id)
    if waiter is None:
        waiter = await gateway.waiters.settled(request_id, _SETTLE_SECONDS)
    if (waiter is None or waiter.done) and gateway.waiters.recently_answered(request_id):
        # Not accepted (nothing changes), but not an error: a faster worker already answered.
        return JSONResponse(
            {"accepted": False, "request_id": label, "reason": "already answered"},
            status_code=200,
        )
    if waiter is None or waiter.done:
        raise UnknownRequest(label, "here: this gateway is not waiting for results for it")

    digest = result_hash(body)
    config = gateway.settings.chain
    try:
        signer = recover_signer(signature, config.chain_id, config.coordinator, request_id, digest)
    except ValueError as exc:
        raise InvalidResultSignature(label, worker, str(exc)) from None
    if signer.lower() != worker:
        raise InvalidResultSignature(
            label, worker, f"the signature over (requestId, keccak(body)) recovers to {signer}"
        )
    if not await gateway.workers.is_active(signer):
        raise WorkerNotActive(signer)
    try:
        envelope = decode_envelope(body)
    except InvalidEnvelope as exc:
        raise BadRequest(f"the posted result is not a result envelope ({exc})") from None
    if envelope.error_kind is ErrorKind.TIMEOUT:
        raise BadRequest("a wall-clock timeout is not a result (it is never committed)")
    waiter.offer(Output(body=body, result_hash=digest, worker=signer, log=_log_of(request)))
    return JSONResponse(
        {"accepted": True, "request_id": label, "result_hash": "0x" + digest.hex()},
        status_code=202,
    )
