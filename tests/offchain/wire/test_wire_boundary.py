"""The wire package stands alone: no execution engine and no chain client behind it."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import peerhost.wire

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


def _loaded_after(module: str, package: str) -> set[str]:
    """``package`` if ``import module`` loads it (or one of its modules) in a fresh interpreter."""
    code = (
        f"import sys, {module}; "
        f"print(any(m == {package!r} or m.startswith({package + '.'!r}) for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return {package} if out.stdout.strip() == "True" else set()


WIRE_MODULES = sorted(
    f"peerhost.wire.{info.name}" for info in pkgutil.iter_modules(peerhost.wire.__path__)
)


def test_wire_modules__listed__every_file_of_the_package() -> None:
    # the parametrization below must not silently shrink: every module of the package is in it
    files = {p.stem for p in Path(peerhost.wire.__file__).parent.glob("*.py")} - {"__init__"}
    assert {m.rsplit(".", 1)[1] for m in WIRE_MODULES} == files


@pytest.mark.parametrize(
    "module", ["peerhost.wire", ",".join(WIRE_MODULES)], ids=["package", "every-module"]
)
def test_import_wire__fresh_interpreter__no_wasmtime_ape_or_web3(module: str) -> None:
    assert _imported_after(module) == set()


# The gateway answers HTTP without running functions. (The console may load the engine: publishing
# runs its checks in the local sandbox.)
@pytest.mark.parametrize("module", ["peerhost.gateway.app", "peerhost.gateway"])
def test_import_http_side__fresh_interpreter__no_wasmtime(module: str) -> None:
    loaded = _imported_after(module)
    assert "wasmtime" not in loaded, f"{module} pulls in the sandbox's engine"


@pytest.mark.parametrize("module", ["peerhost.gateway.app", "peerhost.gateway"])
def test_import_http_side__fresh_interpreter__no_sandbox_package(module: str) -> None:
    assert _loaded_after(module, "peerhost.sandbox") == set(), f"{module} loads peerhost.sandbox"


def test_probe__sandbox_package__detected() -> None:
    assert _loaded_after("peerhost.sandbox.request", "peerhost.sandbox") == {"peerhost.sandbox"}


def test_probe__sandbox_import__detects_wasmtime() -> None:
    # The probe itself can fail: the sandbox's engine loads wasmtime (the package imports lazily).
    assert "wasmtime" in _imported_after("peerhost.sandbox.engine")
