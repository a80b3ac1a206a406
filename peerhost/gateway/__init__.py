"""The HTTP gateway: HTTP in, on-chain job, result inbox, HTTP out (see docs/gateway.md)."""

from peerhost.gateway.app import create_app
from peerhost.gateway.settings import GatewaySettings

__all__ = ["GatewaySettings", "create_app"]
