"""The worker's settings: read once from flags or ``PEERHOST_WORKER_*`` variables, then passed down.

Built by :mod:`peerhost.settings` (the builder the gateway uses too).

Every setting has a flag (``--concurrency 8``) and an environment variable
(``PEERHOST_WORKER_CONCURRENCY=8``); a flag wins over the variable, the variable over the
default. The defaults work against a local devnet. The private key is not a setting: it is read
from ``PEERHOST_WORKER_KEY`` only (see :mod:`peerhost.worker.cli`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from peerhost.settings import Settings, add_flags, gather, to_flags
from peerhost.worker.errors import InvalidWorkerSettings

ENV_PREFIX = "PEERHOST_WORKER_"
KEY_ENV = "PEERHOST_WORKER_KEY"
CHAIN_CONFIG_ENV = "PEERHOST_CHAIN_CONFIG"


@dataclass(frozen=True)
class WorkerSettings(Settings):
    """How one worker node runs.

    Attributes:
        data_dir: State directory: ``state.sqlite3`` (jobs, salts, cursor, counters),
            ``x25519.key``, ``code/`` (code cache), ``sandbox/`` (compiled modules).
        store: Content-store spec where code and large inputs are fetched from.
        code_cache_bytes: Bound of the local code cache kept in front of ``store``.
        sandbox_cache: Where compiled modules are cached (default: ``data_dir/sandbox``);
            several workers on one machine may share it.
        rpc_url: HTTP JSON-RPC endpoint (default: the chain config's).
        ws_url: WebSocket endpoint (default: the chain config's).
        reply_to: Post outputs to this inbox base URL instead of the job's ``replyTo``.
        concurrency: Jobs fetched and run at the same time.
        sandbox_processes: Sandbox worker processes (0: run in threads of this process).
        confirmations: Blocks a request must be buried under before it is run (0: at once),
            and a gateway's announcement before it is served (discovery follows reorgs anyway).
        start_block: First block to read on a fresh state (default: the head).
        stake: Register with this stake (wei) if the account is not an active worker.
        metrics_host: Address of the metrics endpoint.
        metrics_port: Port of the metrics endpoint (0: any free port; see the ready file).
        withdraw_interval: Seconds between checks of the pending balance.
        withdraw_min: Withdraw when at least this much (wei) is pending.
        finalize_delay: Seconds each commit index waits before finalizing, so that the
            earliest committer finalizes and the others rarely race it.
        shutdown_timeout: Seconds a graceful shutdown waits for reveals in flight.
        post_retries: Attempts to reach a result inbox that cannot be connected to.
        wall_clock_seconds: Sandbox backstop per run; a run stopped by it is not committed.
        log_format: ``json`` or ``kv`` (key=value), one line per event.
        log_level: ``debug``, ``info``, ``warning`` or ``error``.
        ready_file: Written (JSON: pid, address, metrics_url) once the node is caught up.
        gateways: Gateways whose job feed this worker serves (comma-separated base URLs); needs
            the settlement contracts in the chain config.
        discover: Also serve the gateways announced on-chain (``GatewayEndpoint`` events of the
            GatewayRegistry): a feed is opened to each gateway holding the minimum bond and
            closed when its bond falls below it or it withdraws its URL; a URL that is not
            ``http(s)://host[:port]`` is logged and skipped. Configured ``gateways`` are served
            either way. Needs the settlement contracts in the chain config.
        discovery_interval: Seconds between checks of announcements and bonds.
        clock_skew: Seconds a ticket's ``issuedAt`` may differ from this worker's clock.
        mine_blocks: 1 to mine the blocks a batch's seed needs (devnets that mine only when
            transactions arrive); 0 on real chains.
        orphan_grace: Seconds after ``issuedAt`` when an attested ticket no batch carried is
            posted by this worker (the gateway withheld it); after an outage of the chain, also
            seconds after the chain answered again (the gateway could not post either).
        challenges: Challenge a finalized leaf whose result contradicts this worker's (what it
            revealed as a seat, or attested), bonding the court's ``challengeBond`` (returned,
            with a share of the slashes, when the next tier overturns the leaf).
        strategy: ``honest`` (the production worker), or a deviating behaviour for the protocol
            lab's devnets: ``lazy``, ``forger``, ``griefer``, ``random-liar``, ``no-show``,
            ``withholder``, ``captured-committee``, ``spam-challenger``, ``self-dealing``
            (:mod:`peerhost.worker.strategies`, docs/economics.md).
        cartel: The owner's worker addresses (comma-separated) a ``withholder``,
            ``captured-committee`` or ``self-dealing`` worker coordinates with (they need it).
        standin_takeover: Seconds the primary gateway of a project whose schedule key is sealed
            to this worker (a key file in ``<data_dir>/schedule-keys/``) must be unreachable, and
            a due time late, before this worker issues the run itself (docs/schedules.md); 0
            never stands in.
        prewarm: Follow the FunctionRegistry's ``FunctionPublished`` events and fetch and compile
            each new version's code before its first call (bounded: one at a time, a queue of 32,
            code above the sandbox's cap or that fails to compile refused once); off, the first
            call fetches and compiles.
        trace_stages: Mark each feed ticket's stages (monotonic timestamps: received, checked,
            run, attested, sent) and serve the last ones at ``/trace.json`` on the metrics
            endpoint (:mod:`peerhost.stagetrace`); a debugging and benchmarking aid
            (``bench/e2e_bench.py --trace``), off by default.
    """

    data_dir: Path = field(default_factory=lambda: Path("~/.peerhost/worker").expanduser())
    store: str = "local:~/.peerhost/store"
    code_cache_bytes: int = 256 * 2**20
    sandbox_cache: Path | None = None
    rpc_url: str | None = None
    ws_url: str | None = None
    reply_to: str | None = None
    concurrency: int = 4
    sandbox_processes: int = 2
    confirmations: int = 0
    start_block: int | None = None
    stake: int | None = None
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464
    withdraw_interval: float = 30.0
    withdraw_min: int = 0
    finalize_delay: float = 0.5
    shutdown_timeout: float = 60.0
    post_retries: int = 3
    wall_clock_seconds: float = 10.0
    log_format: str = "json"
    log_level: str = "info"
    ready_file: Path | None = None
    gateways: str = ""
    discover: bool = False
    discovery_interval: float = 5.0
    clock_skew: int = 30
    mine_blocks: int = 0
    orphan_grace: float = 20.0
    challenges: bool = True
    strategy: str = "honest"
    cartel: str = ""
    standin_takeover: float = 10.0
    prewarm: bool = True
    trace_stages: bool = False

    @property
    def gateway_urls(self) -> list[str]:
        return [u.strip() for u in self.gateways.split(",") if u.strip()]

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise InvalidWorkerSettings("concurrency", "must be at least 1")
        if self.sandbox_processes < 0:
            raise InvalidWorkerSettings("sandbox_processes", "must be 0 or more")
        if self.confirmations < 0:
            raise InvalidWorkerSettings("confirmations", "must be 0 or more")
        if self.log_format not in ("json", "kv"):
            raise InvalidWorkerSettings("log_format", "use json or kv")
        if self.log_level not in ("debug", "info", "warning", "error"):
            raise InvalidWorkerSettings("log_level", "use debug, info, warning or error")
        if self.discovery_interval <= 0:
            raise InvalidWorkerSettings("discovery_interval", "must be more than 0")
        if not 0 <= self.metrics_port < 65536:
            raise InvalidWorkerSettings("metrics_port", "must be a port number")

    @property
    def state_path(self) -> Path:
        return self.data_dir / "state.sqlite3"

    @property
    def encryption_key_path(self) -> Path:
        return self.data_dir / "x25519.key"

    @property
    def sandbox_cache_dir(self) -> Path:
        return self.sandbox_cache or self.data_dir / "sandbox"

    def store_spec(self) -> str:
        """The store spec with the bounded local code cache in front of it."""
        cache = f"local:{self.data_dir / 'code'}?max_bytes={self.code_cache_bytes}"
        return f"{cache},{self.store}"

    def to_args(self) -> list[str]:
        """Flags that make :func:`parse_settings` rebuild these settings (used by the launcher)."""
        return to_flags(self)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds one flag per setting (defaults resolved later, so the environment can fill gaps)."""
    add_flags(parser, WorkerSettings, ENV_PREFIX)


def parse_settings(
    values: Mapping[str, str | None], environ: Mapping[str, str] | None = None
) -> WorkerSettings:
    """Builds settings from parsed flag values (strings or None), then the environment.

    Raises:
        InvalidWorkerSettings: a value does not parse.
    """
    env = os.environ if environ is None else environ
    return WorkerSettings(
        **gather(WorkerSettings, values, env, ENV_PREFIX, invalid=InvalidWorkerSettings)
    )


def settings_from_argv(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> WorkerSettings:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    ns, _ = parser.parse_known_args(argv)
    return parse_settings(vars(ns), environ)
