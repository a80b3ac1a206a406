"""Contract ABIs as plain dicts, without loading ape.

The hot path (worker, gateway) uses web3.py directly, so it needs the ABIs without ape. They are
read from the first of these that names the contract:

1. ``manifest`` when given, else ``$PEERHOST_ABIS`` (an ape build manifest,
   ``.build/__local__.json``);
2. the build manifest of the source checkout this module runs from, when ``ape compile`` wrote
   one (so a contract changed in the tree is used at once);
3. ``abis.json`` shipped in the package (an installed wheel has only this). After changing a
   contract, refresh it with ``ape compile && python -m peerhost.chain.export_abis`` (a test fails while
   it differs from the compiled contracts).

The interfaces' ABIs are enough to talk to the implementations.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from peerhost.chain.errors import BuildArtifactsMissing

ABIS_ENV = "PEERHOST_ABIS"
PACKAGED = Path(__file__).resolve().parent / "abis.json"
#: The build manifest of a source checkout (absent in an installed package).
DEFAULT_MANIFEST = Path(__file__).resolve().parents[2] / ".build" / "__local__.json"

ABI = list[dict[str, Any]]


@lru_cache(maxsize=8)
def _manifest(path: str) -> dict[str, ABI]:
    """``{contract name: abi}`` of a build manifest."""
    p = Path(path)
    if not p.exists():
        raise BuildArtifactsMissing(path)
    data: dict[str, Any] = json.loads(p.read_text())
    return {name: t["abi"] for name, t in data.get("contractTypes", {}).items()}


@lru_cache(maxsize=1)
def _packaged() -> dict[str, ABI]:
    data: dict[str, ABI] = json.loads(PACKAGED.read_text())
    return data


def _sources(manifest: Path | None) -> list[dict[str, ABI]]:
    configured = manifest or os.environ.get(ABIS_ENV)
    if configured:
        return [_manifest(str(configured)), _packaged()]
    if DEFAULT_MANIFEST.exists():
        return [_manifest(str(DEFAULT_MANIFEST)), _packaged()]
    return [_packaged()]


def load_abi(name: str, manifest: Path | None = None) -> ABI:
    """The ABI of contract ``name`` (implementation, else its ``I``-prefixed interface)."""
    for source in _sources(manifest):
        for candidate in (name, f"I{name}"):
            if candidate in source:
                return source[candidate]
    raise BuildArtifactsMissing(f"{manifest or PACKAGED} (contract {name})")


def compiled_abis(manifest: Path = DEFAULT_MANIFEST) -> dict[str, ABI]:
    """The ABIs worth shipping from a build manifest: every contract outside
    ``contracts/test/`` with a non-empty ABI, by name."""
    data: dict[str, Any] = json.loads(Path(manifest).read_text())
    return {
        name: t["abi"]
        for name, t in sorted(data.get("contractTypes", {}).items())
        if t["abi"] and not str(t.get("sourceId", "")).startswith("contracts/test/")
    }


def export(manifest: Path = DEFAULT_MANIFEST, target: Path = PACKAGED) -> Path:
    """Writes :func:`compiled_abis` to the package's ``abis.json``."""
    if not Path(manifest).exists():
        raise BuildArtifactsMissing(str(manifest))
    target.write_text(json.dumps(compiled_abis(manifest), indent=1, sort_keys=True) + "\n")
    return target
