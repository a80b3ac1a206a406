"""Which function a request names: by Host (``0x<wallet>.<domain>``) or path-style.

Host style:  ``https://0x<40 hex>.<domain>/<project>/<function>[/<rest>]``
Path style:  ``/<0x wallet>/<project>/<function>[/<rest>]`` (any host, for local use)

The function sees the same path either way, what follows ``/<project>/<function>`` ("/" when
nothing does), so a result never depends on how the caller spelled the URL. Names follow the registry's rules:
projects ``[a-z0-9-]{1,32}``, functions ``[a-z0-9_-]{1,64}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eth_utils import to_checksum_address

from peerhost.gateway.errors import BadRequest, NoRoute
from peerhost.wire.ids import checksummed

_WALLET = r"0x[0-9a-fA-F]{40}"
_PROJECT = r"[a-z0-9-]{1,32}"
_FUNCTION = r"[a-z0-9_-]{1,64}"
_REST = r"(?P<rest>/[^?#]*)?"

_HOST_PATH = re.compile(rf"^/(?P<project>{_PROJECT})/(?P<function>{_FUNCTION}){_REST}$")
_PATH_STYLE = re.compile(
    rf"^/(?P<wallet>{_WALLET})/(?P<project>{_PROJECT})/(?P<function>{_FUNCTION}){_REST}$"
)


@dataclass(frozen=True)
class Target:
    """A function call's address and the path the function sees."""

    wallet: str  # checksummed
    project: str
    function: str
    subpath: str  # what follows /<project>/<function>: "/" or "/<rest>"

    @property
    def label(self) -> str:
        return f"{self.wallet}/{self.project}/{self.function}"


class Router:
    """Matches requests to functions for one domain."""

    def __init__(self, domain: str) -> None:
        self.domain = domain.lower().strip(".")
        self._host = re.compile(
            rf"^(?P<wallet>{_WALLET})\.{re.escape(self.domain)}\.?(?::\d{{1,5}})?$"
        )

    def wallet_of_host(self, host: str) -> str | None:
        """The wallet a ``0x<wallet>.<domain>`` host names, else None."""
        m = self._host.match(host.lower())
        return m.group("wallet") if m else None

    def match(self, host: str, path: str) -> Target:
        """The target of (Host, path); raises NoRoute."""
        wallet = self.wallet_of_host(host)
        if wallet is not None:
            m = _HOST_PATH.match(path)
            if m:
                return _target(wallet, m.group("project"), m.group("function"), m.group("rest"))
            raise NoRoute(host, path, self.domain)
        m = _PATH_STYLE.match(path)
        if m:
            return _target(
                m.group("wallet"), m.group("project"), m.group("function"), m.group("rest")
            )
        raise NoRoute(host, path, self.domain)


def _target(wallet: str, project: str, function: str, rest: str | None) -> Target:
    return Target(
        wallet=checksummed(wallet.lower()),
        project=project,
        function=function,
        subpath=rest or "/",
    )


def parse_wallet(text: str) -> str:
    """A ``0x`` + 40 hex wallet, checksummed; raises BadRequest."""
    if not re.fullmatch(_WALLET, text):
        raise BadRequest(f"{text[:60]!r} is not a wallet address (0x followed by 40 hex digits)")
    return to_checksum_address(text.lower())


def valid_project(name: str) -> str:
    """``name`` if it is a valid project name; raises BadRequest."""
    if not re.fullmatch(_PROJECT, name):
        raise BadRequest(f"{name[:60]!r} is not a project name ([a-z0-9-]{{1,32}})")
    return name


def valid_function(name: str) -> str:
    """``name`` if it is a valid function name; raises BadRequest."""
    if not re.fullmatch(_FUNCTION, name):
        raise BadRequest(f"{name[:80]!r} is not a function name ([a-z0-9_-]{{1,64}})")
    return name
