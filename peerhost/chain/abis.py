"""Contract ABIs as plain dicts, read from ape's build manifest.

The hot path (worker, gateway) uses web3.py directly, so it needs the ABIs without
loading ape. ``ape compile`` writes them to ``.build/__local__.json``; the interfaces'
ABIs are enough to talk to the implementations.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from peerhost.chain.errors import BuildArtifactsMissing

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MANIFEST = PROJECT_ROOT / ".build" / "__local__.json"

ABI = list[dict[str, Any]]


@lru_cache(maxsize=8)
def _manifest(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise BuildArtifactsMissing(path)
    data: dict[str, Any] = json.loads(p.read_text())
    return data


def load_abi(name: str, manifest: Path = DEFAULT_MANIFEST) -> ABI:
    """The ABI of contract ``name`` (implementation, else its ``I``-prefixed interface)."""
    types = _manifest(str(manifest)).get("contractTypes", {})
    for candidate in (name, f"I{name}"):
        if candidate in types:
            abi: ABI = types[candidate]["abi"]
            return abi
    raise BuildArtifactsMissing(f"{manifest} (contract {name})")
