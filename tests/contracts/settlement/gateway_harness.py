"""What the settlement tests that run a gateway's poster or input endpoint on the real chain
share: the poster and its ticket book on an event loop of their own, and a seat's signed input
request."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import SettlementView
from peerhost.gateway import GatewaySettings
from peerhost.gateway.batcher import BatchSender
from peerhost.gateway.poster import BatchPoster
from peerhost.gateway.ticketbook import TicketBook
from peerhost.gateway.tickets import Reserves
from peerhost.wire.feed import (
    INPUT_EXPIRES_HEADER,
    INPUT_PATH,
    INPUT_SIGNATURE_HEADER,
    INPUT_WORKER_HEADER,
    input_request_digest,
    sign_digest,
)

from .worker_harness import ThreadLoop, key_of


class PosterOnChain(ThreadLoop):
    """The gateway's batch poster, its sender and its ticket book on the test chain, on an
    event loop of their own that the test drives (``run``), with the desk's reserve books."""

    def __init__(self, config: ChainConfig, key: bytes, tmp: Path) -> None:
        super().__init__()
        self.rpc = RpcClient(config.rpc_url)
        self.sender = BatchSender(self.rpc, key, config.chain_id)
        self.book = TicketBook(tmp / "tickets.sqlite3")
        self.view = SettlementView(config, self.rpc)
        self.reserves = Reserves(self.view, {})  # what the desk counts in flight per project
        self.poster = BatchPoster(
            self.view,
            self.book,
            self.sender,
            max_tickets=16,
            interval=0.1,
            waiting=lambda rid: False,
            drawn=self.reserves.posted,
            settled=lambda rid, value, final: None,
            returned=self.reserves.returned,
        )
        self.run(self._start())

    async def _start(self) -> None:
        self.sender.start()

    def close(self) -> None:
        self.run(self.sender.stop())
        self.run(self.rpc.aclose())
        super().close()
        self.book.close()


def ask_input(client: TestClient, gateway: str, rid: bytes, worker: Any) -> Any:
    """A seat's signed ``GET /_inputs/0x<request id>``, as the committee sends it."""
    expires = int(time.time()) + 60
    signature = sign_digest(key_of(worker), input_request_digest(gateway, rid, expires))
    return client.get(
        f"{INPUT_PATH}/0x{rid.hex()}",
        headers={
            INPUT_WORKER_HEADER: str(worker.address),
            INPUT_EXPIRES_HEADER: str(expires),
            INPUT_SIGNATURE_HEADER: "0x" + signature.hex(),
        },
    )


def gateway_settings(kit: Any, config: ChainConfig, tmp: Path, **extra: Any) -> GatewaySettings:
    """The real gateway app's settings for the kit's gateway on the test chain: no rate limit,
    and a poster that ticks once at start, not during the test."""
    return GatewaySettings(
        chain=config,
        private_key=str(kit.gateway.private_key),
        public_url="http://testserver",
        rate_limit=0,
        data_dir=str(tmp / "gateway"),
        batch_interval=3600.0,
        **extra,
    )
