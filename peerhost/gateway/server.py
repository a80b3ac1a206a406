"""Serving the app with uvicorn, and the gateway's logging setup."""

from __future__ import annotations

import logging
import socket

import uvicorn

from peerhost import eventloop
from peerhost.gateway.app import create_app
from peerhost.gateway.edge import EdgeLimits, edge_protocol
from peerhost.gateway.settings import GatewaySettings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str = "info") -> None:
    """One line per event on stderr; ``peerhost.gateway.access`` logs one line per call."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per RPC is noise
    # at debug the websockets client logs its handshake, whose request line and Authorization
    # header carry a provider's key when the RPC URL holds one
    logging.getLogger("websockets").setLevel(logging.INFO)


def serve(
    settings: GatewaySettings,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    fd: int | None = None,
    log_level: str = "info",
) -> None:
    """Runs the gateway until SIGINT/SIGTERM (in-flight calls finish, then the app stops).

    Args:
        settings: The gateway's settings (the key included; it is never logged).
        host: Interface to listen on (ignored with ``fd``).
        port: Port to listen on (ignored with ``fd``).
        fd: An already bound, listening socket inherited from a parent (see the launcher).
        log_level: uvicorn's and the gateway's log level.
    """
    configure_logging(log_level)
    limits = EdgeLimits(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_connections_per_client=settings.max_connections_per_client,
        max_head_bytes=settings.max_head_bytes,
    )
    config = uvicorn.Config(
        create_app(settings),
        http=edge_protocol(limits),  # uvicorn's httptools protocol with the edge's checks
        loop=eventloop.loop_name(),  # uvloop's when installed, else asyncio's
        ws_max_size=settings.max_feed_message_bytes,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,  # the gateway writes its own line per call
        lifespan="on",
        timeout_graceful_shutdown=10,  # then calls still waiting get 503 ShuttingDown
        server_header=False,
    )
    server = uvicorn.Server(config)
    sockets = [socket.socket(fileno=fd)] if fd is not None else None
    eventloop.freeze_heap()  # the imports' objects: never walked by a full collection again
    server.run(sockets=sockets)
