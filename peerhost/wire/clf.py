"""The request body of a ``clf`` function: how a call carries Chainlink-Functions ``args`` and
``bytesArgs`` (see :mod:`peerhost.sandbox.clf` and docs/migrating-from-chainlink-functions.md).

- HTTP: the body, a JSON object ``{"args": ["..."], "bytesArgs": ["0x..."]}`` (either key may be
  left out), or ``abi.encode(string[] args, bytes[] bytesArgs)`` (binary: base64 on the wire);
- a contract (whose input is the run's request JSON): ``{"args": [...], "bytesArgs": [...]}`` as
  that JSON itself (:func:`contract_input`), or a body in one of the forms above;
- no body: no arguments.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from eth_abi import encode as abi_encode


def json_args(args: Sequence[str] = (), bytes_args: Sequence[bytes] = ()) -> bytes:
    """The JSON request body carrying ``args`` and ``bytesArgs`` (as a gateway call sends it)."""
    doc = {"args": list(args), "bytesArgs": ["0x" + bytes(b).hex() for b in bytes_args]}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def abi_args(args: Sequence[str] = (), bytes_args: Sequence[bytes] = ()) -> bytes:
    """``abi.encode(string[] args, bytes[] bytesArgs)``: the body a contract sends."""
    return abi_encode(["string[]", "bytes[]"], [list(args), [bytes(b) for b in bytes_args]])


def contract_input(args: Sequence[str] = (), bytes_args: Sequence[bytes] = ()) -> bytes:
    """The request JSON a contract sends as its input: the arguments at its top level."""
    return json_args(args, bytes_args)
