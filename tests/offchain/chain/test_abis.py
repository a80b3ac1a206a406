"""The ABIs shipped in the package are the compiled contracts' (an installed wheel has only them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peerhost.chain.abis import DEFAULT_MANIFEST, PACKAGED, compiled_abis, load_abi
from peerhost.chain.errors import BuildArtifactsMissing


def test_packaged_abis__equal_the_compiled_contracts() -> None:
    assert DEFAULT_MANIFEST.exists(), "run `ape compile` first"
    packaged = json.loads(PACKAGED.read_text())
    compiled = compiled_abis(DEFAULT_MANIFEST)
    stale = sorted(
        n for n in compiled.keys() | packaged.keys() if compiled.get(n) != packaged.get(n)
    )
    assert not stale, (
        f"peerhost/chain/abis.json differs from the compiled contracts for {stale}: "
        "run `ape compile && python -m peerhost.chain.export_abis` and commit it"
    )
    assert "MockCoordinator" not in packaged  # test contracts are not shipped


def test_load_abi__given_manifest__wins_then_falls_back_to_packaged(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    only = [{"type": "function", "name": "only", "inputs": [], "outputs": []}]
    manifest.write_text(json.dumps({"contractTypes": {"IWorkerRegistry": {"abi": only}}}))
    assert load_abi("WorkerRegistry", manifest) == only
    packaged = json.loads(PACKAGED.read_text())["FunctionRegistry"]
    assert load_abi("FunctionRegistry", manifest) == packaged
    with pytest.raises(BuildArtifactsMissing, match="NoSuchContract"):
        load_abi("NoSuchContract", manifest)
