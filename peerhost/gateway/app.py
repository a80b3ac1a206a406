"""``create_app(settings)``: the gateway's Starlette application.

Routes (reserved paths start with ``_``, which no project name can):

- ``GET  /_health``
- ``GET  /metrics``                          (Prometheus text format)
- ``GET  /_dashboard``, ``/_dashboard/owner/<wallet>`` …  the status page (:mod:`peerhost.gateway.dashboard`)
- ``GET  /_status/requests/0x<id>``
- ``GET  /_status/batches/<id>``
- ``GET  /_status/workers``
- ``POST /_inbox/0x<id>``                  (workers' result inbox)
- ``WS   /_feed``                          (the job feed: tickets out, attestations in)
- ``GET  /_inputs/0x<id>``                 (a posted ticket's input, for its batch's seats)
- ``GET  /_inbox/credentials/0x<inputHash>`` (sealed credential headers, for active workers)
- ``GET  /_logs/<wallet>/<project>``         (function logs, for the owner)
- ``PUT  /_projects/<wallet>/<project>/http``  (the project's CORS policy, from the owner)
- ``GET  /_schedules``, ``PUT /_projects/<wallet>/<project>/schedules``,
  ``GET /_status/schedules/<wallet>/<project>``  (scheduled functions, :mod:`.schedule_http`)
- ``GET|POST|PUT|PATCH|DELETE /<anything>``  function calls, host- or path-style
- ``OPTIONS /<anything>``  CORS preflight, answered by the gateway (never a paid run)
- ``HEAD /<anything>``     405: a HEAD never runs a function
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Match, Route, WebSocketRoute
from starlette.types import Scope
from starlette.websockets import WebSocket

from peerhost.gateway.calls import METHODS, call_function
from peerhost.gateway.credentials import disclose_credentials
from peerhost.gateway.dashboard.views import routes as dashboard_routes
from peerhost.gateway.http_settings import put_http_settings
from peerhost.gateway.inbox import post_result
from peerhost.gateway.inputs import serve_input
from peerhost.gateway.logs import read_logs
from peerhost.gateway.metrics import metrics
from peerhost.gateway.problems import EXCEPTION_HANDLERS
from peerhost.gateway.schedule_http import put_schedules, schedule_params, schedule_status
from peerhost.gateway.service import Gateway
from peerhost.gateway.settings import GatewaySettings
from peerhost.gateway.status import batch_status, health, request_status, workers_status
from peerhost.wire.credentials import CREDENTIALS_PATH
from peerhost.wire.feed import FEED_PATH, INPUT_PATH
from peerhost.wire.inbox import INBOX_PATH


class CallRoute(Route):
    """The function-call route, matched before the gateway's own routes: every path but theirs
    (``/_...`` and ``/metrics``), so a call is not tried against each of them first (about 10 µs
    of Starlette's matching per call). The same catch-all stays last for what this one leaves."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path, root = scope.get("path", ""), scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]  # as Starlette's routes see it
        if path.startswith("/_") or path == "/metrics":
            return Match.NONE, {}
        return super().matches(scope)


def create_app(settings: GatewaySettings) -> Starlette:
    """The gateway app; its lifespan starts the receipt loop and the log follower."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        gateway = Gateway(settings)
        app.state.gateway = gateway
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    async def feed(socket: WebSocket) -> None:
        await socket.app.state.gateway.hub.serve(socket)

    routes = [
        # function calls first (most requests are calls): the gateway's own paths, "/_..." and
        # "/metrics", go on to their routes below, and so does anything this route refuses
        CallRoute("/{path:path}", call_function, methods=METHODS),
        WebSocketRoute(FEED_PATH, feed),
        Route("/_health", health, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *dashboard_routes(),
        Route("/_status/requests/{request_id}", request_status, methods=["GET"]),
        Route("/_status/batches/{batch_id}", batch_status, methods=["GET"]),
        Route("/_status/workers", workers_status, methods=["GET"]),
        Route(INBOX_PATH + "/{request_id}", post_result, methods=["POST"]),
        Route(INPUT_PATH + "/{request_id}", serve_input, methods=["GET"]),
        Route(CREDENTIALS_PATH + "/{input_hash}", disclose_credentials, methods=["GET"]),
        Route("/_logs/{wallet}/{project}", read_logs, methods=["GET"]),
        Route("/_projects/{wallet}/{project}/http", put_http_settings, methods=["PUT"]),
        Route("/_projects/{wallet}/{project}/schedules", put_schedules, methods=["PUT"]),
        Route("/_schedules", schedule_params, methods=["GET"]),
        Route("/_status/schedules/{wallet}/{project}", schedule_status, methods=["GET"]),
        Route("/{path:path}", call_function, methods=METHODS),
    ]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=EXCEPTION_HANDLERS)
