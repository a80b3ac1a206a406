"""A project's CORS policy: which browser origins may call its functions, and how.

Declared in ``project.json`` and applied by the gateway (which answers preflight ``OPTIONS``
itself, never as a paid run)::

    "cors": {"origins": ["https://app.example"], "methods": ["GET", "POST"],
             "headers": ["content-type"], "max_age": 600}

``origins`` is required (``"*"`` allows any origin; credentials are never allowed). ``methods``
defaults to GET and POST, ``headers`` to ``content-type``, ``max_age`` to 600 seconds. Responses
to allowed origins expose the ``X-PeerHost-*`` proof headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from peerhost.errors import PeerHostError
from peerhost.wire.headers import (
    ATTESTATIONS_HEADER,
    MODE_HEADER,
    REQUEST_ID_HEADER,
    RESULT_HASH_HEADER,
    STATUS_URL_HEADER,
    TICKET_HASH_HEADER,
    WORKER_HEADER,
)

CALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
EXPOSED = (
    REQUEST_ID_HEADER,
    RESULT_HASH_HEADER,
    MODE_HEADER,
    WORKER_HEADER,
    # the ticket path's proof: a page checks the attestations itself (peerhost.client)
    ATTESTATIONS_HEADER,
    STATUS_URL_HEADER,
    TICKET_HASH_HEADER,
)
_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$")
_HEADER = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$")
_KEYS = {"origins", "methods", "headers", "max_age"}


class InvalidCorsPolicy(PeerHostError, ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(f'"cors": {reason}.')


class CorsRefused(PeerHostError, PermissionError):
    """A preflight the project's policy does not allow."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Cross-origin request refused: {reason}.")


@dataclass(frozen=True)
class CorsPolicy:
    origins: tuple[str, ...]
    methods: tuple[str, ...] = ("GET", "POST")
    headers: tuple[str, ...] = ("content-type",)
    max_age: int = 600

    @classmethod
    def from_json(cls, doc: Any) -> CorsPolicy:
        """Parses and checks a ``"cors"`` object; raises InvalidCorsPolicy naming the rule."""
        if not isinstance(doc, dict):
            raise InvalidCorsPolicy("must be an object with origins, methods, headers, max_age")
        unknown = sorted(set(doc) - _KEYS)
        if unknown:
            raise InvalidCorsPolicy(
                f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_KEYS))})"
            )
        origins = _strings(doc.get("origins"), "origins")
        if not origins:
            raise InvalidCorsPolicy('"origins" must list at least one origin (or "*")')
        for origin in origins:
            if origin != "*" and not _ORIGIN.match(origin.lower()):
                raise InvalidCorsPolicy(
                    f'{origin!r} is not an origin (scheme://host[:port], no path, or "*")'
                )
        methods = tuple(m.upper() for m in _strings(doc.get("methods", ["GET", "POST"]), "methods"))
        bad = [m for m in methods if m not in CALL_METHODS]
        if bad:
            raise InvalidCorsPolicy(
                f"method(s) {', '.join(bad)} cannot be allowed (functions answer {', '.join(CALL_METHODS)})"
            )
        headers = tuple(
            h.lower() for h in _strings(doc.get("headers", ["content-type"]), "headers")
        )
        bad = [h for h in headers if not _HEADER.match(h)]
        if bad:
            raise InvalidCorsPolicy(f"{bad[0]!r} is not a header name")
        max_age = doc.get("max_age", 600)
        if isinstance(max_age, bool) or not isinstance(max_age, int) or not 0 <= max_age <= 86_400:
            raise InvalidCorsPolicy('"max_age" must be whole seconds between 0 and 86400')
        return cls(
            origins=tuple(o if o == "*" else o.lower() for o in origins),
            methods=methods,
            headers=headers,
            max_age=max_age,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "origins": list(self.origins),
            "methods": list(self.methods),
            "headers": list(self.headers),
            "max_age": self.max_age,
        }

    def allows(self, origin: str) -> bool:
        return "*" in self.origins or origin.lower() in self.origins

    def response_headers(self, origin: str) -> dict[str, str]:
        """Headers for an actual (non-preflight) response to ``origin``; empty if not allowed."""
        if not self.allows(origin):
            return {}
        return {
            "access-control-allow-origin": "*" if "*" in self.origins else origin,
            "access-control-expose-headers": ", ".join(EXPOSED),
            "vary": "Origin",
        }

    def preflight(self, origin: str, method: str, headers: str | None) -> dict[str, str]:
        """The headers of an allowed preflight; raises CorsRefused with the rule it breaks."""
        if not self.allows(origin):
            raise CorsRefused(f"origin {origin} is not in the project's allowed origins")
        if method.upper() not in self.methods:
            raise CorsRefused(
                f"method {method} is not allowed (allowed: {', '.join(self.methods)})"
            )
        asked = [h.strip().lower() for h in (headers or "").split(",") if h.strip()]
        extra = [h for h in asked if h not in self.headers]
        if extra:
            raise CorsRefused(
                f"header(s) {', '.join(extra)} not allowed (allowed: {', '.join(self.headers)})"
            )
        return {
            **self.response_headers(origin),
            "access-control-allow-methods": ", ".join(self.methods),
            "access-control-allow-headers": ", ".join(self.headers),
            "access-control-max-age": str(self.max_age),
        }


def _strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidCorsPolicy(f'"{name}" must be a list of strings')
    return list(value)
