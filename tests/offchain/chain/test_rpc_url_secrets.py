"""A provider's RPC URL may hold its API key (userinfo, path or query): no error message or log
line the chain layer writes shows more of it than scheme://host:port."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from ape.api import AccountAPI

from peerhost.chain import ChainConfig, ChainUnavailable, RpcClient
from peerhost.chain.errors import shown_url
from peerhost.chain.heads import HeadWatcher
from peerhost.chain.sender import TxSender

KEY = "s3cr3tpr0v1derk3y"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def refusing_proxy(chain_config: ChainConfig) -> Iterator[int]:
    """A real HTTP server that forwards JSON-RPC to the chain and answers 503 to every send."""

    class Proxy(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if json.loads(body).get("method") == "eth_sendRawTransaction":
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            request = urllib.request.Request(
                chain_config.rpc_url, body, {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                data = answer.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()


def test_shown_url__userinfo_path_query__only_scheme_host_port() -> None:
    assert shown_url(f"https://me:{KEY}@eth.example/v3/{KEY}?key={KEY}") == "https://eth.example"
    assert shown_url("http://127.0.0.1:8545") == "http://127.0.0.1:8545"
    assert shown_url(f"wss://[::1]:8546/ws/{KEY}") == "wss://[::1]:8546"
    assert KEY not in shown_url(f"not a url {KEY}")


def test_call__node_refuses_connection__error_names_host_port_not_the_key() -> None:
    port = _free_port()
    rpc = RpcClient(f"http://me:{KEY}@127.0.0.1:{port}/v3/{KEY}?apikey={KEY}")
    with pytest.raises(ChainUnavailable) as caught:
        asyncio.run(rpc.call("eth_blockNumber"))
    assert KEY not in str(caught.value) and KEY not in caught.value.url
    assert f"http://127.0.0.1:{port}" in str(caught.value)


def test_send__node_answers_503__retry_warning_and_error_hold_no_key(
    refusing_proxy: int, chain_config: ChainConfig, stranger: AccountAPI, caplog: Any
) -> None:
    url = f"http://me:{KEY}@127.0.0.1:{refusing_proxy}/v3/{KEY}?apikey={KEY}"

    async def run() -> None:
        rpc = RpcClient(url)
        key = bytes.fromhex(str(stranger.private_key).removeprefix("0x"))
        sender = TxSender(rpc, key, chain_config.chain_id)
        heads = HeadWatcher(rpc, f"ws://me:{KEY}@127.0.0.1:{_free_port()}/ws/{KEY}")
        heads._start()  # its subscription fails and is logged
        try:
            with pytest.raises(ChainUnavailable) as caught:
                await sender.send("0x000000000000000000000000000000000000dEaD", b"", gas=21_000)
            assert "HTTP 503" in str(caught.value) and KEY not in str(caught.value)
            await asyncio.sleep(0.5)
        finally:
            await heads.aclose()
            await rpc.aclose()

    with caplog.at_level(logging.INFO):
        asyncio.run(run())
    lines = [record.getMessage() for record in caplog.records]
    assert any("send failed" in line for line in lines), lines
    assert any("no subscription" in line for line in lines), lines
    assert not [line for line in lines if KEY in line]
