"""Turns a function's stdout into the normalized response of an envelope.

The checks are the protocol's own (fixed messages, fixed depth limit), never
the JSON library's error text, so every worker reaches the same verdict.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

MAX_JSON_DEPTH = 64
#: Longer integers are refused by the protocol itself, not by Python's own
#: (configurable) limit on int conversion, so every worker decides alike.
MAX_INT_DIGITS = 1000
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9a-z]+$")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: Any
    body_encoding: str | None


class OutputRejected(Exception):
    """Raised with a fixed, deterministic reason when output is not a response."""


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def _json_depth_ok(text: str) -> bool:
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:  # cannot open more than it holds
        return True
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return False
        else:
            depth -= 1
    return True


def _reject_constant(name: str) -> Any:
    raise OutputRejected(f"output uses {name}, which JSON does not allow")


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise OutputRejected(f"output has an integer longer than {MAX_INT_DIGITS} digits")
    return int(digits)


#: ``json.loads`` with these hooks, made once (``json.loads`` makes a decoder on every call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_parse_int)
#: ``json.dumps(..., allow_nan=False)``, made once.
_FINITE_ONLY = json.JSONEncoder(allow_nan=False)


def parse_json(data: bytes) -> Any:
    """Parses strict JSON (no NaN/Infinity, depth <= 64) or raises OutputRejected."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise OutputRejected("output is not UTF-8") from None
    if not _json_depth_ok(text):
        raise OutputRejected(f"output nests deeper than {MAX_JSON_DEPTH}")
    try:
        return _DECODER.decode(text)  # a leading BOM is refused here as by json.loads
    except OutputRejected:
        raise
    except ValueError:
        raise OutputRejected("output is not valid JSON") from None


def parse_response(data: bytes) -> Response:
    """Validates ``{"status", "headers"?, "body"?, "body_encoding"?}``; drops other keys."""
    doc = parse_json(data)
    if not isinstance(doc, dict):
        raise OutputRejected("output is not a JSON object")
    status = doc.get("status", 200)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise OutputRejected("status must be an integer from 100 to 599")
    raw_headers = doc.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise OutputRejected("headers must be an object")
    headers: dict[str, str] = {}
    for name, value in raw_headers.items():
        lowered = name.lower()
        if not _HEADER_NAME.match(lowered):
            raise OutputRejected("a header name is not a valid HTTP token")
        if not isinstance(value, str) or "\r" in value or "\n" in value or "\0" in value:
            raise OutputRejected("header values must be strings without CR, LF or NUL")
        if lowered in headers:
            raise OutputRejected("a header is given twice")
        headers[lowered] = value
    body = doc.get("body")
    encoding = doc.get("body_encoding")
    if encoding is not None:
        if encoding != "base64":
            raise OutputRejected('body_encoding must be "base64" when present')
        if not isinstance(body, str):
            raise OutputRejected("a base64 body must be a string")
        try:
            base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise OutputRejected("body is not valid base64") from None
    if body is not None and not isinstance(body, str):  # (a string or null always encodes)
        try:
            _FINITE_ONLY.encode(body)
        except ValueError:
            raise OutputRejected("body holds a number JSON cannot carry") from None
    return Response(status=status, headers=headers, body=body, body_encoding=encoding)
