"""The ``clf`` runtime: Chainlink-Functions-style sources on the js engine.

A clf source is the body of an async function, as Chainlink Functions ran it: top-level
``return`` and ``await``, the request's ``args`` and ``bytesArgs``, the project's ``secrets`` and
``Functions.encodeUint256`` / ``encodeInt256`` / ``encodeString``; it returns bytes. The sandbox
places the source inside the prelude ``engines/clf-prelude.js`` (its first line holds the source's
first line, so line numbers stay as written) and runs the result as an ordinary ``js`` module:
same engine, same fuel, same limits. The prelude's sha256 is pinned in
:data:`peerhost.wire.feed.RUNTIME_ENGINE_SHA256` (``"clf"``) and checked on load, so it is part of
the engine profile every ticket names.

How a request carries the arguments (the canonical request's body):

- a JSON object ``{"args": ["..."], "bytesArgs": ["0x..."]}`` (either key may be left out), or
- the ABI encoding of ``(string[] args, bytes[] bytesArgs)``, as a contract builds it with
  ``abi.encode(args, bytesArgs)`` (binary: it travels base64 in the canonical request), or
- an empty body (no arguments).

(:mod:`peerhost.wire.clf` builds both bodies.) The answer is the returned bytes as a base64 body (``body_encoding: "base64"``,
``application/octet-stream``), so a consumer contract receives the raw bytes.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from peerhost.sandbox.errors import ClfPreludeMismatch
from peerhost.wire.feed import RUNTIME_ENGINE_SHA256

PRELUDE_PATH = Path(__file__).resolve().parent / "engines" / "clf-prelude.js"
PRELUDE_SHA256 = RUNTIME_ENGINE_SHA256["clf"]
MARKER = b"\n//@@PEERHOST-CLF-SOURCE@@\n"
#: A static ``import``/``export`` statement: a clf source is a function body, which cannot hold one.
_MODULE_STATEMENT = re.compile(rb"^[ \t]*(import[ \t{*\"']|export[ \t])", re.MULTILINE)


def load_prelude(path: Path = PRELUDE_PATH, expected_sha256: str = PRELUDE_SHA256) -> bytes:
    """Reads the prelude and checks its sha256 against the pin."""
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise ClfPreludeMismatch(path, expected_sha256, actual)
    return data


def compose(source: bytes, prelude: bytes) -> bytes:
    """The js module the engine runs: the source inside the prelude, on the prelude's first line."""
    head, tail = prelude.split(MARKER, 1)
    return head + source + b"\n" + tail


def module_statement_line(source: bytes) -> int | None:
    """The 1-based line of a static ``import``/``export`` statement, if the source has one."""
    found = _MODULE_STATEMENT.search(source)
    return None if found is None else source.count(b"\n", 0, found.start()) + 1


def syntax_probe(source: bytes) -> bytes:
    """A js module that compiles ``source`` as a clf function body without running it, and answers
    200: a ``SyntaxError`` in the source fails the module instead (the publish check)."""
    return (
        b"export default function (req) { return null; }\n"
        b"async function probe(args, bytesArgs, secrets, Functions) {\n" + source + b"\n}\n"
    )
