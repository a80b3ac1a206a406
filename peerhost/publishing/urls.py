"""Live URLs of published functions."""

from __future__ import annotations

from peerhost.deployments import DEFAULT_GATEWAY_URL as DEFAULT_GATEWAY_URL


def function_url(gateway_url: str, wallet: str, project: str, name: str) -> str:
    """The URL that runs ``name`` of ``wallet``'s ``project``.

    A gateway URL holding ``{wallet}`` is host-style (``https://{wallet}.peerhost.example`` gives
    ``https://0xabc….peerhost.example/<project>/<function>``); any other URL is path-style
    (``http://127.0.0.1:8080/<wallet>/<project>/<function>``), as a local gateway serves it.
    """
    base = gateway_url.rstrip("/")
    if "{wallet}" in base:
        return f"{base.replace('{wallet}', wallet.lower())}/{project}/{name}"
    return f"{base}/{wallet}/{project}/{name}"
