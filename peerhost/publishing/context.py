"""The deployment and gateway URL the version commands act on (as ``ape run publish`` finds them)."""

from __future__ import annotations

import os
from typing import Any

from peerhost.deploy import Deployment
from peerhost.deployments import find_deployment
from peerhost.publishing.urls import DEFAULT_GATEWAY_URL

GATEWAY_URL_ENV = "PEERHOST_GATEWAY_URL"


def find_context(
    project: Any, chain: Any, deployments: str | None = None, gateway_url: str | None = None
) -> tuple[Deployment, str]:
    """``(deployment, gateway_url)`` on the connected chain: a running devnet's, else the
    deployments file and ``$PEERHOST_GATEWAY_URL``. Raises DeploymentNotFound."""
    found = find_deployment(project, chain, deployments)
    url = (
        gateway_url
        or (found.devnet.gateway_url if found.devnet else None)
        or os.environ.get(GATEWAY_URL_ENV)
        or DEFAULT_GATEWAY_URL
    )
    return found.deployment, url
