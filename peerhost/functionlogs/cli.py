"""The logic behind ``ape run logs``: which gateway, the owner's signer, one block per request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from peerhost.deployments import gateway_url_of
from peerhost.devnet_state import DevnetState
from peerhost.functionlogs.client import fetch, follow, format_entry


def default_gateway_url() -> str:
    """A running devnet's gateway, else ``$PEERHOST_GATEWAY_URL``, else the local default."""
    return gateway_url_of(DevnetState.load())


def run_logs(
    project: str,
    function: str | None,
    *,
    owner: str,
    sign: Callable[[str], bytes],
    gateway_url: str | None = None,
    request_id: str | None = None,
    follow_: bool = False,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[str]:
    """Output lines of ``ape run logs``: one block per request, oldest first."""
    url = gateway_url or default_gateway_url()
    if follow_:
        entries: Any = follow(
            url, owner, project, sign, function=function, request_id=request_id, stop=stop
        )
    else:
        entries = fetch(url, owner, project, sign, function=function, request_id=request_id)[
            "entries"
        ]
        if not entries:
            what = f"{project}/{function}" if function else f"project {project}"
            yield f"No logs for {what} of {owner} on {url} yet (the gateway keeps recent calls only)."
            return
    for entry in entries:
        yield from format_entry(entry)
