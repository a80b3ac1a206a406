"""No import loop between peerhost's packages, counting imports inside functions and entry points.

An import hidden in a function body still ties the two packages together, so the graph here is
read from every ``import`` statement in the source (the AST), not from what happens to load first.
A package's entry point (its ``__main__``) is part of the package: what it imports, the package
depends on (``peerhost-sandbox`` bundling through publishing once made sandbox and publishing
depend on each other).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import peerhost

PACKAGE = Path(peerhost.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Every module named by an import anywhere in ``tree`` (relative imports resolved)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                here = here[: len(here) - node.level + 1]
                base = ".".join([*here, base] if base else here)
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def module_graph() -> dict[str, set[str]]:
    """``peerhost`` module → the ``peerhost`` modules it imports anywhere in its source.

    Entry points (``__main__`` modules) are in it: nothing imports them, so they close no loop
    between modules, but they are their package's dependencies in :func:`package_graph`.
    """
    sources = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in sources.items():
        tree = ast.parse(path.read_text(), str(path))
        named = imports_of(tree, module, path.name == "__init__.py")
        graph[module] = {m for m in named if m in sources and m != module}
    return graph


def package_graph(graph: Mapping[str, Iterable[str]], depth: int = 2) -> dict[str, set[str]]:
    """The graph between packages ``depth`` names deep (``peerhost.worker``, ``peerhost.deploy``)."""

    def top(module: str) -> str:
        return ".".join(module.split(".")[:depth])

    out: dict[str, set[str]] = {}
    for module, targets in graph.items():
        out.setdefault(top(module), set()).update(top(t) for t in targets if top(t) != top(module))
    return out


def reaches(graph: Mapping[str, Iterable[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


def loops_through(graph: Mapping[str, Iterable[str]], node: str) -> set[str]:
    """The nodes on a loop back to ``node`` (empty when there is none)."""
    return {n for n in reaches(graph, node) if node in reaches(graph, n)}


#: Package loops known and not yet broken: each must still exist (drop it here once it is gone).
#: None is left: the dashboard, which the gateway's app mounts and which reads the gateway's
#: service and parsers, is a part of the gateway package.
KNOWN_LOOPS: tuple[frozenset[str], ...] = ()


def test_packages__every_import_and_entry_point_counted__no_loop_but_the_known() -> None:
    packages = package_graph(module_graph())
    found = {frozenset(loops_through(packages, name)) for name in packages} - {frozenset()}
    assert found - set(KNOWN_LOOPS) == set()


def test_known_loops__still_there__listed_for_a_reason() -> None:
    packages = package_graph(module_graph())
    for loop in KNOWN_LOOPS:
        assert loops_through(packages, min(loop)) == loop, "a known loop is gone: drop it"


def test_sandbox_and_publishing__every_import_counted__bundler_below_both() -> None:
    packages = package_graph(module_graph())
    assert "peerhost.publishing" not in reaches(packages, "peerhost.sandbox")
    assert "peerhost.jsbundle" in packages["peerhost.sandbox"]
    assert "peerhost.jsbundle" in packages["peerhost.publishing"]
    assert reaches(packages, "peerhost.jsbundle") <= {"peerhost.errors"}


def test_module_graph__entry_point__counted_as_its_package() -> None:
    modules = module_graph()
    assert "peerhost.jsbundle" in modules["peerhost.sandbox.__main__"]
    source = {
        "pkg.a.__main__": "def main():\n    from pkg.b.tool import run\n",
        "pkg.a.core": "",
        "pkg.b.tool": "from pkg.a.core import thing\n",
    }
    graph = {m: imports_of(ast.parse(s), m, False) & set(source) for m, s in source.items()}
    assert loops_through(graph, "pkg.a.__main__") == set()  # no module loop...
    assert loops_through(package_graph(graph), "pkg.a") == {"pkg.a", "pkg.b"}  # ...a package one


def test_tool_packages__every_import_counted__no_loop_through_them() -> None:
    # worker → secrets → publishing/devnet → worker was one; no such loop may come back
    packages = package_graph(module_graph())
    for name in ("worker", "secrets", "publishing", "devnet", "deploy", "deployments", "console"):
        assert loops_through(packages, f"peerhost.{name}") == set(), f"peerhost.{name}"


def test_devnet_errors__every_import_counted__not_in_a_loop_with_processes() -> None:
    modules = module_graph()
    assert loops_through(modules, "peerhost.devnet.errors") == set()
    assert "peerhost.devnet.errors" in reaches(modules, "peerhost.devnet.processes")


def test_loops_through__function_level_import__found() -> None:
    source = {
        "pkg.a": "from pkg.b import thing\n",
        "pkg.b": "def later():\n    from pkg.c import other\n",
        "pkg.c": "import pkg.a\n",
    }
    graph = {m: imports_of(ast.parse(s), m, False) & set(source) for m, s in source.items()}
    assert loops_through(graph, "pkg.a") == {"pkg.a", "pkg.b", "pkg.c"}
    del graph["pkg.c"]
    assert loops_through(graph, "pkg.a") == set()
