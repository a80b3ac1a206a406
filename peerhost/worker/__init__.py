"""The worker node: follow jobs, run them in the sandbox, prove results with commit-reveal, earn.

    from peerhost.worker import WorkerSettings, start_worker
    proc = start_worker(chain_config, private_key, WorkerSettings(data_dir=...))
    proc.metrics(); proc.stop()

``python -m peerhost.worker`` and ``ape run worker`` run one node; see docs/worker.md.
"""

from __future__ import annotations

from peerhost.worker.launcher import WorkerProcess, start_worker
from peerhost.worker.settings import WorkerSettings

__all__ = ["WorkerProcess", "WorkerSettings", "start_worker"]
