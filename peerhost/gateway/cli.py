"""``python -m peerhost.gateway``: settings from flags, the environment and files; then serve.

Precedence: a flag beats ``PEERHOST_GATEWAY_<NAME>``, which beats ``--settings FILE`` (JSON as
written by :meth:`GatewaySettings.public_dict`), which beats the defaults. The chain comes from
``--chain-config FILE`` / ``PEERHOST_CHAIN_CONFIG`` (a :class:`ChainConfig` JSON, shared with
the worker) or the settings file's ``chain``. The key comes only from ``PEERHOST_GATEWAY_KEY``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from peerhost.chain.config import ChainConfig
from peerhost.gateway.server import serve
from peerhost.gateway.settings import (
    CHAIN_CONFIG_ENV,
    ENV_PREFIX,
    KEY_ENV,
    GatewaySettings,
    key_from_env,
)
from peerhost.settings import add_flags, gather

_NOT_FLAGS = {"chain", "private_key"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m peerhost.gateway",
        description=f"Run a PeerHost gateway. The signing key is read from ${KEY_ENV}.",
    )
    parser.add_argument(
        "--chain-config", type=Path, help=f"ChainConfig JSON [env {CHAIN_CONFIG_ENV}]"
    )
    parser.add_argument("--settings", type=Path, help="settings JSON (GatewaySettings.public_dict)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--fd", type=int, help="serve on this inherited, listening socket")
    parser.add_argument("--log-level", default="info")
    add_flags(parser, GatewaySettings, ENV_PREFIX, skip=_NOT_FLAGS)
    return parser


def settings_from(
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
    *,
    chain: ChainConfig | None = None,
) -> GatewaySettings:
    """Builds the settings; raises KeyError/ValueError with a message naming what is missing.

    ``chain`` (e.g. from ape's connected provider) overrides any configured chain.
    """
    env = os.environ if environ is None else environ
    file_values = json.loads(args.settings.read_text()) if args.settings is not None else None
    values = gather(
        GatewaySettings, vars(args), env, ENV_PREFIX, file_values=file_values, skip=_NOT_FLAGS
    )
    chain_path = args.chain_config or (
        Path(env[CHAIN_CONFIG_ENV]) if env.get(CHAIN_CONFIG_ENV) else None
    )
    if chain_path is not None:
        values["chain"] = ChainConfig.load(chain_path)
    if chain is not None:
        values["chain"] = chain
    if "chain" not in values:
        raise ValueError(f"no chain: pass --chain-config FILE or set {CHAIN_CONFIG_ENV}")
    if "public_url" not in values:
        values["public_url"] = f"http://{args.host}:{args.port}"
    return GatewaySettings.from_mapping(values, key_from_env(env))


def _fast_failing_sniffio() -> None:
    """httpcore tries ``import sniffio`` on every request; when it is not installed each failed
    import searches sys.path again. A None entry in sys.modules makes the import fail at once."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def main(argv: Sequence[str] | None = None) -> int:
    _fast_failing_sniffio()
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from(args)
    except (KeyError, ValueError, OSError) as exc:
        print(f"peerhost gateway: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    serve(settings, host=args.host, port=args.port, fd=args.fd, log_level=args.log_level)
    return 0
