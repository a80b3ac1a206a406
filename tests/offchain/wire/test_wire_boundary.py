"""The wire package stands alone: no execution engine and no chain client behind it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("wasmtime", "ape", "web3")


def _imported_after(module: str) -> set[str]:
    """Top-level packages among ``HEAVY`` that ``import module`` loads in a fresh interpreter."""
    code = (
        f"import json, sys, {module}; "
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(out.stdout))


@pytest.mark.parametrize(
    "module", ["peerhost.wire", "peerhost.wire.credentials", "peerhost.wire.declarations"]
)
def test_import_wire__fresh_interpreter__no_wasmtime_ape_or_web3(module: str) -> None:
    assert _imported_after(module) == set()


# The gateway answers HTTP without running functions. (The console may load the engine: publishing
# runs its checks in the local sandbox.)
@pytest.mark.parametrize("module", ["peerhost.gateway.app", "peerhost.gateway"])
def test_import_http_side__fresh_interpreter__no_wasmtime(module: str) -> None:
    loaded = _imported_after(module)
    assert "wasmtime" not in loaded, f"{module} pulls in the sandbox's engine"


def test_probe__sandbox_import__detects_wasmtime() -> None:
    # The probe itself can fail: the sandbox does load wasmtime.
    assert "wasmtime" in _imported_after("peerhost.sandbox")
