"""The one-command local network: chain, contracts, examples, workers, gateway (docs/devnet.md).

``ape run devnet`` is :func:`peerhost.devnet.run.run_devnet`; the end-to-end tests and the
benchmark build the same stack with :class:`~peerhost.devnet.stack.Devnet`.
"""

from __future__ import annotations

from peerhost.devnet_state import DevnetState, default_state_dir

__all__ = ["DevnetState", "default_state_dir"]
