"""``python -m peerhost.gateway --chain-config chain.json`` (key in $PEERHOST_GATEWAY_KEY)."""

from peerhost.gateway.cli import main

raise SystemExit(main())
