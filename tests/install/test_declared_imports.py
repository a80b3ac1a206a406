"""Every third-party package the ``peerhost`` package imports is declared in pyproject.toml
(``dependencies``, or an extra other than ``dev`` for an optional part), with a range."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _top_level_imports() -> dict[str, str]:
    """Top-level module -> one file importing it (absolute imports only)."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "peerhost").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_imports__every_third_party_import__declared_with_a_range_in_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra, listed in project.get("optional-dependencies", {}).items():
        if extra != "dev":  # dev tools are exact pins, never needed by the package
            specs += listed
    declared: dict[str, str] = {}
    for spec in specs:
        name = re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0]
        declared[_normal(name)] = spec
    distributions = packages_distributions()
    stdlib = set(sys.stdlib_module_names) | {"__future__", "peerhost"}
    missing, pinned = [], []
    for module, where in sorted(_top_level_imports().items()):
        if module in stdlib:
            continue
        names = [_normal(d) for d in distributions.get(module, [])]
        spec = next((declared[n] for n in names if n in declared), None)
        if spec is None:
            missing.append(f"{module} ({where}; distribution {names or 'unknown'})")
        elif "==" in spec or not re.search(r"[<>~]", spec):
            pinned.append(spec)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
    assert not pinned, f"declared without a compatible range (pins go to constraints.txt): {pinned}"
