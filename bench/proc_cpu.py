"""CPU time of a process and everything it spawned, read from ``/proc`` (Linux; no psutil).

``tree_cpu(pid)`` sums user + system time of ``pid`` and its live descendants, plus the time of
the children each of them already reaped (``cutime``/``cstime``), so the difference of two
readings is the CPU the whole tree spent between them (a child that starts and is reaped in
between is counted through its parent). A process that vanished between the readings drops its
share; the benchmark reads its stack's long-lived processes only.
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (``state`` first)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name is in parentheses and may itself hold spaces or parentheses
    return raw[raw.rfind(")") + 2 :].split()


def _parents() -> dict[int, int]:
    """Every live pid's parent pid."""
    out: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                out[int(entry)] = int(fields[1])
    return out


def descendants(pid: int) -> list[int]:
    """``pid`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def process_cpu(pid: int) -> float:
    """CPU seconds of one process: its own user + system time and its reaped children's."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # stat fields 14-17 (utime, stime, cutime, cstime) are at 11-14 counting from ``state``
    return sum(int(value) for value in fields[11:15]) / TICKS


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid``, its live descendants, and the children they reaped."""
    return sum(process_cpu(p) for p in descendants(pid))


def self_cpu() -> float:
    """CPU seconds of this process (user + system, its own threads, not its children)."""
    times = os.times()
    return times.user + times.system


def sched_ns(pid: int) -> tuple[int, int]:
    """Nanoseconds ``pid``'s threads ran on a CPU and waited runnable on a run queue for one
    (``/proc/<pid>/task/*/schedstat``, the scheduler's own accounting; (0, 0) when unreadable).
    The wait is time the process could have run and did not: no core was free for it."""
    ran = waited = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0, 0
    for task in tasks:
        try:
            fields = Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()
        except OSError:
            continue
        ran += int(fields[0])
        waited += int(fields[1])
    return ran, waited
