"""The fault-injection campaign: each scenario of ``tests/e2e/faults`` run N times, seeds differing.

    . bin/env && python bench/faults.py                          # every scenario, 100 runs each
    . bin/env && python bench/faults.py --runs 5 --seed 1000     # seeds 1000..1004
    . bin/env && python bench/faults.py --runs 5 --seed 1000 --jobs 3   # on three stacks at once
    . bin/env && python bench/faults.py --scenarios gateway-killed-restarted,worker-killed-reveal-restarted
    . bin/env && python bench/faults.py --scenarios node-restarted --runs 3 --keep /tmp/faults-run
    . bin/env && python bench/faults.py --report bench/results/faults-ledger.jsonl   # the table
    . bin/env && python bench/faults.py --to 100 --seed 1200 --jobs 2   # top every scenario up to 100

Starts one stack per job (``--jobs``, default 1: an anvil of its own on a free port, the contracts,
the examples, three workers and the gateway as processes, in a directory of its own; the same stack
the fault tests run) and runs every chosen scenario ``--runs`` times, run ``i`` with seed ``--seed +
i``; with several jobs each stack takes the next run not taken yet. Each run injects its fault
while calls flow (a worker killed by SIGKILL at a duty point, the gateway killed with tickets in
flight, a worker's clock minutes ahead, a shallow reorg, the chain node restarted, the content store
(embedded, or a real IPFS daemon killed and restarted) down while a new version is published and
called; docs/faults.md), then checks on-chain that every ticket issued reached a terminal state
exactly once and that no honest worker lost stake (``tests/e2e/faults/fault_scenarios.py``). A
failed run prints its scenario, seed and reason (``--keep DIR`` keeps the stacks' directories,
``DIR/job-K``, with the processes' logs, for its diagnosis; rerun it alone with
``PEERHOST_FAULTS=all PEERHOST_FAULT_SEED=<seed> ape test tests/e2e/faults``) and the campaign goes
on. Every run appends one JSON line to the ledger (``--ledger``, default
``bench/results/faults-ledger.jsonl``: scenario, seed, git commit, passed, reason, tickets issued,
paid, refunded, what was lost, seconds; ``tests/e2e/faults/fault_ledger.py``), so a campaign of 100
runs per scenario accumulates over several invocations; ``--report LEDGER...`` prints the table of
the runs in the ledgers given, and each invocation ends with the table of its own runs: scenario,
runs, passed, and over the passed runs the tickets issued, paid, refunded and never charged
(issued, attested by nobody, never posted). A run that lost a ticket, posted one twice or slashed
an honest worker is a failed run. Stopped (SIGTERM to the campaign), each stack ends and the runs
then under way are not recorded (a later ``--to`` runs them again). Exit status 1 if any run
failed. A run takes about 10 s to 2 min (the ``-down`` ones wait out a no-show's windows;
``ipfs-down`` about 4 min: it restarts the gateway and the workers twice). ``ipfs-down`` needs js-ipfs (``bin/setup --ipfs``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.chdir(ROOT)  # ape resolves the project (and ape-config.yaml) from the working directory
sys.path.insert(0, str(ROOT / "tests" / "e2e" / "faults"))

import fault_ledger  # noqa: E402
from fault_ledger import Run  # noqa: E402

LEDGER = ROOT / "bench" / "results" / "faults-ledger.jsonl"
#: Seconds between the starts of parallel stacks (their setup is the CPU-heavy part, and each
#: takes free ports as it starts).
STAGGER = 20.0

Task = fault_ledger.Task

#: Set when the campaign is stopped (SIGTERM). The run it interrupts is not a run of its scenario:
#: it is not recorded, and its job ends. (A scenario's clean-up can put an error of its own in
#: place of the interruption: stopping six stacks, a gateway started again in a ``finally`` on a
#: port the killed one still held raised ``PortInUse``, which was recorded as the run's failure,
#: and the job went on to its next run.)
STOPPED = threading.Event()


def stop(*_: object) -> None:
    """The SIGTERM handler: notes the stop and leaves (the stack is stopped on the way out). A
    second SIGTERM (the campaign's own, after its process group's) does not cut that short."""
    if STOPPED.is_set():
        return
    STOPPED.set()
    sys.exit(143)


def attempt(
    run: Callable[[], Any], say: Callable[[str], None], what: str
) -> tuple[str, Any] | None:
    """Runs one scenario (``what`` names it): ``("", outcome)`` if it passed, ``(reason, None)``
    if it failed, and ``None`` if the campaign was stopped while it ran, whatever it raised or
    returned."""
    from fault_scenarios import ScenarioFailed

    result: tuple[str, Any]
    try:
        result = ("", run())
    except ScenarioFailed as exc:
        result = (str(exc), None)
        if not STOPPED.is_set():
            say(f"FAIL {what}: {exc}")
    except Exception as exc:  # a broken stack: report, try the next run
        result = (repr(exc), None)
        if not STOPPED.is_set():
            say(f"ERROR {what}:")
            traceback.print_exc()
    if STOPPED.is_set():
        ended = f" (it ended: {result[0]})" if result[0] else ""
        say(f"stopped: {what} was interrupted, and is not recorded{ended}")
        return None
    return result


#: Seconds a run took on one quiet stack (``--runs 1 --seed 200``), to start the long runs first
#: on parallel stacks (so the last stack to finish is not one that just started a 2-minute run).
#: Order only: nothing waits on these.
EXPECTED = {
    "worker-killed-reveal-down": 136,
    "worker-killed-commit-down": 110,
    "store-down": 86,
    "worker-killed-attest-down": 64,
    "gateway-killed-down": 65,
    "worker-killed-reveal-restarted": 45,
    "worker-killed-commit-restarted": 33,
    "ipfs-down": 240,
}


def main(argv: list[str] | None = None) -> int:
    from fault_scenarios import SCENARIOS

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="runs per scenario (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first run (default 1)")
    parser.add_argument(
        "--to",
        type=int,
        default=None,
        metavar="N",
        help="instead of --runs: as many runs of each scenario as bring it to N runs in --ledger"
        " (seeds from --seed on that it has not run)",
    )
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma-separated (default: all)"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="stacks running at once (default 1; 2-3 fit 2 cores)"
    )
    parser.add_argument(
        "--ledger", type=Path, default=LEDGER, help=f"append a line per run here (default {LEDGER})"
    )
    parser.add_argument(
        "--report",
        type=Path,
        nargs="+",
        default=None,
        metavar="LEDGER",
        help="print the table of the runs in these ledgers and exit (runs nothing)",
    )
    parser.add_argument(
        "--commit",
        default="",
        metavar="PREFIX[,PREFIX…]",
        help="with --report or --to: only the ledger's runs made at a commit whose hash starts"
        " with one of these prefixes (the runs of one product code)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="run the stacks in DIR/job-K and keep them (the processes' logs) afterwards",
    )
    parser.add_argument("--plan", type=Path, default=None, help=argparse.SUPPRESS)  # a job's
    parser.add_argument("--job", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--campaign", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.report is not None:
        try:
            runs = fault_ledger.of_commit(fault_ledger.read(args.report), args.commit)
        except (OSError, fault_ledger.LedgerError) as exc:
            print(exc, file=sys.stderr)
            return 2
        return 1 if fault_ledger.report(runs, sys.stdout) else 0
    if args.plan is not None:  # one job of a parallel campaign
        signal.signal(signal.SIGTERM, stop)  # stop the stack on the way out
        return run_stack(
            fault_ledger.claims(args.plan), args.ledger, args.keep, args.job, args.campaign
        )
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}")
    if args.runs < 1 or args.jobs < 1:
        parser.error(f"--runs and --jobs must be at least 1, not {args.runs} and {args.jobs}")
    longest_first = sorted(names, key=lambda name: -EXPECTED.get(name, 20))
    order = longest_first if args.jobs > 1 else names
    if args.to is not None:
        try:
            known = fault_ledger.read([args.ledger]) if args.ledger.exists() else []
            known = fault_ledger.of_commit(known, args.commit)
        except fault_ledger.LedgerError as exc:
            print(exc, file=sys.stderr)
            return 2
        tasks = fault_ledger.top_up(known, order, args.to, args.seed)
        if not tasks:
            print(f"every chosen scenario has {args.to} runs in {args.ledger} already")
            return 0
        print(f"{len(tasks)} run(s) to bring each scenario to {args.to} in {args.ledger}")
    else:
        tasks = [(name, args.seed + i) for i in range(args.runs) for name in order]
    campaign = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}/{os.getpid()}"
    started = time.monotonic()
    # stopped by SIGTERM, stop the stacks on the way out (without it, a campaign's jobs ran on
    # after it, orphaned: seen with --jobs 3)
    signal.signal(signal.SIGTERM, stop)
    if args.jobs == 1:
        run_stack(iter(tasks), args.ledger, args.keep, 0, campaign)
    else:
        run_jobs(tasks, args)
        campaign = args.campaign
    mine = [run for run in fault_ledger.read([args.ledger]) if run.campaign == campaign]
    print(f"\n{len(mine)} run(s) on {args.jobs} stack(s) in {time.monotonic() - started:.0f} s")
    print(f"ledger: {args.ledger}\n")
    failed = fault_ledger.report(mine, sys.stdout)
    return 1 if failed or len(mine) < len(tasks) else 0


def run_jobs(tasks: list[Task], args: argparse.Namespace) -> None:
    """Starts ``args.jobs`` copies of this command, each on a stack of its own, taking runs from
    one plan, and waits for them (stopping them all if this one is interrupted)."""
    args.campaign = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}/{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="peerhost-faults-plan-") as tmp:
        plan = fault_ledger.write_plan(Path(tmp) / "plan.json", tasks)
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for job in range(1, args.jobs + 1):
                if job > 1:
                    time.sleep(STAGGER)
                command = [sys.executable, str(Path(__file__).resolve()), "--plan", str(plan)]
                command += ["--job", str(job), "--ledger", str(args.ledger.resolve())]
                command += ["--campaign", args.campaign]
                if args.keep is not None:
                    command += ["--keep", str(args.keep.resolve())]
                procs.append(subprocess.Popen(command))
            for proc in procs:
                proc.wait()
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=120)
                if proc.poll() is None:
                    proc.kill()


def run_stack(
    tasks: Iterator[Task], ledger: Path, keep: Path | None, job: int, campaign: str
) -> int:
    """Runs ``tasks`` one after another on one stack; appends a ledger line per run."""
    from ape import accounts, networks, project
    from fault_scenarios import SCENARIOS, fault_config
    from node_proxy import ProxiedDevnet
    from ticket_stack import TicketStack

    from peerhost.devnet.accounts import GATEWAY
    from peerhost.devnet.progress import Progress

    prefix = f"[job {job}] " if job else ""
    say: Callable[[str], None] = lambda line: print(prefix + line, flush=True)  # noqa: E731
    commit = fault_ledger.git_commit(ROOT)
    failed = 0
    with contextlib.ExitStack() as scope:
        if keep is not None:
            root = (keep / f"job-{job}" if job else keep).resolve()
            root.mkdir(parents=True, exist_ok=True)
        else:
            root = Path(scope.enter_context(tempfile.TemporaryDirectory(prefix="peerhost-faults-")))
        # compiled runtimes are kept between campaigns (as bench/e2e_bench.py keeps them)
        stacks = 0

        def open_stack() -> tuple[Any, Any]:
            nonlocal stacks
            stacks += 1  # a replaced stack's files stay where they were (kept with --keep)
            home = root if stacks == 1 else root / f"stack-{stacks}"
            config = fault_config(
                home, sandbox_cache=ROOT / ".cache" / "peerhost-bench" / "sandbox"
            )
            devnet = ProxiedDevnet(config, Progress(say))  # its node behind a proxy (restarts)
            devnet.start_chain()
            try:
                stack = TicketStack(devnet, networks, accounts.test_accounts[1])
                with stack.ape():
                    stack.examples = devnet.setup_chain(
                        project, accounts.test_accounts[0], accounts.test_accounts[1]
                    ).project
                devnet.start_services()
            except BaseException:
                devnet.stop()
                raise
            return devnet, stack

        devnet, stack = open_stack()
        try:
            gateway = accounts.test_accounts[GATEWAY]
            reason = ""
            for name, seed in tasks:
                if STOPPED.is_set():  # (a stop that came between two runs)
                    break
                why = unfit(devnet, stack, reason)
                if why:
                    say(f"{why}: a new stack")
                    devnet.stop()
                    devnet, stack = replace_stack(open_stack, say)
                with stack.ape():
                    added = rebond(devnet, gateway)
                if added:
                    say(f"the gateway's bond topped up by {added / 10**18:g} ETH before this run")
                began = datetime.now(UTC)
                started = time.monotonic()
                entry: dict[str, object] = {}
                result = attempt(partial(SCENARIOS[name], stack, seed), say, f"{name} seed={seed}")
                if result is None:
                    break
                reason, outcome = result
                if not reason:
                    entry = fault_ledger.outcome_fields(outcome)
                    say(f"ok   {outcome.line()} ({time.monotonic() - started:.0f} s)")
                failed += bool(reason)
                run = Run(
                    scenario=name,
                    seed=seed,
                    commit=commit,
                    passed=not reason,
                    reason=reason,
                    lost=fault_ledger.UNCHECKED if reason else fault_ledger.NOTHING,
                    seconds=round(time.monotonic() - started, 1),
                    started=began.isoformat(timespec="seconds"),
                    campaign=campaign,
                    job=job,
                    **entry,  # type: ignore[arg-type]
                )
                fault_ledger.append(ledger, run)
        finally:
            devnet.stop()
    return 1 if failed else 0


#: Before each run a stack's gateway bond is brought back to this many times the minimum.
BOND_FLOOR = 3

#: A stack whose workers' stake fell below this (wei) is replaced by a new one before the next run.
STAKE_FLOOR = 10**18


def unfit(devnet: Any, stack: Any, failed: str) -> str:
    """Why the next run needs a new stack (``failed``: the last run's failure, or ""), or "".

    A run that failed may leave its stack short of a process or in a state no scenario expects:
    an ``ipfs-down`` whose clean-up could not start the gateway again (it took 57 s to import on
    a machine at load 19) left the stack without one, and the job's next three runs failed on
    it. Its files stay where they were (``--keep``), to be read."""
    if failed:
        return "the last run failed"
    down = [] if devnet.gateway_alive() else ["the gateway"]
    down += [f"worker-{n + 1}" for n, proc in enumerate(devnet.workers) if not proc.alive()]
    down += [f"worker-{n + 1}" for n in range(len(devnet.workers), devnet.config.workers)]
    if down:
        return f"{', '.join(down)} not running"
    try:
        drained = drained_workers(stack)
    except Exception as exc:  # a stack a scenario broke
        return f"its workers' stake unreadable ({exc!r})"
    return f"worker stake below {STAKE_FLOOR / 10**18:g} ETH ({drained})" if drained else ""


#: Tries at a new stack before a job gives up (a start can time out on a loaded machine, when
#: failures, and so new stacks, come together).
STACK_TRIES = 3


def replace_stack(
    open_stack: Callable[[], tuple[Any, Any]], say: Callable[[str], None]
) -> tuple[Any, Any]:
    """``open_stack()``, tried again (``STACK_TRIES`` in all) when it raises; a stop is not."""
    for _ in range(STACK_TRIES - 1):
        try:
            return open_stack()
        except Exception as exc:
            if STOPPED.is_set():
                raise
            say(f"the new stack did not start ({exc!r}): again")
    return open_stack()


def drained_workers(stack: Any) -> str:
    """The workers (``n=ETH`` each) whose stake is below ``STAKE_FLOOR``, or "". The runs that
    leave a worker down (its seats' and panels' no-shows slashed, as the protocol says) drain it by
    up to ~1.4 ETH a run; on a stack kept for hours every worker reached zero, and a run judges an
    honest worker's losses against a stake that is no longer there. A worker's key is its running
    process's (a top-up from here would race its nonces), so the stack is replaced instead."""
    from fault_scenarios import stakes, worker_addresses

    have = stack.view(lambda view: stakes(view, worker_addresses(stack)))
    low = {w: s for w, s in have.items() if s < STAKE_FLOOR}
    return ", ".join(f"{w[:10]}={s / 10**18:g}" for w, s in sorted(low.items()))


def rebond(devnet: Any, gateway: Any) -> int:
    """Tops the stack's gateway bond back up to ``BOND_FLOOR`` times the minimum; returns the wei
    added. The runs that make attesters post its tickets as orphans or void them
    (``gateway-killed-down``, ``node-restarted``) pay the project back from that bond, as the
    protocol says; without this, a stack's gateway falls below the minimum after some 30 runs and
    every later run on it fails (its batches refused ``BondTooLow``), which is the campaign's
    artefact, not a fault of the run."""
    gateways = devnet.settlement.gateways
    floor = BOND_FLOOR * int(devnet.settlement_params.min_gateway_bond)
    have = int(gateways.bondOf(gateway).amount)
    if have >= floor:
        return 0
    gateways.bond(value=floor - have, sender=gateway)
    return floor - have


if __name__ == "__main__":
    sys.exit(main())
