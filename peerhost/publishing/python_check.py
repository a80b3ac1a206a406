"""The publish check of a Python function: the file compiles and defines ``handler``.

It runs on the publisher's machine with its own CPython (3.11 or newer): the
runtime is CPython 3.12, so a file using syntax new in 3.12 (``type`` aliases,
generic ``def f[T]``) is refused here even though the runtime would run it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from peerhost.publishing.errors import InvalidCode

HANDLER = "handler"


class PythonRefused(InvalidCode):
    """A Python function breaks a publish rule (``python-compiles`` or ``python-handler``)."""

    def __init__(self, path: Path, rule: str, reason: str) -> None:
        self.rule = rule
        self.reason = reason
        super().__init__(path, reason)


def check_python_source(path: Path, data: bytes) -> None:
    """Raises PythonRefused (an InvalidCode) unless ``data`` is UTF-8 Python defining ``handler``
    at top level."""
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
