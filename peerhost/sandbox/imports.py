"""The import policy: a module may import only the deterministic WASI functions.

Checked before instantiation, so a module asking for anything else (another
module's functions, memories, tables, globals, a WASI name that does not
exist, or a wrong signature) fails with the same envelope on every worker.
"""

from __future__ import annotations

import wasmtime

from peerhost.sandbox.wasi import MODULE, SIGNATURES, func_type
from peerhost.wire.envelope import Envelope, ErrorKind, failure


def _same_signature(a: wasmtime.FuncType, b: wasmtime.FuncType) -> bool:
    return [str(t) for t in a.params] == [str(t) for t in b.params] and [
        str(t) for t in a.results
    ] == [str(t) for t in b.results]


def check_imports(module: wasmtime.Module) -> Envelope | None:
    """A failure envelope if ``module`` imports something it may not, else None."""
    for imp in module.imports:
        name = f"{imp.module}::{imp.name}"
        if imp.module != MODULE or imp.name not in SIGNATURES:
            return failure(ErrorKind.FORBIDDEN_IMPORT, name)
        ty = imp.type
        if not isinstance(ty, wasmtime.FuncType):
            return failure(ErrorKind.FORBIDDEN_IMPORT, name)
        if not _same_signature(ty, func_type(imp.name)):
            return failure(ErrorKind.LINK_ERROR, f"{name} has the wrong signature")
    return None
