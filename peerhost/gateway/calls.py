"""Function calls: HTTP request in, on-chain job, worker output out.

Response headers on every answered call:
``X-PeerHost-Request-Id``, ``X-PeerHost-Result-Hash``, ``X-PeerHost-Mode`` (fast|verified) and
``X-PeerHost-Worker`` (who delivered the output). Errors after submission carry the request id
too. One access-log line per call (logger ``peerhost.gateway.access``).
"""

from __future__ import annotations

import logging
import time

from eth_utils import keccak
from starlette.requests import Request
from starlette.responses import Response

from peerhost.credentials import seal
from peerhost.gateway.bodies import check_headers, read_body
from peerhost.gateway.errors import BadRequest, FunctionDisabled, PayloadTooLarge
from peerhost.gateway.problems import problem, status_of
from peerhost.gateway.routing import Target
from peerhost.gateway.service import Gateway
from peerhost.gateway.waiters import Output, Waiter
from peerhost.sandbox.abi import canonical_request
from peerhost.sandbox.envelope import decode_envelope

access_log = logging.getLogger("peerhost.gateway.access")
log = logging.getLogger(__name__)

MODE_HEADER = "x-peerhost-mode"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

#: Headers a function's response may not set: the server owns framing, the gateway its own.
_DROPPED = {
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
}


def client_of(request: Request, trust_forwarded_for: bool) -> str:
    if trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


def status_url(request: Request, request_id: bytes) -> str:
    return f"{str(request.base_url).rstrip('/')}/_status/requests/0x{request_id.hex()}"


def _mode(request: Request, default: str | None, registry_mode: str) -> str:
    asked = request.headers.get(MODE_HEADER)
    if asked is None:
        return default or registry_mode
    mode = asked.strip().lower()
    if mode not in ("fast", "verified"):
        raise BadRequest(f"{MODE_HEADER} must be fast or verified, not {asked[:40]!r}")
    return mode


def _multi(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


class Call:
    """One function call's state, for the handler and its log line."""

    def __init__(self, gateway: Gateway, request: Request) -> None:
        self.gateway = gateway
        self.request = request
        self.started = time.monotonic()
        self.target: Target | None = None
        self.mode = "-"
        self.waiter: Waiter | None = None
        self.output: Output | None = None

    async def serve(self) -> Response:
        gw, request = self.gateway, self.request
        settings = gw.settings
        self.target = target = gw.router.match(request.headers.get("host", ""), request.url.path)
        gw.limiter.take(client_of(request, settings.trust_forwarded_for))
        check_headers(request, settings.max_header_bytes)
        body = await read_body(request, settings.max_body_bytes)
        fn = await gw.functions.resolve(target)
        if fn.disabled:
            raise FunctionDisabled(target.wallet, target.project, target.function)
        self.mode = _mode(request, settings.default_mode, fn.mode)
        limit = gw.max_input_bytes

        call_headers, openings = seal(
            _multi(
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
            ),
            fn.headers,
        )

        def build_input(request_id: bytes) -> bytes:
            data = canonical_request(
                request.method,
                target.subpath,
                _multi(request.query_params.multi_items()),
                call_headers,
                body,
                request_id=request_id,
                block_timestamp=0,  # unknown before inclusion; the job's requestedAt is the clock
                wallet=target.wallet,
                project=target.project,
                function=target.function,
                extra_headers=fn.headers,
            )
            if limit is not None and len(data) > limit:
                raise PayloadTooLarge(
                    "The canonical request",
                    len(data),
                    limit,
                    hint="Larger inputs (via the content store) are not supported yet.",
                )
            if openings:  # credentials stay here, for the workers; only commitments go on-chain
                gw.credentials.put(keccak(data), openings)
            return data

        self.waiter = await gw.submit(fn, build_input, self.mode)
        self.output = await gw.answer(self.waiter, status_url(request, self.waiter.request_id))
        status, headers, content = decode_envelope(self.output.body).to_http()
        response = Response(content, status_code=status)
        for name, value in headers.items():
            lowered = name.lower()
            if lowered not in _DROPPED and not lowered.startswith("x-peerhost-"):
                response.headers[name] = value
        response.headers["X-PeerHost-Result-Hash"] = "0x" + self.output.result_hash.hex()
        response.headers["X-PeerHost-Worker"] = self.output.worker
        return response

    def finish(self, response: Response) -> Response:
        if self.waiter is not None:
            self.gateway.waiters.remove(self.waiter)
            response.headers["X-PeerHost-Request-Id"] = "0x" + self.waiter.request_id.hex()
            response.headers["X-PeerHost-Mode"] = self.mode
        latency = (time.monotonic() - self.started) * 1000
        access_log.info(
            "call fn=%s mode=%s status=%d latency_ms=%.1f request_id=%s worker=%s",
            self.target.label if self.target else self.request.url.path,
            self.mode,
            response.status_code,
            latency,
            "0x" + self.waiter.request_id.hex() if self.waiter else "-",
            self.output.worker if self.output else "-",
        )
        return response


async def call_function(request: Request) -> Response:
    call = Call(request.app.state.gateway, request)
    try:
        response = await call.serve()
    except Exception as exc:
        if status_of(exc) == 500:
            log.exception("unexpected error serving %s %s", request.method, request.url.path)
        response = problem(exc)
    return call.finish(response)
