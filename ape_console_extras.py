"""``ape console`` extras: a ready ``peerhost`` namespace (see docs/console.md) and the protocol
lab as ``lab`` (docs/economics.md)."""

from __future__ import annotations

from typing import Any


def ape_init_extras(accounts: Any, project: Any, networks: Any, chain: Any) -> dict[str, Any]:
    from peerhost.console import open_console
    from peerhost.errors import PeerHostError
    from peerhost.lab.console import Lab

    extras: dict[str, Any] = {"lab": Lab(project, chain, accounts)}
    try:
        extras["peerhost"] = open_console(project, chain)
    except PeerHostError as exc:
        print(f"peerhost: {exc}")
    return extras
