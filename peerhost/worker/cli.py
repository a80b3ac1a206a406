"""``python -m peerhost.worker``: run a worker node from flags and environment variables.

The chain comes from ``--chain-config PATH`` (a :class:`~peerhost.chain.ChainConfig` JSON file,
or ``$PEERHOST_CHAIN_CONFIG``); the private key from ``$PEERHOST_WORKER_KEY`` only, never argv.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hexbytes import HexBytes

from peerhost.chain import ChainConfig
from peerhost.errors import PeerHostError
from peerhost.worker import logs
from peerhost.worker.errors import InvalidWorkerSettings, MissingWorkerKey
from peerhost.worker.settings import CHAIN_CONFIG_ENV, KEY_ENV, add_arguments, parse_settings

if TYPE_CHECKING:
    from peerhost.worker.node import WorkerNode


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m peerhost.worker",
        description=f"Run a PeerHost worker node. The key is read from ${KEY_ENV}.",
    )
    parser.add_argument(
        "--chain-config",
        default=None,
        help=f"ChainConfig JSON (rpc/ws URLs, chain id, addresses) [env {CHAIN_CONFIG_ENV}]",
    )
    add_arguments(parser)
    return parser


def read_key(environ: Mapping[str, str]) -> bytes:
    """The worker key from the environment; raises MissingWorkerKey."""
    raw = environ.get(KEY_ENV, "").strip()
    if not raw:
        raise MissingWorkerKey(KEY_ENV)
    try:
        key = bytes(HexBytes(raw))
    except ValueError as exc:
        raise InvalidWorkerSettings(KEY_ENV, "not a hex private key") from exc
    if len(key) != 32:
        raise InvalidWorkerSettings(KEY_ENV, "not a 32-byte private key")
    return key


def _fast_failing_sniffio() -> None:
    """httpcore imports ``sniffio`` on every request; when it is not installed, each failed import
    scans sys.path (about 0.5 ms per RPC call). Caching the miss makes the import fail at once."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    node_type: type[WorkerNode] | None = None,
) -> int:
    """Runs a node (a ``node_type``, default :class:`WorkerNode`); returns the exit status."""
    env = os.environ if environ is None else environ
    _fast_failing_sniffio()
    ns = build_parser().parse_args(argv)
    try:
        settings = parse_settings(vars(ns), env)
        logs.configure(settings.log_format, settings.log_level)
        path = ns.chain_config or env.get(CHAIN_CONFIG_ENV)
        if not path:
            raise InvalidWorkerSettings("--chain-config", f"give a path or set {CHAIN_CONFIG_ENV}")
        chain = ChainConfig.load(Path(path).expanduser())
        key = read_key(env)
    except (PeerHostError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from peerhost.worker.node import WorkerNode, run_node  # the sandbox loads only to run
    from peerhost.worker.strategies import check_strategy

    try:
        check_strategy(settings.strategy, settings.cartel)
    except InvalidWorkerSettings as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        run_node(chain, key, settings, node_type or WorkerNode)
    except PeerHostError as exc:
        logs.error("fatal", error=str(exc))
        return 1
    return 0
