"""The fault campaign's ledger: one JSON line per scenario run, and the table built from ledgers.

``bench/faults.py`` appends a line for every run it makes (``--ledger PATH``) and prints the table
from one or more ledgers (``--report PATH...``), so a campaign of 100 runs per scenario can be
accumulated over several invocations, stacks and machines. A line says what the run was (scenario,
seed, the code's git commit), how it ended (passed, or the reason it failed), what it did (tickets
issued, paid, refunded, never charged; calls answered and failed), what was lost and how long it
took. ``lost`` is what the protocol must never lose: ``nothing`` for every passed run (each ticket
settled exactly once, no honest worker slashed: the run's check says so or fails); a failed run's
check stopped at its first fault, so its ``lost`` is ``UNCHECKED`` and its ``reason`` says what
failed. The no-show penalties of a worker the scenario killed are the protocol's rule, not a
loss: they are kept apart (``no_shows``).

Imported by module name by ``bench/faults.py`` and its test (never from a conftest); it imports
nothing of the stack, so reading a ledger needs no chain.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TextIO

NOTHING = "nothing"
UNCHECKED = "not checked to the end: the run failed (its reason)"

Task = tuple[str, int]  # (scenario, seed)


class LedgerError(ValueError):
    """A ledger line that is not a run (the message names the file and line)."""

    def __init__(self, path: Path, line: int, why: str) -> None:
        super().__init__(
            f"{path}:{line}: not a fault-campaign run ({why}); each line must be one JSON object "
            "written by bench/faults.py --ledger"
        )


@dataclass(frozen=True)
class Run:
    """One line of the ledger."""

    scenario: str
    seed: int
    commit: str  # the code's git commit, with ``+dirty`` when the tree had changes
    passed: bool
    reason: str = ""  # why it failed (empty when it passed)
    tickets: int = 0
    paid: int = 0
    refunded: int = 0
    never_charged: int = 0
    answered: int = 0
    failed_calls: int = 0
    lost: str = NOTHING  # ``nothing`` when passed, else ``UNCHECKED``
    no_shows: dict[str, int] = field(default_factory=dict)  # killed worker -> wei (the rule)
    seconds: float = 0.0
    started: str = ""  # UTC, ISO 8601
    campaign: str = ""  # the invocation that ran it (its start, UTC, and process id)
    job: int = 0  # which of the invocation's parallel stacks ran it

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str, path: Path, number: int) -> Run:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LedgerError(path, number, f"invalid JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise LedgerError(path, number, "not a JSON object")
        known = {f.name for f in fields(cls)}
        missing = {"scenario", "seed", "commit", "passed"} - data.keys()
        if missing:
            raise LedgerError(path, number, f"missing {', '.join(sorted(missing))}")
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:
            raise LedgerError(path, number, str(exc)) from None


def append(path: Path, run: Run) -> None:
    """Appends ``run`` as one line; parallel stacks append to the same file safely (one
    ``O_APPEND`` write per line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (run.line() + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read(paths: Iterable[Path]) -> list[Run]:
    """Every run of the ledgers at ``paths``, in order (blank lines skipped)."""
    runs: list[Run] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(
                f"No ledger at {path}: give a file bench/faults.py --ledger wrote."
            )
        for number, text in enumerate(path.read_text().splitlines(), 1):
            if text.strip():
                runs.append(Run.parse(text, path, number))
    return runs


@dataclass
class Row:
    """One scenario's line of the table."""

    scenario: str
    runs: int = 0
    passed: int = 0
    seeds: set[int] = field(default_factory=set)
    tickets: int = 0
    paid: int = 0
    refunded: int = 0
    never_charged: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def lost(self) -> str:
        """``nothing`` when every run passed; else how many runs failed (their reasons are
        listed under the table: a failed run's check stopped at its first fault)."""
        failed = self.runs - self.passed
        return NOTHING if not failed else f"{failed} failed run(s): see below"


def table(runs: Iterable[Run]) -> list[Row]:
    """Per scenario, in the order first seen: runs, passed, distinct seeds, and the tickets of
    the passed runs. A (scenario, seed, commit) run twice counts twice (a rerun is a run)."""
    rows: dict[str, Row] = {}
    for run in runs:
        row = rows.setdefault(run.scenario, Row(run.scenario))
        row.runs += 1
        row.seeds.add(run.seed)
        row.seconds += run.seconds
        if run.passed:
            row.passed += 1
            row.tickets += run.tickets
            row.paid += run.paid
            row.refunded += run.refunded
            row.never_charged += run.never_charged
        else:
            row.failures.append(f"seed {run.seed} ({run.commit[:12]}): {run.reason}")
    return list(rows.values())


HEADS = ("runs", "passed", "seeds", "tickets", "paid", "refunded", "never charged", "mean s")


def _width(head: str) -> int:
    return max(9, len(head) + 2)


def report(runs: list[Run], out: TextIO) -> int:
    """Prints the table (and every failure's reason); returns the number of failed runs."""
    rows = table(runs)
    commits = sorted({run.commit for run in runs})
    out.write(f"{len(runs)} run(s) from {len(commits)} commit(s): {', '.join(commits)}\n\n")
    out.write(f"{'scenario':<32}" + "".join(f"{h:>{_width(h)}}" for h in HEADS) + "  lost\n")
    for row in rows:
        values = (
            row.runs,
            row.passed,
            len(row.seeds),
            row.tickets,
            row.paid,
            row.refunded,
            row.never_charged,
            f"{row.seconds / row.runs:.0f}",
        )
        cells = "".join(f"{v:>{_width(h)}}" for h, v in zip(HEADS, values, strict=True))
        out.write(f"{row.scenario:<32}{cells}  {row.lost}\n")
    failures = [(row.scenario, line) for row in rows for line in row.failures]
    if failures:
        out.write("\nfailed runs:\n")
        for scenario, line in failures:
            out.write(f"  {scenario} {line}\n")
    return len(failures)


def git_commit(root: Path) -> str:
    """The commit of the code at ``root``, ``+dirty`` when its tracked files changed."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    head = git("rev-parse", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def outcome_fields(outcome: Any) -> dict[str, Any]:
    """What a passed run's :class:`fault_scenarios.Outcome` puts in its ledger line."""
    return {
        "tickets": outcome.tickets,
        "paid": outcome.paid,
        "refunded": outcome.refunded,
        "never_charged": outcome.never_charged,
        "answered": outcome.answered,
        "failed_calls": outcome.failed_calls,
        "no_shows": dict(outcome.slashed),
    }


def of_commit(runs: Iterable[Run], prefixes: str) -> list[Run]:
    """The runs made at a commit whose hash starts with one of ``prefixes`` (comma-separated:
    commits with the same product code, a docs or harness change apart); all of them for ""."""
    chosen = tuple(p.strip().lower() for p in prefixes.split(",") if p.strip()) or ("",)
    return [run for run in runs if run.commit.lower().startswith(chosen)]


def top_up(runs: Iterable[Run], order: list[str], target: int, seed: int) -> list[Task]:
    """The runs that bring each scenario of ``order`` to ``target`` runs in ``runs`` (a ledger's):
    a scenario's missing runs take the seeds from ``seed`` on that it has not run yet, and the
    runs are interleaved round by round in ``order`` (so parallel stacks share every scenario)."""
    have: dict[str, set[int]] = {name: set() for name in order}
    counts = dict.fromkeys(order, 0)
    for run in runs:
        if run.scenario in have:
            have[run.scenario].add(run.seed)
            counts[run.scenario] += 1
    wanted: dict[str, list[int]] = {}
    for name in order:
        seeds: list[int] = []
        candidate = seed
        while len(seeds) < target - counts[name]:
            if candidate not in have[name]:
                seeds.append(candidate)
            candidate += 1
        wanted[name] = seeds
    rounds = max((len(seeds) for seeds in wanted.values()), default=0)
    return [(n, wanted[n][i]) for i in range(rounds) for n in order if i < len(wanted[n])]


def write_plan(path: Path, tasks: list[Task]) -> Path:
    """Writes a parallel campaign's runs for :func:`claims` to take."""
    path.write_text(json.dumps(tasks))
    return path


def claims(plan: Path) -> Iterator[Task]:
    """The plan's runs, each taken by exactly one job: the next index is kept beside the plan,
    under a lock."""
    tasks = json.loads(plan.read_text())
    counter = plan.with_suffix(".next")
    while True:
        with open(plan.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            taken = int(counter.read_text() or 0) if counter.exists() else 0
            if taken >= len(tasks):
                return
            counter.write_text(str(taken + 1))
        name, seed = tasks[taken]
        yield str(name), int(seed)
