"""The crash point a scenario reads back is the one of the worker process it killed, not an
earlier process of the same worker (restarted with its data directory, it appends to the same
log). Runs the crashing worker's real ``crash`` in real processes; no stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fault_scenarios import crashed_at, crashes

from peerhost.worker.launcher import WorkerProcess
from peerhost.worker.settings import WorkerSettings

HERE = Path(__file__).resolve().parent


def _crashing(log_path: Path, batch: int) -> WorkerProcess:
    """A process that logs a reveal crash in ``batch`` and kills itself, as the crashing worker
    does, appending to ``log_path`` as the launcher does."""
    log = open(log_path, "ab")  # noqa: SIM115 (closed by WorkerProcess)
    code = f"import crashing_worker; crashing_worker.crash('reveal', {batch})"
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=HERE, stdout=log, stderr=subprocess.STDOUT
    )
    process.wait(60)
    return WorkerProcess(
        process=process,
        log_path=log_path,
        _log=log,
        settings=WorkerSettings(data_dir=log_path.parent),
    )


def test_crashes__log_holds_an_earlier_process_crash__reads_the_killed_process_only(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "worker.log"
    earlier = _crashing(log_path, 4)  # an earlier run's victim: same worker, same log
    later = _crashing(log_path, 30)
    assert [e["batch"] for e in later.events("fault_injected")] == [4, 30]  # one shared log
    assert [e["batch"] for e in crashes(later, "reveal")] == [30]
    assert [e["batch"] for e in crashes(earlier, "reveal")] == [4]
    assert crashed_at(later, "reveal") and not crashed_at(later, "commit")
