"""A gateway's announced endpoint: the public base URL of its job feed, as stored on-chain.

``GatewayRegistry.setEndpoint(url)`` keeps at most :data:`MAX_ENDPOINT_BYTES` bytes; an empty URL
withdraws the announcement. Workers that discover gateways open ``<url>/_feed`` (``ws``/``wss``
for ``http``/``https``). Anyone with a bond may announce anything, so workers check every URL with
:func:`endpoint_problem` before they dial it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

#: The GatewayRegistry's ``MAX_ENDPOINT_BYTES``.
MAX_ENDPOINT_BYTES = 256

_SCHEMES = ("http", "https", "ws", "wss")


def endpoint_problem(url: str) -> str | None:
    """Why ``url`` is not a usable gateway endpoint, or None when it is.

    A usable endpoint is ``http(s)://host[:port][/path]`` (or ``ws(s)://``), at most
    :data:`MAX_ENDPOINT_BYTES` bytes, with no credentials, query or fragment.
    """
    size = len(url.encode())
    if size == 0:
        return "empty URL"
    if size > MAX_ENDPOINT_BYTES:
        return f"URL is {size} bytes (at most {MAX_ENDPOINT_BYTES})"
    if any(c.isspace() or not c.isprintable() for c in url):
        return "URL contains whitespace or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"URL does not parse ({exc})"
    if parts.scheme not in _SCHEMES:
        return f"scheme must be one of {', '.join(_SCHEMES)}, not {parts.scheme or 'none'!r}"
    if not parts.hostname:
        return "URL has no host"
    if parts.username is not None or parts.password is not None:
        return "URL carries credentials"
    if parts.query or parts.fragment:
        return "URL has a query or fragment"
    if port == 0:
        return "port 0 is not a port"
    return None
