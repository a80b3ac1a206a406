"""The deployment and gateway URL the version commands act on (as ``ape run publish`` finds them)."""

from __future__ import annotations

import os
from typing import Any

from peerhost.publishing.errors import DeploymentNotFound
from peerhost.publishing.urls import DEFAULT_GATEWAY_URL

GATEWAY_URL_ENV = "PEERHOST_GATEWAY_URL"


def find_context(
    project: Any, chain: Any, deployments: str | None = None, gateway_url: str | None = None
) -> tuple[Any, str]:
    """``(deployment, gateway_url)`` on the connected chain: a running devnet's, else the
    deployments file and ``$PEERHOST_GATEWAY_URL``. Raises DeploymentNotFound."""
    from peerhost.deploy import deployment_key, load_deployment
    from peerhost.devnet.state import DevnetState

    devnet = DevnetState.load()
    if devnet is not None and not devnet.serves(getattr(chain.provider, "uri", None)):
        devnet = None
    if devnet is not None and deployments is None:
        deployment = devnet.deployment(project, chain)
    else:
        deployment = load_deployment(chain, project, deployments)
    if deployment is None:
        raise DeploymentNotFound(deployment_key(chain), "none recorded")
    url = (
        gateway_url
        or (devnet.gateway_url if devnet else None)
        or os.environ.get(GATEWAY_URL_ENV)
        or DEFAULT_GATEWAY_URL
    )
    return deployment, url
