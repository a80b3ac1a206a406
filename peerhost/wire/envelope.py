"""The result envelope: the canonical bytes whose keccak256 is committed.

Layout (canonical JSON, see :mod:`peerhost.wire.canonical`)::

    success: {"fuel_used":N,"ok":true,"response":{"body":…,"headers":{…},"status":200},"v":1}
             (+ "body_encoding":"base64" inside "response" for binary bodies)
    failure: {"error":{"detail":"…","kind":"out_of_fuel"},"fuel_used":N,"ok":false,"v":1}

``fuel_used`` is ``null`` when the failure point is host-dependent
(``stack_overflow``). Nothing in an envelope depends on the host: no trap
messages, no timings, no paths.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from peerhost.wire.canonical import CANONICAL_ENCODER, canonical_json
from peerhost.wire.errors import InvalidEnvelope
from peerhost.wire.keccak import keccak256
from peerhost.wire.response import OutputRejected, parse_json, parse_response

ENVELOPE_VERSION = 1
MAX_DETAIL_CHARS = 1024


class ErrorKind(StrEnum):
    """Why a run produced no response. All but TIMEOUT are deterministic."""

    CODE_TOO_LARGE = "code_too_large"
    INPUT_TOO_LARGE = "input_too_large"
    INVALID_MODULE = "invalid_module"
    FORBIDDEN_IMPORT = "forbidden_import"
    LINK_ERROR = "link_error"
    NO_ENTRYPOINT = "no_entrypoint"
    UNSUPPORTED_RUNTIME = "unsupported_runtime"
    OUT_OF_FUEL = "out_of_fuel"
    MEMORY_LIMIT = "memory_limit"
    STACK_OVERFLOW = "stack_overflow"
    TRAP = "trap"
    EXIT = "exit"
    OUTPUT_TOO_LARGE = "output_too_large"
    INVALID_OUTPUT = "invalid_output"
    JS_ERROR = "js_error"
    PYTHON_ERROR = "python_error"
    TIMEOUT = "timeout"  # wall-clock backstop: never committable
    HOST_ERROR = "host_error"  # the worker's own failure: never committable


#: Kinds that describe the worker, not the function: never committed.
LOCAL_KINDS = frozenset({ErrorKind.TIMEOUT, ErrorKind.HOST_ERROR})

#: :func:`canonical_json`'s string encoder (its whole encoder is ``CANONICAL_ENCODER``).
_string = json.encoder.encode_basestring


def _int(value: int | None) -> str:
    return "null" if value is None else repr(value)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded envelope. ``ok`` runs carry a response, failed ones an error."""

    ok: bool
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    body_encoding: str | None = None
    error_kind: ErrorKind | None = None
    error_detail: str = ""
    fuel_used: int | None = None

    def encode(self) -> bytes:
        """The canonical bytes of this envelope."""
        written = self._written()
        if written is not None:
            return written
        doc: dict[str, Any] = {"v": ENVELOPE_VERSION, "ok": self.ok, "fuel_used": self.fuel_used}
        if self.ok:
            response: dict[str, Any] = {
                "status": self.status,
                "headers": self.headers,
                "body": self.body,
            }
            if self.body_encoding is not None:
                response["body_encoding"] = self.body_encoding
            doc["response"] = response
        else:
            doc["error"] = {"kind": str(self.error_kind), "detail": self.error_detail}
        return canonical_json(doc)

    def _written(self) -> bytes | None:
        """The canonical bytes written out directly when the fields have their usual types:
        what :func:`canonical_json` writes for them, each part in its key order (so a value
        it cannot write raises the same error first). ``None`` for any other field type,
        which :meth:`encode` then hands to :func:`canonical_json` whole."""
        fuel = self.fuel_used
        if fuel is not None and type(fuel) is not int:
            return None
        if self.ok is False:
            kind, detail = str(self.error_kind), self.error_detail
            if type(detail) is not str:
                return None
            return (
                f'{{"error":{{"detail":{_string(detail)},"kind":{_string(kind)}}},'
                f'"fuel_used":{_int(fuel)},"ok":false,"v":{ENVELOPE_VERSION}}}'
            ).encode()
        status, headers, body, encoding = self.status, self.headers, self.body, self.body_encoding
        if self.ok is not True or type(status) is not int or type(headers) is not dict:
            return None
        if encoding is not None and type(encoding) is not str:
            return None
        for name, value in headers.items():
            if type(name) is not str or type(value) is not str:
                return None
        fuel_text = _int(fuel)
        if body is None:
            body_text = "null"
        elif type(body) is str:
            body_text = _string(body)
        else:  # JSON values: the canonical encoding of the body alone is what it embeds
            body_text = CANONICAL_ENCODER.encode(body)
        encoding_text = "" if encoding is None else f',"body_encoding":{_string(encoding)}'
        header_text = ",".join(f"{_string(k)}:{_string(v)}" for k, v in sorted(headers.items()))
        return (
            f'{{"fuel_used":{fuel_text},"ok":true,"response":{{"body":{body_text}{encoding_text},'
            f'"headers":{{{header_text}}},"status":{status!r}}},"v":{ENVELOPE_VERSION}}}'
        ).encode()

    def to_http(self) -> tuple[int, dict[str, str], bytes]:
        """Maps the envelope to an HTTP answer: ``(status, headers, body)``.

        Success gives the function's own status, headers and body (strings as
        UTF-8 text, base64 bodies decoded, other JSON values as JSON). A failure
        gives 502 (504 for a timeout, 503 for a host error) with
        ``{"error": kind, "detail": …}``.
        """
        if not self.ok:
            status = {ErrorKind.TIMEOUT: 504, ErrorKind.HOST_ERROR: 503}.get(
                self.error_kind or ErrorKind.TRAP, 502
            )
            payload = {"error": str(self.error_kind), "detail": self.error_detail}
            return status, {"content-type": "application/json"}, canonical_json(payload)
        headers = dict(self.headers)
        if self.body_encoding == "base64":
            body = base64.b64decode(self.body)
            headers.setdefault("content-type", "application/octet-stream")
        elif isinstance(self.body, str):
            body = self.body.encode("utf-8")
            headers.setdefault("content-type", "text/plain; charset=utf-8")
        elif self.body is None:
            body = b""
        else:
            body = canonical_json(self.body)
            headers.setdefault("content-type", "application/json")
        assert self.status is not None
        return self.status, headers, body


def result_hash(envelope: bytes) -> bytes:
    """keccak256 of the canonical envelope bytes: the ``resultHash`` workers commit and sign."""
    return keccak256(envelope)


def failure(kind: ErrorKind, detail: str = "", fuel_used: int | None = 0) -> Envelope:
    """A failure envelope; ``detail`` is cut to MAX_DETAIL_CHARS code points."""
    return Envelope(
        ok=False, error_kind=kind, error_detail=detail[:MAX_DETAIL_CHARS], fuel_used=fuel_used
    )


def decode_envelope(data: bytes) -> Envelope:
    """Parses envelope bytes; raises :class:`InvalidEnvelope` if they are not one.

    Strict, because envelopes also arrive from other workers: the bytes must be
    the canonical encoding of a well-formed envelope (so ``to_http`` cannot
    fail on them), with a response that passes the same checks as a
    function's own output.
    """
    try:
        doc = parse_json(data)
    except OutputRejected as exc:
        raise InvalidEnvelope(str(exc)) from None
    if not isinstance(doc, dict) or doc.get("v") != ENVELOPE_VERSION:
        raise InvalidEnvelope("missing or unknown version")
    fuel = doc.get("fuel_used")
    if fuel is not None and (not isinstance(fuel, int) or isinstance(fuel, bool) or fuel < 0):
        raise InvalidEnvelope("fuel_used is not a non-negative integer")
    if doc.get("ok") is True:
        raw = doc.get("response")
        if not isinstance(raw, dict):
            raise InvalidEnvelope("success without a response")
        try:
            response = parse_response(canonical_json(raw))
        except (OutputRejected, ValueError) as exc:
            raise InvalidEnvelope(f"bad response: {exc}") from None
        envelope = Envelope(
            ok=True,
            status=response.status,
            headers=response.headers,
            body=response.body,
            body_encoding=response.body_encoding,
            fuel_used=fuel,
        )
    else:
        error = doc.get("error")
        if doc.get("ok") is not False or not isinstance(error, dict):
            raise InvalidEnvelope("failure without an error")
        try:
            kind = ErrorKind(str(error.get("kind")))
        except ValueError as exc:
            raise InvalidEnvelope(f"unknown error kind {error.get('kind')!r}") from exc
        detail = error.get("detail", "")
        if not isinstance(detail, str):
            raise InvalidEnvelope("error detail is not a string")
        envelope = Envelope(ok=False, error_kind=kind, error_detail=detail, fuel_used=fuel)
    if envelope.encode() != bytes(data):
        raise InvalidEnvelope("not in canonical form")
    return envelope
