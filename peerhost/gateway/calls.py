"""Function calls: HTTP request in, on-chain job, worker output out.

Response headers on every answered call:
``X-PeerHost-Request-Id``, ``X-PeerHost-Result-Hash``, ``X-PeerHost-Mode`` (fast|verified) and
``X-PeerHost-Worker`` (who delivered the output); on the ticket path (the chain has the
settlement contracts) the mode may also be attested, and ``X-PeerHost-Attestations``
(``worker:0xsig`` pairs, fastest first) and ``X-PeerHost-Status-Url`` are added. Errors after submission carry the request id
too; a function's own failure (trap, out of fuel, js error) is a 502 problem with its kind in
``error``.

Never a paid run: ``OPTIONS`` (a CORS preflight is answered from the project's policy, see
:mod:`peerhost.cors`; a plain OPTIONS gets 204 with ``Allow``) and ``HEAD`` (405: the body would be
thrown away, yet the run would be paid). Responses to an origin the project allows carry the
CORS headers. One access-log line per call (logger ``peerhost.gateway.access``), and one entry in the
project's function logs (:class:`~peerhost.functionlogs.LogStore`) per submitted request.

That bookkeeping (the log entry, the metrics, the access line) runs once the response is written,
not before it (:class:`Answered`): none of it is part of the answer, and its ~0.1-0.2 ms of a
woken process no longer delays the caller. It runs in the same turn of the event loop as the
write (unless the caller reads a large answer slowly: then once it has read it, or left), so the
owner can still read the entry as soon as the caller has the answer; it runs also when the write
failed (the caller left). What a crash must keep is written before the answer: the ticket (before
it is sent to any worker) and the attestation the answer is built from. A fast call's later
attestation that arrived in the same read as its first is recorded one loop turn after the
answer is written (a crash in that turn loses it from the gateway's book, as a crash before its
frame was read would; its attester keeps its own record).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from peerhost.cors import CALL_METHODS, CorsRefused
from peerhost.gateway.bodies import check_headers, read_body
from peerhost.gateway.errors import BadRequest, FunctionDisabled, MethodNotAllowed, PayloadTooLarge
from peerhost.gateway.functions import ResolvedFunction
from peerhost.gateway.problems import problem, problem_response, status_of
from peerhost.gateway.routing import Target
from peerhost.gateway.service import Gateway
from peerhost.gateway.tickets import TicketCall
from peerhost.gateway.waiters import Output, Waiter
from peerhost.stagetrace import TRACE_HEADER, header_value
from peerhost.wire.credentials import seal
from peerhost.wire.envelope import decode_envelope
from peerhost.wire.feed import (
    ATTESTATIONS_HEADER,
    STATUS_URL_HEADER,
    TICKET_HASH_HEADER,
    attestations_header,
)
from peerhost.wire.headers import (
    HEADER_PREFIX,
    MODE_HEADER,
    REQUEST_ID_HEADER,
    RESULT_HASH_HEADER,
    WORKER_HEADER,
)
from peerhost.wire.ids import request_id_text
from peerhost.wire.request import canonical_request
from peerhost.wire.ticket import input_hash_of

access_log = logging.getLogger("peerhost.gateway.access")
log = logging.getLogger(__name__)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
ALLOW = ", ".join([*CALL_METHODS, "OPTIONS"])

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


#: Starlette builds and parses a whole URL from the scope for each of ``request.url`` and
#: ``request.base_url`` (10-15 µs apiece, on every call); what a call takes of them is a pure
#: function of a few scope fields, and a gateway sees few hosts and paths: kept by those fields.
_URLS: dict[tuple[object, ...], str] = {}
_URLS_KEPT = 1024


def _kept_url(key: tuple[object, ...], build: Callable[[], str]) -> str:
    url = _URLS.get(key)
    if url is None:
        if len(_URLS) >= _URLS_KEPT:
            _URLS.clear()
        url = _URLS[key] = build()
    return url


def _url_key(request: Request) -> tuple[object, ...]:
    """The scope fields Starlette's URL of ``request`` is built from, but the path and query."""
    scope = request.scope
    server = scope.get("server")  # a list from some servers (and Starlette's test client)
    return (
        scope.get("scheme", "http"),
        tuple(server) if server is not None else None,
        request.headers.get("host"),
        scope.get("root_path", ""),
        scope.get("app_root_path"),
    )


def path_of(request: Request) -> str:
    """``request.url.path`` (kept: :data:`_URLS`)."""
    return _kept_url(("path", request.scope["path"], *_url_key(request)), lambda: request.url.path)


def status_url(request: Request, request_id: bytes) -> str:
    base = _kept_url(("base", *_url_key(request)), lambda: str(request.base_url).rstrip("/"))
    return f"{base}/_status/requests/0x{request_id.hex()}"


def _mode(request: Request, default: str | None, registry_mode: str, modes: tuple[str, ...]) -> str:
    asked = request.headers.get(MODE_HEADER)
    if asked is None:
        mode = default or registry_mode
        return mode if mode in modes else "verified"
    mode = asked.strip().lower()
    if mode not in modes:
        raise BadRequest(f"{MODE_HEADER} must be {' or '.join(modes)}, not {asked[:40]!r}")
    return mode


def _multi(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


#: Envelopes decoded into their HTTP answer, by their bytes (at most :data:`_DECODED_KEPT`, each
#: of at most :data:`_DECODED_MAX_BYTES`): a function answering the same bytes again (every
#: ``hello``) is decoded and validated once. The answer is a pure function of the bytes.
_DECODED: dict[bytes, tuple[int, dict[str, str], bytes, str | None]] = {}
_DECODED_KEPT = 256
_DECODED_MAX_BYTES = 4096


def http_of(body: bytes) -> tuple[int, dict[str, str], bytes, str | None]:
    """``(status, headers, content, failure)`` of an envelope's bytes: the function's own answer,
    or its failure as a 502 problem (``failure``: what the function log records). The headers
    are shared between calls: copy before changing them."""
    known = _DECODED.get(body)
    if known is not None:
        return known
    envelope = decode_envelope(body)
    status, fn_headers, content = envelope.to_http()
    failure = None
    if not envelope.ok:
        failure = f"{envelope.error_kind}: {envelope.error_detail}".rstrip(": ")
        message = f"The function failed: {envelope.error_kind}" + (
            f" ({envelope.error_detail})" if envelope.error_detail else ""
        )
        failed = problem_response(
            "FunctionFailed",
            status,
            envelope.error_detail,  # today's "detail": the run's own, unchanged
            error=str(envelope.error_kind),
            message=message,
        )
        fn_headers, content = {"content-type": failed.media_type or ""}, bytes(failed.body)
    decoded = (status, fn_headers, content, failure)
    if len(body) <= _DECODED_MAX_BYTES:
        if len(_DECODED) >= _DECODED_KEPT:
            _DECODED.clear()
        _DECODED[body] = decoded
    return decoded


def answer_response(
    body: bytes, extra: dict[str, str] | None = None
) -> tuple[Response, str | None]:
    """The function's envelope as the HTTP answer (its failure as a 502 problem, with what the
    function log records of it), with the gateway's own ``extra`` headers: one header list built
    once (no header set twice), the function's framing and ``x-peerhost-*`` headers dropped."""
    status, fn_headers, content, failure = http_of(body)
    headers: dict[str, str] = {}
    for name, value in fn_headers.items():
        lowered = name.lower()
        if lowered not in _DROPPED and not lowered.startswith(HEADER_PREFIX):
            headers[lowered] = value
    if extra:
        headers.update(extra)
    return Response(content, status_code=status, headers=headers), failure


class Call:
    """One function call's state, for the handler and its log line."""

    def __init__(self, gateway: Gateway, request: Request) -> None:
        self.gateway = gateway
        self.request = request
        self.started = time.monotonic()
        desk = gateway.desk
        self.trace = desk.trace if desk is not None else None
        self.entry_ns = time.monotonic_ns() if self.trace is not None else 0
        self.target: Target | None = None
        self.mode = "-"
        self.waiter: Waiter | None = None
        self.output: Output | None = None
        self.request_id: bytes | None = None
        self.worker: str | None = None
        self.call: TicketCall | None = None
        self.failure: str | None = None
        self.log = ""
        self.latency_ms = 0.0

    async def serve(self) -> Response:
        gw, request = self.gateway, self.request
        settings = gw.settings
        self.target = target = gw.router.match(request.headers.get("host", ""), path_of(request))
        gw.limiter.take(client_of(request, settings.trust_forwarded_for))
        check_headers(request, settings.max_header_bytes)
        body = await read_body(request, settings.max_body_bytes)
        fn = await gw.functions.resolve(target)
        if fn.disabled:
            raise FunctionDisabled(target.wallet, target.project, target.function)
        modes = ("fast", "attested", "verified") if gw.desk is not None else ("fast", "verified")
        self.mode = _mode(request, settings.default_mode, fn.mode, modes)
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
                gw.credentials.put(input_hash_of(data), openings)
            return data

        if gw.desk is not None:
            return await self._serve_ticket(fn, build_input)
        self.waiter = await gw.submit(fn, build_input, self.mode)
        self.output = await gw.answer(self.waiter, status_url(request, self.waiter.request_id))
        self.log = self.output.log
        response = self._respond(self.output.body)
        response.headers[RESULT_HASH_HEADER] = "0x" + self.output.result_hash.hex()
        response.headers[WORKER_HEADER] = self.output.worker
        return response

    def _respond(self, body: bytes, extra: dict[str, str] | None = None) -> Response:
        response, failure = answer_response(body, extra)
        if failure is not None:
            self.failure = failure
        return response

    async def _serve_ticket(
        self, fn: ResolvedFunction, build_input: Callable[[bytes], bytes]
    ) -> Response:
        """The ticket path: sign a ticket, answer from attestations (no transaction)."""
        desk = self.gateway.desk
        assert desk is not None
        settings = self.gateway.settings
        self.gateway.poster.admit()  # 503 while the poster could not post this ticket in time
        self.call = call = await desk.issue(fn, build_input, self.mode)
        self.request_id = call.request_id
        url = status_url(self.request, call.request_id)
        timeout = settings.verified_timeout if self.mode == "verified" else settings.fast_timeout
        if self.trace is not None:
            self.trace.mark(call.request_id, "entry", self.entry_ns)
        try:
            answer = await desk.answer(call, timeout, url)
        finally:
            desk.forget(call)
        if self.trace is not None:
            self.trace.mark(call.request_id, "woke")
        self.worker = answer.attestations[0][0]
        self.log = answer.logs.decode("utf-8", "replace")
        self.mode = answer.mode
        response = self._respond(
            answer.output,
            {
                RESULT_HASH_HEADER: "0x" + answer.result_hash.hex(),
                WORKER_HEADER: self.worker,
                ATTESTATIONS_HEADER: attestations_header(answer.attestations),
                STATUS_URL_HEADER: url,
                TICKET_HASH_HEADER: "0x" + call.ticket_hash.hex(),
                REQUEST_ID_HEADER: request_id_text(call.request_id),
                MODE_HEADER: self.mode,
            },
        )
        if self.trace is not None:
            self.trace.mark(call.request_id, "built")
        return response

    def finish(self, response: Response) -> Response:
        """The answer's last headers; the rest of the call's bookkeeping is :meth:`after`."""
        if self.waiter is not None:
            self.gateway.waiters.remove(self.waiter)
            self.request_id = self.waiter.request_id
        if self.request_id is not None and REQUEST_ID_HEADER not in response.headers:
            response.headers[REQUEST_ID_HEADER] = request_id_text(self.request_id)
            response.headers[MODE_HEADER] = self.mode
        self.latency_ms = (time.monotonic() - self.started) * 1000
        if self.trace is not None and self.request_id is not None:
            self.trace.mark(self.request_id, "finished")
            response.headers[TRACE_HEADER] = header_value(self.trace.marks(self.request_id))
        return response

    def after(self, status: int) -> None:
        """The call's bookkeeping, once its response (``status``) is written: the function log
        entry, the metrics and the access line. Never raises."""
        try:
            latency = self.latency_ms
            self._record(status, latency)
            self.gateway.metrics.call_finished(
                self.target.label if self._reached and self.target else None,
                self.mode,
                status,
                latency / 1000,
            )
            access_log.info(
                "call fn=%s mode=%s status=%d latency_ms=%.1f request_id=%s worker=%s",
                self.target.label if self.target else self.request.url.path,
                self.mode,
                status,
                latency,
                "0x" + self.request_id.hex() if self.request_id else "-",
                self.output.worker if self.output else self.worker or "-",
            )
        except Exception:
            log.exception("the bookkeeping of a call to %s failed", self.request.url.path)

    @property
    def _reached(self) -> bool:
        """Whether the call got a request (on-chain) or a ticket: its function is a label."""
        return self.waiter is not None or self.call is not None

    def _record(self, status: int, latency_ms: float) -> None:
        if self.request_id is None or self.target is None:
            return  # nothing ran: unknown or disabled functions, refusals before submission
        lines = self.log.splitlines()
        if self.failure:
            lines.append(f"[error] {self.failure}")
        self.gateway.logs.add(
            self.target.wallet,
            self.target.project,
            at=time.time(),
            function=self.target.function,
            status=status,
            latency_ms=round(latency_ms, 1),
            request_id="0x" + self.request_id.hex(),
            mode=self.mode,
            worker=self.output.worker if self.output is not None else self.worker,
            lines=tuple(lines),
        )


def _with_cors(
    gateway: Gateway, target: Target | None, request: Request, response: Response
) -> Response:
    origin = request.headers.get("origin")
    if origin is None or target is None:
        return response
    policy = gateway.projects.cors(target.wallet, target.project)
    if policy is not None:
        for name, value in policy.response_headers(origin).items():
            response.headers[name] = value
    return response


async def options(gateway: Gateway, request: Request) -> Response:
    """OPTIONS: a CORS preflight answered from the project's policy, or the allowed methods."""
    try:
        target = gateway.router.match(request.headers.get("host", ""), path_of(request))
        gateway.limiter.take(client_of(request, gateway.settings.trust_forwarded_for))
        origin = request.headers.get("origin")
        method = request.headers.get("access-control-request-method")
        if origin is None or method is None:
            return Response(status_code=204, headers={"Allow": ALLOW})
        policy = gateway.projects.cors(target.wallet, target.project)
        if policy is None:
            raise CorsRefused(
                f"project '{target.project}' of {target.wallet} has no CORS policy on this "
                'gateway (its owner declares "cors" in project.json and publishes)'
            )
        return Response(
            status_code=204,
            headers=policy.preflight(
                origin, method, request.headers.get("access-control-request-headers")
            ),
        )
    except Exception as exc:
        if status_of(exc) == 500:
            log.exception("unexpected error serving OPTIONS %s", request.url.path)
        return problem(exc)


class Answered:
    """A call's response, then its bookkeeping (:meth:`Call.after`) once the response is
    written, or failed to be: the ASGI app Starlette runs for the call's endpoint."""

    def __init__(self, response: Response, call: Call) -> None:
        self.response = response
        self.call = call

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.response(scope, receive, send)
        finally:
            self.call.after(self.response.status_code)


async def call_function(request: Request) -> Response | Answered:
    gateway: Gateway = request.app.state.gateway
    if request.method == "OPTIONS":
        return await options(gateway, request)
    if request.method == "HEAD":
        refused = problem(MethodNotAllowed("HEAD", ALLOW))
        refused.headers["Allow"] = ALLOW
        return refused
    call = Call(gateway, request)
    try:
        response = await call.serve()
    except Exception as exc:
        if status_of(exc) == 500:
            log.exception("unexpected error serving %s %s", request.method, request.url.path)
        call.failure = f"{type(exc).__name__}: {exc}"
        response = problem(exc)
    try:
        finished = _with_cors(gateway, call.target, request, call.finish(response))
    except Exception:  # still logged and counted: the bookkeeping must not depend on the headers
        call.after(500)
        raise
    return Answered(finished, call)
