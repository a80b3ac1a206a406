"""The long invariant campaign: the protocol's Hypothesis state machines, split across processes.

    . bin/env && python bench/campaign.py --sequences 10000 --procs 2              # both machines
    . bin/env && python bench/campaign.py --sequences 200 --procs 2 --machines accountability
    . bin/env && python bench/campaign.py --sequences 10000 --procs 2 --minutes 30  # stop after 30 min

Runs ``--sequences`` sequences of each machine (``tests/contracts/settlement``: the settlement core
machine ``test_settlement_stateful.py`` and the accountability machine
``test_accountability_stateful.py``), the same machines, moves and invariants the CI runs, only
more of them. ``--procs`` worker processes each run chunks of at most ``--chunk`` sequences per
machine, one after another; a chunk is one ``ape test`` of both machine files (its own anvil on a
free port, one deployment, an ``evm_snapshot``/``evm_revert`` per sequence) with its own Hypothesis
seed (``--seed`` + 1000 x process + chunk), niced. A chunk that finds a failure stops there (the
machines run without the shrink phase); the campaign records it and the next chunk goes on with
the next seed until the count is reached. A chunk runs one machine (the one furthest from its
count), so with two processes both machines run at once. ``--minutes`` stops the campaign after
that long: running chunks are interrupted and counted as far as their last progress report (every
50 sequences).

Prints a line per chunk and, per machine: sequences, steps, transactions, the finalize/dispute
split, wall time and sequences per minute, and every failure with its reproduction: the seed, the
failing move as the machine printed it, Hypothesis's ``@reproduce_failure`` blob, and the command
that reruns the chunk (seats come from each block's prevrandao, so a replay may fail at another
step). Logs and per-chunk figures stay in ``--out``. Exit status 1 if any chunk failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TESTS = "tests/contracts/settlement"
MACHINES = {
    "settlement": ("test_settlement_stateful.py", "PEERHOST_SETTLEMENT"),
    "accountability": ("test_accountability_stateful.py", "PEERHOST_ACCOUNTABILITY"),
}


@dataclass
class Chunk:
    proc: int
    index: int
    seed: int
    want: dict[str, int]
    seconds: float = 0.0
    status: int = 0
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: Path = Path()

    def command(self, steps: int | None, basetemp: Path) -> tuple[list[str], dict[str, str]]:
        env = dict(os.environ)
        env["PEERHOST_STATEFUL_REPORT_DIR"] = str(self.log.parent)
        files = []
        for machine, n in self.want.items():
            name, prefix = MACHINES[machine]
            files.append(f"{TESTS}/{name}")
            env[f"{prefix}_EXAMPLES"] = str(n)
            if steps:
                env[f"{prefix}_STEPS"] = str(steps)
        cmd = ["ape", "test", *files, "-s", "-q", "-p", "no:cacheprovider"]
        cmd += [f"--basetemp={basetemp}", f"--hypothesis-seed={self.seed}"]
        return cmd, env

    def rerun(self, steps: int | None) -> str:
        envs = " ".join(
            f"{MACHINES[m][1]}_EXAMPLES={n}" + (f" {MACHINES[m][1]}_STEPS={steps}" if steps else "")
            for m, n in self.want.items()
        )
        files = " ".join(f"{TESTS}/{MACHINES[m][0]}" for m in self.want)
        return f"{envs} ape test {files} -s --hypothesis-seed={self.seed}"


@dataclass
class Failure:
    machine: str
    seed: int
    what: str
    blobs: list[str]
    rerun: str


class Campaign:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Path(args.out or tempfile.mkdtemp(prefix="peerhost-campaign-"))
        self.out.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.left = {m: args.sequences for m in args.machines}
        self.chunks: list[Chunk] = []
        self.failures: list[Failure] = []
        self.started = time.monotonic()
        self.stopping = False
        self.running: dict[int, subprocess.Popen[bytes]] = {}

    def take(self, proc: int, index: int) -> Chunk | None:
        """The next chunk for ``proc``: up to ``--chunk`` sequences of each machine still short."""
        with self.lock:
            out_of_time = self.args.minutes and (
                time.monotonic() - self.started > 60 * self.args.minutes
            )
            if self.stopping or out_of_time:
                return None
            # one machine per chunk, the one furthest from its count: processes run both at once
            machine = max(self.left, key=lambda m: self.left[m])
            n = min(self.args.chunk, self.left[machine])
            if n <= 0:
                return None
            self.left[machine] -= n
            want = {machine: n}
            chunk = Chunk(proc, index, self.args.seed + 1000 * proc + index, want)
            chunk.log = self.out / f"p{proc}-c{index}" / "log.txt"
            chunk.log.parent.mkdir(parents=True, exist_ok=True)
            return chunk

    def worker(self, proc: int) -> None:
        index = 0
        while (chunk := self.take(proc, index)) is not None:
            self.run(chunk)
            index += 1

    def run(self, chunk: Chunk) -> None:
        cmd, env = chunk.command(self.args.steps, self.out / f"basetemp-p{chunk.proc}")
        begun = time.monotonic()
        with chunk.log.open("wb") as log:
            child = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the campaign, which stops its children
                preexec_fn=lambda: os.nice(self.args.nice),
            )
            with self.lock:
                self.running[chunk.proc] = child
            chunk.status = child.wait()
            with self.lock:
                self.running.pop(chunk.proc, None)
        chunk.seconds = time.monotonic() - begun
        for machine in chunk.want:
            path = chunk.log.parent / f"{machine}.json"
            chunk.figures[machine] = json.loads(path.read_text()) if path.exists() else {}
        with self.lock:
            self.chunks.append(chunk)
            for machine, n in chunk.want.items():
                done = int(chunk.figures[machine].get("runs", {}).get("sequences", 0))
                if not self.stopping:
                    self.left[machine] += max(0, n - done)  # a failed chunk's rest goes to the next
            # A chunk the campaign interrupted failed only if a move or an invariant failed first
            # (the interrupt itself ends Hypothesis's run with an error of its own).
            stopped = self.stopping and not any(f.get("first") for f in chunk.figures.values())
            if chunk.status != 0 and not stopped:  # a chunk the campaign stopped did not fail
                self.failures += self.failures_of(chunk)
        print(self.chunk_line(chunk), flush=True)

    def failures_of(self, chunk: Chunk) -> list[Failure]:
        text = chunk.log.read_text(errors="replace")
        blobs = re.findall(r"@reproduce_failure\([^)]*\)", text)
        out = []
        for machine, figures in chunk.figures.items():
            if figures.get("failure"):
                out.append(
                    Failure(
                        machine, chunk.seed, figures["failure"], blobs, chunk.rerun(self.args.steps)
                    )
                )
        if not out:  # it failed before a machine could say (setup, collection, a crash)
            tail = "\n".join(text.strip().splitlines()[-15:])
            out.append(
                Failure(
                    "?",
                    chunk.seed,
                    f"exit {chunk.status}:\n{tail}",
                    blobs,
                    chunk.rerun(self.args.steps),
                )
            )
        return out

    def chunk_line(self, chunk: Chunk) -> str:
        parts = []
        for machine, figures in chunk.figures.items():
            runs = figures.get("runs", {})
            parts.append(f"{machine} {runs.get('sequences', 0)}/{chunk.want[machine]}")
        state = "ok" if chunk.status == 0 else f"exit {chunk.status}, log {chunk.log}"
        if self.stopping and chunk.status != 0:
            state = "stopped at the time limit (figures as of its last progress report)"
        return (
            f"[{time.monotonic() - self.started:7.0f} s] process {chunk.proc} chunk {chunk.index} "
            f"seed {chunk.seed}: {', '.join(parts)} in {chunk.seconds:.0f} s {state}"
        )

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            for child in self.running.values():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGINT)  # ape stops its anvil

    def summary(self) -> str:
        wall = time.monotonic() - self.started
        lines = [
            f"\ncampaign: {self.args.procs} processes, {len(self.chunks)} chunks, wall {wall:.0f} s, logs in {self.out}"
        ]
        for machine in self.args.machines:
            total: dict[str, int] = {}
            busy = 0.0
            for chunk in self.chunks:
                figures = chunk.figures.get(machine)
                if not figures:
                    continue
                busy += float(figures.get("seconds", 0))
                for k, v in figures.get("runs", {}).items():
                    total[k] = total.get(k, 0) + int(v)
            seqs = total.get("sequences", 0)
            rate = seqs / (wall / 60) if wall else 0.0
            lines.append(
                f"{machine}: {seqs} sequences, {total.get('steps', 0)} steps; {split(machine, total)}; "
                f"{busy:.0f} s in the machine (summed over processes), {rate:.0f} sequences per minute of wall time"
            )
            lines.append(f"  counters: {total}")
        lines.append(f"failures: {len(self.failures)}")
        for f in self.failures:
            lines.append(f"- {f.machine}, seed {f.seed}: {f.what}")
            for blob in f.blobs:
                lines.append(f"  {blob}")
            lines.append(f"  rerun: {f.rerun}")
        return "\n".join(lines)


def split(machine: str, total: dict[str, int]) -> str:
    """The finalize/dispute split of a machine's batches or leaves."""
    if machine == "settlement":
        batches = total.get("batches", 0)
        fin = total.get("finalizing", 0)
        share = fin / batches if batches else 0.0
        return f"{batches} batches, {fin} finalized a leaf ({share:.0%}), the rest refunded, disputed or expired"
    settled = total.get("settled", 0)
    disputed = total.get("disputed", 0)
    share = disputed / settled if settled else 0.0
    return (
        f"{settled} leaves settled by a committee, {disputed} disputed ({share:.0%}); "
        f"{total.get('cases', 0)} cases opened, {total.get('closed', 0)} closed, "
        f"{total.get('overturned', 0)} tier-1 values overturned"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sequences", type=int, default=10_000, help="sequences per machine")
    parser.add_argument("--procs", type=int, default=2, help="processes (one anvil each)")
    parser.add_argument("--machines", default=",".join(MACHINES), help="settlement,accountability")
    parser.add_argument(
        "--chunk", type=int, default=1000, help="sequences per machine per ape test run"
    )
    parser.add_argument(
        "--steps", type=int, default=None, help="steps per sequence (default: the tests' own)"
    )
    parser.add_argument("--seed", type=int, default=0, help="first Hypothesis seed")
    parser.add_argument(
        "--minutes",
        type=float,
        default=0,
        help="stop after this long, counting interrupted chunks to their last report (0: never)",
    )
    parser.add_argument("--nice", type=int, default=10, help="niceness of the test processes")
    parser.add_argument(
        "--out", default="", help="where logs and figures go (default: a new temporary directory)"
    )
    args = parser.parse_args()
    args.machines = [m.strip() for m in args.machines.split(",") if m.strip()]
    unknown = set(args.machines) - set(MACHINES)
    if unknown:
        parser.error(f"unknown machine(s) {sorted(unknown)}: choose among {sorted(MACHINES)}")
    if args.sequences < 1 or args.procs < 1 or args.chunk < 1:
        parser.error("--sequences, --procs and --chunk must be at least 1")
    campaign = Campaign(args)
    threads = [
        threading.Thread(target=campaign.worker, args=(p,), daemon=True) for p in range(args.procs)
    ]
    for t in threads:
        t.start()
    try:
        while any(t.is_alive() for t in threads):
            time.sleep(0.5)
            if args.minutes and time.monotonic() - campaign.started > 60 * args.minutes:
                print(f"{args.minutes} minutes: stopping the running chunks", file=sys.stderr)
                campaign.stop()
                for t in threads:
                    t.join(timeout=120)
                break
    except KeyboardInterrupt:
        print("stopping: waiting for the running chunks to stop their chains", file=sys.stderr)
        campaign.stop()
        for t in threads:
            t.join(timeout=60)
    print(campaign.summary())
    return 1 if campaign.failures else 0


if __name__ == "__main__":
    sys.exit(main())
