"""What can go wrong while serving a request; ``problems.py`` maps each to an HTTP status.

Every leaf builds its own message and carries the facts a caller needs in ``details``
(what was looked up, the request id, where to check a request's status).
"""

from __future__ import annotations

from typing import Any

from peerhost.errors import PeerHostError


class GatewayError(PeerHostError):
    """Base of the gateway's errors; ``details`` go into the JSON error body."""

    details: dict[str, Any]

    def __init__(self, message: str, **details: Any) -> None:
        self.details = details
        super().__init__(message)


class BadRequest(GatewayError, ValueError):
    """The HTTP request is malformed (bad header value, bad request id, bad mode...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Malformed request: {reason}.")


class PayloadTooLarge(GatewayError, ValueError):
    """A body, the headers or a posted result exceed their cap."""

    def __init__(self, what: str, size: int, limit: int, hint: str = "") -> None:
        super().__init__(
            f"{what} is {size} bytes; the limit is {limit} bytes.{' ' + hint if hint else ''}",
            size=size,
            limit=limit,
        )


class NoRoute(GatewayError, LookupError):
    """Neither the Host nor the path names a function."""

    def __init__(self, host: str, path: str, domain: str) -> None:
        super().__init__(
            f"No route for host {host!r} and path {path!r}. Call "
            f"https://0x<wallet>.{domain}/<project>/<function> or /0x<wallet>/<project>/<function>.",
            host=host,
            path=path,
        )


class FunctionNotFound(GatewayError, LookupError):
    """The registry has no such (wallet, project, function)."""

    def __init__(self, wallet: str, project: str, name: str) -> None:
        super().__init__(
            f"No function '{name}' in project '{project}' of {wallet}.",
            wallet=wallet,
            project=project,
            function=name,
        )


class FunctionDisabled(GatewayError, PermissionError):
    """The function exists but its owner disabled it."""

    def __init__(self, wallet: str, project: str, name: str) -> None:
        super().__init__(
            f"Function '{name}' in project '{project}' of {wallet} is disabled by its owner.",
            wallet=wallet,
            project=project,
            function=name,
        )


class RateLimited(GatewayError, RuntimeError):
    """The client sent more requests than its token bucket allows."""

    def __init__(self, client: str, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"Too many requests from {client}; retry in {retry_after:.1f} s.",
            retry_after=round(retry_after, 3),
        )


class PosterBehind(GatewayError, RuntimeError):
    """The gateway's batch poster is too far behind to take more tickets now: they would not be
    posted before the attesters' orphan grace (the gateway's bond would pay for each). The body
    says how long to wait, never how far behind the poster is (any caller reads it)."""

    def __init__(self, backlog: int, behind: float, grace: float, retry_after: float) -> None:
        self.retry_after = retry_after
        self.backlog, self.behind, self.grace = backlog, behind, grace  # for the gateway's logs
        super().__init__(
            "The gateway is not taking new calls for a moment: its tickets wait to be posted "
            f"on-chain; retry in {retry_after:.0f} s.",
            retry_after=round(retry_after, 3),
        )


class ResultTimeout(GatewayError, TimeoutError):
    """No acceptable result arrived in time; the request may still settle on-chain."""

    def __init__(self, request_id: str, status_url: str, waited: float, reason: str) -> None:
        super().__init__(
            f"No result for request {request_id} after {waited:.1f} s ({reason}). "
            f"It may still settle on-chain: GET {status_url}",
            request_id=request_id,
            status_url=status_url,
        )


class RequestRefunded(GatewayError, RuntimeError):
    """The request ended without a quorum of matching results and its escrow was refunded."""

    def __init__(self, request_id: str, status_url: str) -> None:
        super().__init__(
            f"Request {request_id} was refunded: the workers reached no quorum on one result.",
            request_id=request_id,
            status_url=status_url,
        )


class RequestReverted(GatewayError, RuntimeError):
    """The requestExecution transaction reverted for a reason the caller cannot fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The request transaction reverted: {reason}.", reason=reason)


class PaymentUnavailable(GatewayError, RuntimeError):
    """Neither the project's prepaid balance nor the gateway's own reward can pay the request."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"This gateway cannot pay for the request: {reason}. The project owner can fund the "
            "project and authorize this gateway (`ape run publish <folder> --fund <ether> "
            "--authorize-gateway <gateway>`: fundProject, setGatewayAuthorization), or the "
            "operator can set a per-request reward.",
            reason=reason,
        )


class UnknownRequest(GatewayError, LookupError):
    """No such request on-chain, or (for the inbox) not waiting for results here."""

    def __init__(self, request_id: str, where: str = "on-chain") -> None:
        super().__init__(f"Request {request_id} is unknown {where}.", request_id=request_id)


class InvalidResultSignature(GatewayError, PermissionError):
    """A posted result is not signed by the worker it names."""

    def __init__(self, request_id: str, worker: str, reason: str) -> None:
        super().__init__(
            f"Result for {request_id} is not signed by {worker}: {reason}.",
            request_id=request_id,
            worker=worker,
        )


class InvalidWorkerSignature(GatewayError, PermissionError):
    """A worker's request (for a job's credentials) is not signed by the worker it names."""

    def __init__(self, worker: str, reason: str) -> None:
        super().__init__(f"The request is not signed by {worker}: {reason}.", worker=worker)


class WorkerNotActive(GatewayError, PermissionError):
    """A posted result comes from an address that is not a registered, staked worker."""

    def __init__(self, worker: str) -> None:
        super().__init__(f"{worker} is not an active (registered, staked) worker.", worker=worker)


class DuplicateResult(GatewayError, ValueError):
    """The same worker posted a result for the same request twice."""

    def __init__(self, request_id: str, worker: str) -> None:
        super().__init__(
            f"{worker} already posted a result for {request_id}.",
            request_id=request_id,
            worker=worker,
        )


class ShuttingDown(GatewayError, ConnectionAbortedError):
    """The replica stopped while the request was waiting; it may still settle on-chain."""

    def __init__(self) -> None:
        super().__init__("The gateway is shutting down; retry the request.")


class ReserveExhausted(GatewayError, RuntimeError):
    """The project's reserve does not cover another ticket beside the ones in flight."""

    def __init__(self, project: str, reserve: int, in_flight: int, reward: int) -> None:
        super().__init__(
            f"The reserve of project '{project}' ({reserve} wei) does not cover another ticket "
            f"of {reward} wei beside {in_flight} wei in flight. The project owner can fund it with "
            f"`ape run publish <folder> --project-name {project} --fund <ether>` "
            "(GatewayRegistry.fundReserve); retry when tickets in flight have settled.",
            reserve=reserve,
            in_flight=in_flight,
            reward=reward,
        )


class NoAttesters(GatewayError, RuntimeError):
    """No worker active in the current epoch holds a feed to this gateway."""

    def __init__(self, connected: int, active: int) -> None:
        super().__init__(
            f"No active worker is connected to this gateway's job feed ({connected} connected, "
            f"{active} active in the epoch); retry shortly.",
            connected=connected,
            active=active,
        )


class GatewayExited(PeerHostError, RuntimeError):
    """A launched gateway process exited before it was ready."""

    def __init__(self, code: int | None, log_tail: str) -> None:
        super().__init__(
            f"The gateway process exited with code {code} before it was ready:\n{log_tail}"
        )


class GatewayStartTimeout(PeerHostError, TimeoutError):
    """A launched gateway did not answer /_health with 200 in time. ``status`` is its answer to
    the last poll (503: it started, but cannot reach its chain node), ``None`` if that poll got
    none (still starting: on a busy machine, importing alone can take a minute; or its chain node
    too slow to answer)."""

    def __init__(self, url: str, timeout: float, log_tail: str, status: int | None = None) -> None:
        if status is None:
            why = (
                "gave no answer to the last poll (still starting on a busy machine, or its chain "
                "node slow: its log below says how far it got)"
            )
        elif status == 503:
            why = "answered 503 (is the chain node up?)"
        else:
            why = f"answered {status} (its log below says why)"
        super().__init__(
            f"The gateway at {url} was not healthy after {timeout:.0f} s: /_health {why}:"
            f"\n{log_tail}"
        )


class MethodNotAllowed(GatewayError, ValueError):
    """A method the gateway never turns into a run (HEAD)."""

    def __init__(self, method: str, allowed: str) -> None:
        super().__init__(
            f"{method} does not run functions (it would be a paid execution whose body is "
            f"thrown away). Use GET, or one of: {allowed}.",
            method=method,
        )


class RefusedAtEdge(GatewayError, ValueError):
    """The HTTP server refused a request before the app saw it (see :mod:`~.edge`)."""

    def __init__(self, reason: str, hint: str) -> None:
        super().__init__(f"Refused before any function ran: {reason}. {hint}", reason=reason)


class HeadTooLarge(GatewayError, ValueError):
    """The request line and headers did not fit the server's read buffer."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The request line and headers exceed {limit} bytes. Shorten the URL (a long query "
            "string belongs in the body) or the headers.",
            limit=limit,
        )


class RequestTimeout(GatewayError, TimeoutError):
    """The request head or body did not arrive in time."""

    def __init__(self, part: str, seconds: float) -> None:
        super().__init__(
            f"The request {part} did not arrive within {seconds:g} s of "
            + ("the connection opening or the previous response" if part == "head" else "its head")
            + ". Send the whole request at once, on a connection that is not stalled.",
            part=part,
            timeout=seconds,
        )


class TooManyConnections(GatewayError, RuntimeError):
    """One client address holds the most open connections the server allows."""

    def __init__(self, client: str, limit: int) -> None:
        super().__init__(
            f"{client} already holds {limit} open connections to this gateway (the limit). Reuse "
            "a keep-alive connection or close idle ones, then retry.",
            limit=limit,
        )
