"""A call's bookkeeping (access line, metrics, function log entry) runs once its response is
written, not before: the caller does not wait for it. Driven through the real app over raw ASGI,
so the test sees the order of the writes."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from ape.api import AccountAPI
from gateway_helpers import PROJECT
from starlette.testclient import TestClient

from peerhost.gateway import GatewaySettings, create_app

ACCESS = "peerhost.gateway.access"


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
        "state": {},
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == ACCESS]


def test_call__answered__access_line_written_after_the_body(
    settings: GatewaySettings, developer: AccountAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    app = create_app(settings)
    seen: list[tuple[str, int]] = []

    async def send(message: dict[str, Any]) -> None:
        seen.append((message["type"], len(_access_lines(caplog))))

    with TestClient(app) as client:
        assert client.portal is not None
        client.portal.call(app, _scope(f"/{developer.address}/{PROJECT}/nope"), _receive, send)

    assert seen == [("http.response.start", 0), ("http.response.body", 0)]
    [line] = _access_lines(caplog)
    assert "status=404" in line and f"{PROJECT}/nope" in line


def test_call__caller_gone_while_writing__bookkeeping_still_done(
    settings: GatewaySettings, developer: AccountAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    app = create_app(settings)

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            raise OSError("the caller closed the connection")

    with TestClient(app) as client, pytest.raises(OSError):
        assert client.portal is not None
        client.portal.call(app, _scope(f"/{developer.address}/{PROJECT}/nope"), _receive, send)

    [line] = _access_lines(caplog)
    assert "status=404" in line
