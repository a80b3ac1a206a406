"""The Kubo-RPC client without a daemon: a dead port and a lying fake daemon."""

from __future__ import annotations

import json

import httpx
import pytest

from peerhost.storage import (
    ContentMismatch,
    ContentNotFound,
    HttpGatewaySource,
    IpfsStore,
    StoreUnavailable,
    compute_cid,
)


def _fake_daemon(cat: bytes = b"", add_hash: str = "", error: str = "") -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        if error:
            return httpx.Response(500, json={"Message": error, "Code": 0, "Type": "error"})
        if request.url.path == "/api/v0/add":
            return httpx.Response(200, text=json.dumps({"Name": "blob", "Hash": add_hash}) + "\n")
        return httpx.Response(200, content=cat)

    return httpx.Client(transport=httpx.MockTransport(handle))


@pytest.mark.parametrize("call", ["get", "put", "has", "version"])
def test_daemon_down__store_unavailable_in_one_line_naming_url_and_fix(
    dead_url: str, call: str
) -> None:
    store = IpfsStore(dead_url)
    cid = compute_cid(b"x")

    with pytest.raises(StoreUnavailable) as info:
        {"get": lambda: store.get(cid), "put": lambda: store.put(b"x"),
         "has": lambda: store.has(cid), "version": store.version}[call]()  # fmt: skip

    message = str(info.value)
    assert isinstance(info.value, ConnectionError)
    assert "\n" not in message
    assert dead_url in message
    assert "tools/ipfs/daemon.sh" in message


def test_get__daemon_returns_other_bytes__content_mismatch() -> None:
    cid = compute_cid(b"honest")
    store = IpfsStore(client=_fake_daemon(cat=b"evil"))

    with pytest.raises(ContentMismatch) as info:
        store.get(cid)

    assert (info.value.expected, info.value.actual) == (cid, compute_cid(b"evil"))


def test_put__daemon_reports_other_cid__content_mismatch() -> None:
    store = IpfsStore(client=_fake_daemon(add_hash=compute_cid(b"other")))

    with pytest.raises(ContentMismatch):
        store.put(b"mine")


def test_get__daemon_times_out_looking__content_not_found() -> None:
    store = IpfsStore(client=_fake_daemon(error="Failed to cat file: request timed out"))

    with pytest.raises(ContentNotFound):
        store.get(compute_cid(b"x"))


def test_get__daemon_internal_error__store_unavailable() -> None:
    store = IpfsStore(client=_fake_daemon(error="disk on fire"))

    with pytest.raises(StoreUnavailable, match="disk on fire"):
        store.get(compute_cid(b"x"))


def test_gateway__down__store_unavailable(dead_url: str) -> None:
    with pytest.raises(StoreUnavailable, match=dead_url):
        HttpGatewaySource(dead_url).get(compute_cid(b"x"))


def test_gateway__returns_other_bytes__content_mismatch() -> None:
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=b"evil"))
    )

    with pytest.raises(ContentMismatch):
        HttpGatewaySource("http://gw.test", client=client).get(compute_cid(b"honest"))


def test_put__answer_without_cid__store_unavailable() -> None:
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<html>"))
    )

    with pytest.raises(StoreUnavailable, match="no CID"):
        IpfsStore("http://not-ipfs.test", client=client).put(b"x")
