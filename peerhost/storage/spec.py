"""Open a store from one configuration string.

A spec is one source or several separated by commas (tried in that order)::

    local:/var/peerhost/store                      the embedded store (the default scheme)
    local:/var/cache/peerhost?max_bytes=2GiB       a bounded cache
    ipfs:http://127.0.0.1:5001?lookup_timeout=5    an IPFS daemon's RPC API
    gateway:https://ipfs.example.org               a trusted HTTP gateway (read-only)
    local:/var/cache/peerhost?max_bytes=2GiB,ipfs:http://127.0.0.1:5001

A path without a scheme is a local store.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from peerhost.storage.base import ContentSource, ContentStore
from peerhost.storage.chained import ChainedStore
from peerhost.storage.errors import InvalidStoreSpec
from peerhost.storage.gateway import HttpGatewaySource
from peerhost.storage.ipfs import DEFAULT_API_URL, IpfsStore
from peerhost.storage.local import LocalStore

DEFAULT_STORE_SPEC = "local:~/.peerhost/store"
"""Where the embedded store lives unless configured otherwise."""

_UNITS = {
    "": 1, "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """Parse ``"1048576"``, ``"512MiB"`` or ``"2GB"`` into bytes.

    Raises:
        ValueError: not a size.
    """
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise ValueError(f"not a size: {text!r} (use e.g. 1048576, 512MiB, 2GB)")
    return int(match.group(1)) * _UNITS[unit]


def open_source(spec: str) -> ContentSource:
    """Open one source from a single (comma-free) spec.

    Raises:
        InvalidStoreSpec: unknown scheme, missing location or bad option.
    """
    text = spec.strip()
    scheme, sep, rest = text.partition(":")
    if not sep or "/" in scheme or scheme.startswith("~") or scheme == "":
        scheme, rest = "local", text
    location, _, query = rest.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True))
    try:
        if scheme == "local":
            return _local(spec, location, options)
        if scheme == "ipfs":
            timeout = float(options.pop("timeout", IpfsStore.DEFAULT_TIMEOUT))
            lookup = float(options.pop("lookup_timeout", IpfsStore.DEFAULT_LOOKUP_TIMEOUT))
            _no_more(spec, options)
            return IpfsStore(location or DEFAULT_API_URL, timeout=timeout, lookup_timeout=lookup)
        if scheme == "gateway":
            timeout = float(options.pop("timeout", 30.0))
            _no_more(spec, options)
            if not location:
                raise InvalidStoreSpec(spec, "gateway: needs a URL")
            return HttpGatewaySource(location, timeout=timeout)
    except ValueError as exc:
        if isinstance(exc, InvalidStoreSpec):
            raise
        raise InvalidStoreSpec(spec, str(exc)) from exc
    raise InvalidStoreSpec(spec, f"unknown scheme {scheme!r} (use local:, ipfs: or gateway:)")


def open_store(spec: str = DEFAULT_STORE_SPEC) -> ContentStore:
    """Open the store a spec describes (see the module docstring for the syntax).

    Args:
        spec: one source, or several separated by commas to try in order.

    Returns:
        The single store, or a :class:`ChainedStore` over several sources (or
        over a lone gateway, whose ``put`` raises ``StoreReadOnly``).

    Raises:
        InvalidStoreSpec: the spec cannot be parsed.
    """
    parts = [part for part in spec.split(",") if part.strip()]
    if not parts:
        raise InvalidStoreSpec(spec, "empty")
    sources = [open_source(part) for part in parts]
    if len(sources) == 1 and isinstance(sources[0], ContentStore):
        return sources[0]
    return ChainedStore(sources)


def _local(spec: str, location: str, options: dict[str, str]) -> LocalStore:
    if not location:
        raise InvalidStoreSpec(spec, "local: needs a directory")
    raw = options.pop("max_bytes", None)
    _no_more(spec, options)
    return LocalStore(location, max_bytes=parse_size(raw) if raw else None)


def _no_more(spec: str, options: dict[str, str]) -> None:
    if options:
        raise InvalidStoreSpec(spec, f"unknown option(s) {', '.join(sorted(options))}")
