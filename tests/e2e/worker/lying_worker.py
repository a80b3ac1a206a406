"""A worker node that lies, for tests of slashing: ``python lying_worker.py`` takes the same flags
and environment as ``python -m peerhost.worker``.

It runs every function like an honest worker, then commits to (and posts) other bytes. It goes
through the real commit-reveal path, so the coordinator must catch and slash it. The lie is
injected as this node's executor; the production pipeline knows nothing of it.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from peerhost.worker.cli import main
from peerhost.worker.execution import Execution, JobExecutor, Runner
from peerhost.worker.job import Job
from peerhost.worker.node import WorkerNode

#: What :func:`peerhost.worker.launcher.start_worker` runs to start this node.
PROGRAM = (str(Path(__file__).resolve()),)


def tamper(envelope: bytes) -> bytes:
    """A wrong but well-formed-looking envelope."""
    if envelope.endswith(b"}"):
        return envelope[:-1] + b',"lie":true}'
    return envelope + b"\n"


class LyingExecutor(JobExecutor):
    async def execute(
        self, job: Job, run: Runner | None = None, *, input_checked: bool = False
    ) -> Execution:
        honest = await super().execute(job, run, input_checked=input_checked)
        return dataclasses.replace(honest, envelope=tamper(honest.envelope))


class LyingNode(WorkerNode):
    executor_type = LyingExecutor


if __name__ == "__main__":
    sys.exit(main(node_type=LyingNode))
