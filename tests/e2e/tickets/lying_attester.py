"""A worker node that attests wrong results, for tests of the ticket path: ``python
lying_attester.py`` takes the same flags and environment as ``python -m peerhost.worker``.

It runs every function like an honest worker, then attests (and, on a committee, reveals) a
different but well-formed envelope. The lie is injected as this node's executor; the production
worker knows nothing of it.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from peerhost.chain.config import ChainConfig
from peerhost.wire.envelope import decode_envelope
from peerhost.worker.cli import main
from peerhost.worker.execution import Execution, JobExecutor, Runner
from peerhost.worker.job import Job
from peerhost.worker.node import WorkerNode
from peerhost.worker.settings import WorkerSettings

#: What :func:`peerhost.worker.launcher.start_worker` runs to start this node.
PROGRAM = (str(Path(__file__).resolve()),)


def forged(envelope_bytes: bytes) -> bytes:
    """A wrong but well-formed envelope."""
    envelope = decode_envelope(envelope_bytes)
    if envelope.ok:
        return dataclasses.replace(envelope, body="forged", body_encoding=None).encode()
    return dataclasses.replace(envelope, error_detail="forged").encode()


class ForgingExecutor(JobExecutor):
    async def execute(
        self, job: Job, run: Runner | None = None, *, input_checked: bool = False
    ) -> Execution:
        honest = await super().execute(job, run, input_checked=input_checked)
        return dataclasses.replace(honest, envelope=forged(honest.envelope))


class ForgingNode(WorkerNode):
    """Lies, and never challenges (an adversary that bonds nothing: a captured committee's
    forgery stands unless an honest worker challenges it)."""

    executor_type = ForgingExecutor

    def __init__(self, chain: ChainConfig, private_key: bytes, settings: WorkerSettings) -> None:
        super().__init__(chain, private_key, settings.replace(challenges=False))


if __name__ == "__main__":
    sys.exit(main(node_type=ForgingNode))
