"""Gateway settings: read once (from the environment, a JSON file or code) and passed down.

The signing key is part of the settings but never shown: it is excluded from ``repr``,
from :meth:`GatewaySettings.public_dict` and from every log line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.settings import Settings
from peerhost.wire.inbox import inbox_base_url
from peerhost.wire.schedule import MIN_INTERVAL_SECONDS

#: Environment variable holding the gateway's private key (hex). Never pass it on argv.
KEY_ENV = "PEERHOST_GATEWAY_KEY"

#: Environment variable naming a ChainConfig JSON file (shared with the worker).
CHAIN_CONFIG_ENV = "PEERHOST_CHAIN_CONFIG"
#: Every scalar setting can also come from ``PEERHOST_GATEWAY_<NAME>``.
ENV_PREFIX = "PEERHOST_GATEWAY_"


@dataclass(frozen=True)
class GatewaySettings(Settings):
    """Everything one gateway replica needs.

    Attributes:
        chain: Where the chain and the contracts are.
        private_key: Hex key of the account that sends ``requestExecution`` (never logged).
        domain: Host-style routing serves ``0x<wallet>.<domain>``; other hosts get path-style only.
        public_url: This replica's own base URL as workers reach it; the inbox is
            ``<public_url>/_inbox`` unless ``inbox_url`` says otherwise.
        announce: Announce ``public_url`` on-chain at start (``GatewayRegistry.setEndpoint``) so
            workers that discover gateways open its job feed; needs the minimum gateway bond
            and sends nothing when the chain already holds this URL.
        inbox_url: Explicit inbox base URL put in each request's ``replyTo``.
        max_body_bytes: Largest request body accepted (413 above it).
        max_header_bytes: Largest total size of the request headers (413 above it).
        max_result_bytes: Largest output a worker may post to the inbox (413 above it).
        max_head_bytes: Largest request line plus headers the HTTP server reads (431 above it;
            see :mod:`peerhost.gateway.edge`).
        header_timeout: Seconds for a request's whole head to arrive, from the connection opening
            or the previous response (408 after it).
        body_timeout: Seconds for a request's whole body to arrive after its head (408 after it).
        max_connections_per_client: Open connections per peer address (429 beyond it; 0 turns
            the cap off, e.g. behind a proxy that holds every connection).
        max_feed_message_bytes: Largest WebSocket message on the job feed (the socket is closed
            with 1009 above it).
        feed_hello_timeout: Seconds a worker has to answer the job feed's challenge with its
            signed hello (the socket is closed with 4001 after it).
        default_mode: ``"fast"`` or ``"verified"`` to override every function's default; None
            follows the registry.
        fast_timeout: Seconds a fast request waits for the first signed output.
        verified_timeout: Seconds a verified request waits for finalization and a matching output.
        reward_wei: Paid with each request when the project's prepaid balance cannot be used
            (the gateway is not authorized or the balance is short); 0 means never pay.
        rate_limit: Sustained requests per second per client IP (0 turns the limit off).
        rate_burst: Bucket size of the per-client limit.
        trust_forwarded_for: Take the client IP from ``X-Forwarded-For`` (behind a trusted proxy).
        registry_cache_ttl: Seconds a resolved function stays cached without a registry event.
        worker_cache_ttl: Seconds a worker's active/inactive status stays cached.
        payment_cache_ttl: Seconds a project's authorization and balance stay cached.
        confirm_poll_interval: Seconds between receipt checks of in-flight transactions.
        tx_timeout: Seconds to wait for a request transaction to be mined.
        data_dir: Where the ticket book (``tickets.sqlite3``) lives when the chain has the
            settlement contracts (tickets are written there before they are sent).
        attesters: ``A``: workers each ticket is pushed to; ``attested`` answers need ``A``
            matching attestations.
        ticket_life: Seconds from a ticket's ``issuedAt`` to its deadline.
        batch_max_tickets: Most tickets per batch (capped by the contract's ``maxLeaves``); a
            tick posts when this many wait, else once per block. Larger batches cost less gas
            per ticket.
        batch_interval: Seconds between checks for tickets to post (about one block).
        orphan_grace: Seconds after ``issuedAt`` when the attesters post a ticket no batch
            carried as an orphan (the workers' ``orphan_grace``; the contract's ``orphanDelay``
            when longer): the gateway's bond then pays their gas, so its poster must post first.
        admission_share: New calls get 503 (``Retry-After``) while the poster is this share of
            ``orphan_grace`` behind: its oldest unposted ticket is that old (read from the ticket
            book at each call), or the tickets ready to post would take the whole grace to post at
            its rate of the last 10 s; 0 turns admission control off.
        withhold_batches: Never post batches (a misbehaving gateway, for protocol tests: the
            attesters then post the tickets themselves).
        withhold_inputs: Serve no input to seats and publish none when challenged (a misbehaving
            gateway, for protocol tests: a data-availability challenge then voids its tickets).
        store: Content-store spec the gateway reads functions' code from, for the request
            headers the code declares (see :mod:`peerhost.wire.declarations`); None: no declared
            headers are kept (only the allow-list).
        logs_per_project: Function-log entries kept in memory per project (``/_logs``).
        project_settings_file: JSON file keeping the projects' HTTP settings (CORS) across
            restarts; None keeps them in memory only.
        schedule_min_interval: Seconds: a schedule whose runs come closer is refused (publish
            reads it from ``GET /_schedules``) and never run (default: the protocol's,
            :data:`peerhost.wire.schedule.MIN_INTERVAL_SECONDS`).
        schedule_catch_up: Seconds: a due run missed while the gateway was down still runs when
            it is at most this late.
        schedule_tick: Seconds between two heartbeats of the scheduler.
        trace_stages: Mark each ticket call's stages (monotonic timestamps: issued, signed,
            written, pushed, answered, verified, answered to the caller) and return them in the
            ``x-peerhost-trace`` response header (:mod:`peerhost.stagetrace`); a debugging and
            benchmarking aid (``bench/e2e_bench.py --trace``), off by default.
    """

    chain: ChainConfig
    private_key: str = field(repr=False)
    domain: str = "peerhost.localhost"
    public_url: str = "http://127.0.0.1:8080"
    announce: bool = False
    inbox_url: str | None = None
    max_body_bytes: int = 64 * 1024
    max_header_bytes: int = 8 * 1024
    max_result_bytes: int = 1024 * 1024
    max_head_bytes: int = 16 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections_per_client: int = 32
    max_feed_message_bytes: int = 4 * 1024 * 1024
    feed_hello_timeout: float = 10.0
    default_mode: str | None = None
    fast_timeout: float = 30.0
    verified_timeout: float = 120.0
    reward_wei: int = 0
    rate_limit: float = 50.0
    rate_burst: int = 100
    trust_forwarded_for: bool = False
    registry_cache_ttl: float = 30.0
    worker_cache_ttl: float = 10.0
    payment_cache_ttl: float = 2.0
    confirm_poll_interval: float = 0.02
    tx_timeout: float = 60.0
    data_dir: str = "~/.peerhost/gateway"
    attesters: int = 2
    ticket_life: int = 600
    batch_max_tickets: int = 256
    batch_interval: float = 0.5
    orphan_grace: float = 20.0
    admission_share: float = 0.5
    withhold_batches: bool = False
    withhold_inputs: bool = False
    store: str | None = None
    logs_per_project: int = 200
    project_settings_file: str | None = None
    schedule_min_interval: float = MIN_INTERVAL_SECONDS
    schedule_catch_up: float = 60.0
    schedule_tick: float = 0.5
    trace_stages: bool = False

    def __post_init__(self) -> None:
        if self.default_mode not in (None, "fast", "attested", "verified"):
            raise ValueError(
                f"default_mode must be fast, attested, verified or None, not {self.default_mode!r}"
            )
        if self.schedule_min_interval < 1 or self.schedule_tick <= 0:
            raise ValueError("schedule_min_interval must be >= 1 s and schedule_tick > 0")
        if self.attesters < 1:
            raise ValueError("attesters must be at least 1")
        if self.orphan_grace <= 0 or not 0 <= self.admission_share < 1:
            raise ValueError(
                "orphan_grace must be > 0 s and admission_share in [0, 1), not "
                f"{self.orphan_grace} and {self.admission_share}"
            )
        if self.batch_max_tickets < 1:
            raise ValueError(f"batch_max_tickets must be at least 1, not {self.batch_max_tickets}")
        if self.feed_hello_timeout <= 0:
            raise ValueError(f"feed_hello_timeout must be > 0 s, not {self.feed_hello_timeout}")
        object.__setattr__(self, "domain", self.domain.lower().strip("."))

    @property
    def reply_to(self) -> str:
        """The inbox base URL workers post results to (``replyTo`` of every request)."""
        return (self.inbox_url or inbox_base_url(self.public_url)).rstrip("/")

    def public_dict(self) -> dict[str, Any]:
        """Every setting except the key, JSON-ready (what the launcher hands a child process)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "private_key"}
        out["chain"] = asdict(self.chain)
        return out

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], private_key: str) -> GatewaySettings:
        """Builds settings from :meth:`public_dict`-shaped data plus the key."""
        values = dict(data)
        values.pop("private_key", None)
        chain = values.pop("chain")
        if not isinstance(chain, ChainConfig):
            chain = ChainConfig(**chain)
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown gateway settings: {', '.join(sorted(unknown))}")
        return cls(chain=chain, private_key=private_key, **values)

    @classmethod
    def from_file(cls, path: Path, private_key: str) -> GatewaySettings:
        return cls.from_mapping(json.loads(path.read_text()), private_key)


def key_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The gateway key from ``PEERHOST_GATEWAY_KEY``; raises KeyError naming the variable."""
    env = os.environ if environ is None else environ
    key = env.get(KEY_ENV, "").strip()
    if not key:
        raise KeyError(f"set {KEY_ENV} to the gateway account's private key (hex)")
    return key
