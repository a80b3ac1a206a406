"""One definition of each wire format: no copy outside ``peerhost.wire``.

The package, the benchmarks and the ape scripts name a PeerHost header only through
:mod:`peerhost.wire.headers`, and compute ids, commitments, input hashes and result hashes only
through :mod:`peerhost.wire` (the copies these checks catch are the ones the project once had).
The gateway and the worker hash nothing themselves: every hash they compute is a wire format.
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
    {
        "result_hash",
        "commitment",
        "function_id_of",
        "input_hash_of",
        "project_id_of",
        "request_id_of",
        # the secrets bundle: its JSON variant, shares and EIP-712 messages
        "bundle_json",
        "canonical_json",
        "encode_share",
        "decode_share",
        "bundle_message",
        "vault_key_message",
        "secrets_domain",
    }
)
#: Names an input hash goes by (a variable, an attribute, a keyword, an ABI field).
INPUT_HASH_NAMES = frozenset({"input_hash", "inputHash"})
#: The services: they call no hash function of their own.
SERVICES = ("peerhost/gateway", "peerhost/worker")


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


#: The hash functions' names: eth_utils', peerhost.wire.keccak's and pysha3's.
KECCAK_NAMES = frozenset({"keccak", "keccak256", "keccak_256"})


def _is_keccak(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id in KECCAK_NAMES)
        or (isinstance(node.func, ast.Attribute) and node.func.attr in KECCAK_NAMES)
    )


def _names_input_hash(node: ast.AST) -> bool:
    return (
        (isinstance(node, ast.Name) and node.id in INPUT_HASH_NAMES)
        or (isinstance(node, ast.Attribute) and node.attr in INPUT_HASH_NAMES)
        or (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and node.slice.value in INPUT_HASH_NAMES
        )
    )


def keccak_calls(tree: ast.Module) -> list[int]:
    """Lines calling a keccak (``eth_utils.keccak``, ``wire.keccak.keccak256``, ``sha3.keccak_256``,
    any ``x.keccak``)."""
    return sorted(n.lineno for n in ast.walk(tree) if _is_keccak(n))


def input_hash_copies(tree: ast.Module) -> list[int]:
    """Lines hashing an input inline: a keccak given, compared with or stored as an input hash."""
    found: set[int] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.keyword) and n.arg in INPUT_HASH_NAMES and _is_keccak(n.value):
            found.add(n.value.lineno)
        elif isinstance(n, ast.Compare):
            sides = [n.left, *n.comparators]
            if any(map(_is_keccak, sides)) and any(map(_names_input_hash, sides)):
                found.add(n.lineno)
        elif isinstance(n, ast.Assign | ast.AnnAssign) and n.value is not None:
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            if _is_keccak(n.value) and any(map(_names_input_hash, targets)):
                found.add(n.lineno)
        elif isinstance(n, ast.Dict):
            for key, value in zip(n.keys, n.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value in INPUT_HASH_NAMES
                    and _is_keccak(value)
                ):
                    found.add(value.lineno)
    return sorted(found)


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


def test_input_hash__outside_wire__never_inline() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path, tree in _sources()
        for line in input_hash_copies(tree)
    ]
    assert found == [], "hash an input with peerhost.wire.input_hash_of"


def test_services__keccak__never_called_directly() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path, tree in _sources(SERVICES)
        for line in keccak_calls(tree)
    ]
    assert found == [], "a hash the gateway or worker computes is a wire format: use peerhost.wire"


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


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("Ticket(input_hash=keccak(data))", [1]),
        ("if keccak(data) != job.input_hash: ...", [1]),
        ("ok = leaves[i].input_hash == eth_utils.keccak(d)", [1]),
        ("input_hash = keccak(body)", [1]),
        ('doc = {"inputHash": keccak(data)}', [1]),
        ('ok = keccak(data) == t["inputHash"]', [1]),
        ("Ticket(input_hash=input_hash_of(data))", []),
        ("if input_hash_of(data) != job.input_hash: ...", []),
        ("salt = keccak(b'lab-salt')", []),
        ("if keccak256(data) != job.input_hash: ...", [1]),
    ],
    ids=[
        "keyword",
        "compared",
        "compared-reversed",
        "assigned",
        "abi-field",
        "subscript",
        "through-wire",
        "compared-through-wire",
        "other-hash",
        "compared-keccak256",
    ],
)
def test_input_hash_copies__probe__finds_inline_hashes(source: str, found: list[int]) -> None:
    assert input_hash_copies(ast.parse(source)) == found


def test_keccak_calls__probe__finds_every_call() -> None:
    source = (
        "from eth_utils import keccak\n"
        "h = keccak(b'x')\n"
        "k = eth_utils.keccak(text='y')\n"
        "r = keccak256(raw)\n"
        "s = wire.keccak.keccak256(raw)\n"
        "t = keccak_256(raw)\n"
    )
    assert keccak_calls(ast.parse(source)) == [2, 3, 4, 5, 6]
