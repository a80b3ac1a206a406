"""The deployment and gateway URL the version commands act on (as ``ape run publish`` finds them)."""

from __future__ import annotations

from typing import Any

from peerhost.deploy import Deployment
from peerhost.deployments import find_deployment, gateway_url_of


def find_context(
    project: Any, chain: Any, deployments: str | None = None, gateway_url: str | None = None
) -> tuple[Deployment, str]:
    """``(deployment, gateway_url)`` on the connected chain: a running devnet's, else the
    deployments file and ``$PEERHOST_GATEWAY_URL``. Raises DeploymentNotFound."""
    found = find_deployment(project, chain, deployments)
    return found.deployment, gateway_url_of(found.devnet, gateway_url)
