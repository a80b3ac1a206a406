"""Child processes the project starts (workers, gateways, daemons): tied to the parent's life.

:func:`die_with_parent` is a ``preexec_fn`` that asks Linux to send the child SIGTERM when the
thread that started it exits, so nothing is orphaned if the parent is killed hard.
:class:`ChildProcess` is what the launchers return: alive, log tail, graceful stop, kill.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn``: the child gets SIGTERM when its parent (thread) dies."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def log_tail(path: Path | None, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file ("" when there is none yet), for error messages."""
    if path is None:
        return ""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass(kw_only=True)
class ChildProcess:
    """A running child whose output goes to ``log_path``.

    Attributes:
        process: The child.
        log_path: Where its stdout and stderr go.
    """

    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] | None = field(default=None, repr=False)

    #: Seconds ``stop`` waits after SIGTERM before SIGKILL.
    stop_timeout = 30.0

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of its output ("" before it wrote any)."""
        return log_tail(self.log_path, lines)

    def stop(self, timeout: float | None = None) -> int:
        """SIGTERM (a graceful stop), then SIGKILL after ``timeout`` seconds; the exit code."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(self.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_log()
        return int(self.process.returncode)

    def kill(self) -> None:
        """SIGKILL: what a crash looks like."""
        if self.alive():
            self.process.kill()
            self.process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> ChildProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
