"""The call's path and status URL, kept by the scope fields they are built from, are what
Starlette's ``request.url.path`` and ``request.base_url`` give, for every host and path (odd ones
included), asked twice (the second answer from what was kept)."""

from __future__ import annotations

import itertools
from typing import Any

from starlette.requests import Request

from peerhost.gateway.calls import path_of, status_url

PATHS = [
    "/0x70997970C51812dc3A010C7d01b50e0d17dc79C8/bench/hello",
    "/0xabc/p/f/sub/path",
    "//double/slash",
    "/with?question",
    "/with#hash",
    "/back\\slash",
    "/tab\there",
    "/new\nline",
    "/ünïcode/%41",
    "/",
]
HOSTS: list[bytes | None] = [
    b"127.0.0.1:8000",
    b"0xabc.peerhost.localhost",
    b"a/b",
    b"evil@x",
    b"x:99999",
    b"[::1]:8000",
    b"",
    None,
]


def _scope(path: str, host: bytes | None, **extra: Any) -> dict[str, Any]:
    headers = [(b"accept", b"*/*")] + ([(b"host", host)] if host is not None else [])
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"a=1#frag",
        "headers": headers,
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "root_path": "",
        **extra,
    }


def test_path_of_and_status_url__any_host_and_path__starlettes_own_each_time() -> None:
    rid = bytes(range(32))
    extras: list[dict[str, Any]] = [
        {},
        {"scheme": "https", "server": ("10.0.0.1", 443)},
        {"root_path": "/gw"},
        {"server": None},
        {"server": ["testserver", 80]},  # a list, as Starlette's test client gives it
    ]
    for path, host, extra in itertools.product(PATHS, HOSTS, extras):
        for _ in range(2):
            request = Request(_scope(path, host, **extra))
            fresh = Request(_scope(path, host, **extra))  # never asked through the kept values
            assert path_of(request) == fresh.url.path, (path, host, extra)
            assert status_url(request, rid) == (
                f"{str(fresh.base_url).rstrip('/')}/_status/requests/0x{rid.hex()}"
            ), (path, host, extra)
