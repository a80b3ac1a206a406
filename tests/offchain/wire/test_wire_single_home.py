"""One definition of each wire format: no copy outside ``peerhost.wire``.

The package, the benchmarks and the ape scripts name a PeerHost header only through
:mod:`peerhost.wire.headers`, and compute ids, commitments and result hashes only through
:mod:`peerhost.wire` (the copies these checks catch are the ones the project once had).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from peerhost.wire import headers

ROOT = Path(__file__).resolve().parents[3]
WIRE = ROOT / "peerhost" / "wire"
CODE = ("peerhost", "bench", "scripts")
#: Module-level functions that only peerhost.wire may define: each is one wire format.
WIRE_FUNCTIONS = frozenset(
    {"result_hash", "commitment", "function_id_of", "project_id_of", "request_id_of"}
)


def _sources(roots: tuple[str, ...] = CODE) -> Iterator[tuple[Path, ast.Module]]:
    for root in roots:
        for path in sorted((ROOT / root).rglob("*.py")):
            if WIRE not in path.parents:
                yield path, ast.parse(path.read_text(), str(path))


def header_literals(tree: ast.Module) -> list[tuple[int, str]]:
    """String constants naming a PeerHost header, docstrings and bare strings aside."""
    bare = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    return [
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and headers.HEADER_PREFIX in n.value.lower()
        and id(n) not in bare
    ]


def wire_function_copies(tree: ast.Module) -> list[tuple[int, str]]:
    return [
        (n.lineno, n.name)
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name in WIRE_FUNCTIONS
    ]


def test_header_literals__outside_wire__none() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path, tree in _sources()
        for line, text in header_literals(tree)
    ]
    assert found == [], "name these headers through peerhost.wire.headers"


def test_wire_functions__outside_wire__none() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: def {name}"
        for path, tree in _sources()
        for line, name in wire_function_copies(tree)
    ]
    assert found == [], "import these from peerhost.wire"


def test_header_names__wire__each_defined_once() -> None:
    values = [v for k, v in vars(headers).items() if k.endswith("_HEADER")]
    assert len(values) == len(set(values))
    assert all(v.startswith(headers.HEADER_PREFIX) and v == v.lower() for v in values)


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('EXPOSED = ("x-peerhost-mode",)', [(1, "x-peerhost-mode")]),
        ('H = {"X-PeerHost-Worker": w}', [(1, "X-PeerHost-Worker")]),
        ('"""Sends x-peerhost-mode."""\nH = MODE_HEADER', []),
        ('f"{MODE_HEADER}: fast"', []),
    ],
    ids=["constant", "mixed-case", "docstring", "through-the-constant"],
)
def test_header_literals__probe__finds_literals_only(
    source: str, found: list[tuple[int, str]]
) -> None:
    assert header_literals(ast.parse(source)) == found


def test_wire_functions__probe__finds_module_level_copies_only() -> None:
    source = (
        "def commitment(): ...\n"
        "class RunResult:\n"
        "    def result_hash(self): ...\n"
        "async def request_id_of(): ...\n"
    )
    assert wire_function_copies(ast.parse(source)) == [(1, "commitment"), (4, "request_id_of")]
