"""The publish checks of a Python function: the file compiles, defines ``handler`` and imports
no module the runtime refuses.

It runs on the publisher's machine with its own CPython (3.11 or newer): the
runtime is CPython 3.12, so a file using syntax new in 3.12 (``type`` aliases,
generic ``def f[T]``) is refused here even though the runtime would run it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from peerhost.publishing.errors import InvalidCode
from peerhost.sandbox.python_engine import FORBIDDEN_MODULES, UNBUILT_MODULES

HANDLER = "handler"
#: What to do instead of importing a refused module, by the reason the runtime gives.
_INSTEAD = {
    "there is no network": "a function cannot open connections; take the data in the request "
    "and answer in the response",
    "there are no processes": "do the work in the function itself (pure Python)",
    "there are no threads": "do the work sequentially in the handler",
    "there is no event loop (async def handler runs without one)": "write `async def handler` "
    "and await coroutines directly; the runtime drives them without an event loop",
}
#: Exceptions whose handler makes an import optional (``try: import x`` / ``except ImportError:``).
_IMPORT_FALLBACKS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


class PythonRefused(InvalidCode):
    """A Python function breaks a publish rule (``python-compiles``, ``python-handler`` or
    ``python-imports``)."""

    def __init__(self, path: Path, rule: str, reason: str) -> None:
        self.rule = rule
        self.reason = reason
        super().__init__(path, reason)


def check_python_source(path: Path, data: bytes) -> None:
    """Raises PythonRefused (an InvalidCode) unless ``data`` is UTF-8 Python defining ``handler``
    at top level and importing no module the runtime refuses."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PythonRefused(
            path, "python-compiles", f"Python source must be UTF-8 (byte {exc.start} is not)"
        ) from exc
    try:
        tree = ast.parse(text, filename=path.name)
        compile(tree, path.name, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise PythonRefused(
            path,
            "python-compiles",
            f"does not compile: {exc.msg} (line {exc.lineno}, column {exc.offset})",
        ) from exc
    if not _defines_handler(tree.body):
        raise PythonRefused(
            path,
            "python-handler",
            "defines no top-level `handler`: add `def handler(req):` (or `async def`) "
            "returning {'status': ..., 'headers': ..., 'body': ...}",
        )
    refused = _RefusedImports()
    refused.visit(tree)
    if refused.found:
        line, module = min(refused.found)
        raise PythonRefused(path, "python-imports", _import_reason(line, module))


def _import_reason(line: int, module: str) -> str:
    top = module.partition(".")[0]
    if top in UNBUILT_MODULES:
        why, instead = UNBUILT_MODULES[top], "use pure Python or the standard library"
    else:
        why = FORBIDDEN_MODULES[top]
        instead = _INSTEAD.get(why, "remove the import")
    return (
        f"line {line} imports `{module}`, which PeerHost functions cannot use ({why}; the "
        f"runtime refuses it with ImportError): {instead}"
    )


class _RefusedImports(ast.NodeVisitor):
    """Collects ``(line, module)`` of every ``import``/``from ... import`` of a refused module,
    at any depth, except where the import cannot fail the function: inside a ``try`` whose
    handler catches ``ImportError`` (an optional import), or under ``if TYPE_CHECKING:``."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []

    def _note(self, node: ast.stmt, module: str) -> None:
        top = module.partition(".")[0]
        if top in FORBIDDEN_MODULES or top in UNBUILT_MODULES:
            self.found.append((node.lineno, module))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._note(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._note(node, node.module)

    def visit_Try(self, node: ast.Try) -> None:
        optional = any(_catches_import_error(h) for h in node.handlers)
        for child in (node.body if not optional else []) + node.orelse + node.finalbody:
            self.visit(child)
        for handler in node.handlers:
            self.visit(handler)

    visit_TryStar = visit_Try  # type: ignore[assignment]

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            for child in node.body:
                self.visit(child)
        self.visit(node.test)
        for child in node.orelse:
            self.visit(child)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(k, ast.Name) and k.id in _IMPORT_FALLBACKS for k in kinds)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _defines_handler(body: list[ast.stmt]) -> bool:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == HANDLER:
                return True
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == HANDLER for t in targets):
                return True
        elif isinstance(node, ast.Import | ast.ImportFrom):
            if any((alias.asname or alias.name) == HANDLER for alias in node.names):
                return True
        elif isinstance(node, ast.If | ast.Try):
            branches = [node.body, node.orelse]
            if isinstance(node, ast.Try):
                branches += [node.finalbody, *(h.body for h in node.handlers)]
            if any(_defines_handler(branch) for branch in branches):
                return True
    return False
