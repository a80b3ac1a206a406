"""The canonical request: the bytes a function reads on stdin.

The gateway calls :func:`canonical_request` once per HTTP request; its bytes
are the job's on-chain input, so every worker feeds the function the same
bytes. Layout (canonical JSON, keys sorted)::

    {"body": "…", "body_encoding": "utf8" | "base64",
     "headers": {"content-type": "…", …},        # allow-listed, lowercase
     "metadata": {"block_timestamp": 1767225600,
                  "function": {"name": "…", "project": "…", "wallet": "0x…"},
                  "request_id": "0x…64 hex…"},
     "method": "POST", "path": "/…", "query": {"k": "v" | ["v1", "v2"]}}

A body that is valid UTF-8 travels as text (``"utf8"``); any other bytes as
standard base64 with padding (``"base64"``).

The gateway signs its request before it is mined, so it cannot know the block's
timestamp (and a predicted request id can shift). The worker therefore binds
``metadata.request_id`` and ``metadata.block_timestamp`` to the values of the
on-chain event (:func:`bind_metadata`) before the function runs: every worker
reads the same event, so the function's stdin stays identical across workers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from peerhost.wire.canonical import CANONICAL_ENCODER, canonical_json

#: Request headers a function may see. Anything else (cookies, authorization,
#: proxies' headers) never reaches the chain. ``x-fn-*`` is free for functions.
ALLOWED_HEADERS = frozenset(
    {"accept", "accept-language", "content-type", "origin", "user-agent", "if-none-match"}
)
FUNCTION_HEADER_PREFIX = "x-fn-"


def allowed_headers(
    headers: Mapping[str, str | Sequence[str]], extra: Collection[str] = ()
) -> dict[str, str]:
    """Lowercases names, keeps the allow-listed ones and ``extra`` (the function's declared
    headers, lowercase), joins repeated values with ", "."""
    kept: dict[str, list[str]] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if (
            lowered not in ALLOWED_HEADERS
            and lowered not in extra
            and not lowered.startswith(FUNCTION_HEADER_PREFIX)
        ):
            continue
        values = [value] if isinstance(value, str) else list(value)
        kept.setdefault(lowered, []).extend(values)
    return {name: ", ".join(values) for name, values in kept.items()}


def encode_body(body: bytes | str) -> tuple[str, str]:
    """Returns ``(body, body_encoding)``: UTF-8 text as is, other bytes as base64."""
    if isinstance(body, str):
        return body, "utf8"
    try:
        return body.decode("utf-8"), "utf8"
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), "base64"


def canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str | Sequence[str]],
    headers: Mapping[str, str | Sequence[str]],
    body: bytes | str,
    *,
    request_id: bytes | str,
    block_timestamp: int,
    wallet: str,
    project: str,
    function: str,
    extra_headers: Collection[str] = (),
) -> bytes:
    """Builds the canonical request bytes a function receives on stdin.

    Args:
        method: HTTP method (uppercased).
        path: the path after the function's own prefix, starting with "/".
        query: query parameters; a repeated key maps to a list of values.
        headers: request headers; only the allow-listed ones are kept.
        body: the raw request body.
        request_id: the 32-byte on-chain request id (bytes or 0x-hex).
        block_timestamp: seconds; what the function's clock reads.
        wallet, project, function: the function's identity.
        extra_headers: headers the function declared (project.json), kept besides the allow-list.
    """
    rid = (
        bytes.fromhex(request_id.removeprefix("0x")) if isinstance(request_id, str) else request_id
    )
    if len(rid) != 32:
        raise ValueError("request_id must be 32 bytes")
    text, encoding = encode_body(body)
    doc = {
        "method": method.upper(),
        "path": path,
        "query": {k: (v if isinstance(v, str) else list(v)) for k, v in query.items()},
        "headers": allowed_headers(headers, extra_headers),
        "body": text,
        "body_encoding": encoding,
        "metadata": {
            "request_id": "0x" + rid.hex(),
            "block_timestamp": int(block_timestamp),
            "function": {"wallet": wallet.lower(), "project": project, "name": function},
        },
    }
    return canonical_json(doc)


#: ``json.loads``'s decoder made once (it makes one on every call), and ``CANONICAL_ENCODER``'s
#: parts as a C encoder without the cycle check: a parsed document cannot hold a cycle.
_DECODER = json.JSONDecoder()
_CANONICAL = CANONICAL_ENCODER
_make_encoder = getattr(json.encoder, "c_make_encoder", None)  # None without json's C speedups
_encode_parsed: Callable[[Any, int], list[str]] | None = _make_encoder and _make_encoder(
    None,
    _CANONICAL.default,
    json.encoder.encode_basestring,
    None,
    _CANONICAL.key_separator,
    _CANONICAL.item_separator,
    _CANONICAL.sort_keys,
    _CANONICAL.skipkeys,
    _CANONICAL.allow_nan,
)


def _canonical_parsed(doc: Any) -> bytes:
    """``canonical_json(doc)`` for a document ``json`` parsed (no cycles)."""
    if _encode_parsed is None:
        return canonical_json(doc)
    return "".join(_encode_parsed(doc, 0)).encode("utf-8")


def bind_metadata(data: bytes, *, request_id: bytes, block_timestamp: int) -> bytes:
    """Sets ``metadata.request_id`` and ``metadata.block_timestamp`` of a canonical request.

    Input that is not a JSON object with a ``metadata`` object is returned unchanged
    (a function may take any bytes); the result is canonical JSON again.
    """
    if not data.startswith(b"{") or b'"metadata"' not in data:
        return data
    try:
        if data[1] == 0:  # json.loads reads UTF-16 or UTF-32 here (its detect_encoding)
            doc = json.loads(data)
        else:  # UTF-8 (no byte order mark starts with "{"), as json.loads decodes it
            doc = _DECODER.decode(data.decode("utf-8", "surrogatepass"))
    except ValueError:
        return data
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    if not isinstance(metadata, dict):
        return data
    metadata["request_id"] = "0x" + request_id.hex()
    metadata["block_timestamp"] = int(block_timestamp)
    try:
        return _canonical_parsed(doc)
    except ValueError:  # NaN or Infinity somewhere: not a canonical request, leave it alone
        return data
