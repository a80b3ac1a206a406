"""The fault-injection campaign: each scenario of ``tests/e2e/faults`` run N times, seeds differing.

    . bin/env && python bench/faults.py                          # every scenario, 100 runs each
    . bin/env && python bench/faults.py --runs 5 --seed 1000     # seeds 1000..1004
    . bin/env && python bench/faults.py --scenarios gateway-killed-restarted,worker-killed-reveal-restarted
    . bin/env && python bench/faults.py --scenarios node-restarted --runs 3 --keep /tmp/faults-run

Starts one stack (an anvil of its own on a free port, the contracts, the examples, three workers
and the gateway as processes; the same stack the fault tests run, in a temporary directory) and
runs every chosen scenario ``--runs`` times, run ``i`` with seed ``--seed + i``. Each run injects its
fault while calls flow (a worker killed by SIGKILL at a duty point, the gateway killed with tickets
in flight, a worker's clock minutes ahead, a shallow reorg, the chain node restarted, the content store (embedded, or a real IPFS daemon
killed and restarted) down while a new version is published and called; docs/faults.md), then checks on-chain that every ticket issued reached a terminal state exactly once and that
no honest worker lost stake (``tests/e2e/faults/fault_scenarios.py``). A failed run prints its
scenario, seed and reason (``--keep DIR`` keeps the stack's directory, the processes' logs, for
its diagnosis; rerun it alone with ``PEERHOST_FAULTS=all PEERHOST_FAULT_SEED=<seed> ape
test tests/e2e/faults``) and the campaign goes on. Prints one line per run and, at the end, the
table: scenario, runs, passed, and over the passed runs the tickets issued, paid, refunded and never
charged (issued, attested by nobody, never posted); a run that lost a ticket, posted one twice or
slashed an honest worker is a failed run. Exit status 1 if any run failed. A run takes about 20 s to 2 min (the ``-down`` ones wait out a no-show's windows;
``ipfs-down`` about 4 min: it restarts the gateway and the workers twice). ``ipfs-down`` needs
js-ipfs (``bin/setup --ipfs``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.chdir(ROOT)  # ape resolves the project (and ape-config.yaml) from the working directory
sys.path.insert(0, str(ROOT / "tests" / "e2e" / "faults"))

from ape import accounts, networks, project  # noqa: E402
from fault_scenarios import SCENARIOS, ScenarioFailed, fault_config  # noqa: E402
from ticket_stack import TicketStack  # noqa: E402

from peerhost.devnet.progress import Progress  # noqa: E402
from peerhost.devnet.stack import Devnet  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="runs per scenario (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first run (default 1)")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma-separated (default: all)"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="run the stack in this directory and keep it (the processes' logs) afterwards",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}")
    table: dict[str, list[int]] = {n: [0] * 6 for n in names}  # runs passed tickets paid ...
    failures: list[str] = []
    with contextlib.ExitStack() as scope:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            root = args.keep.resolve()
        else:
            root = Path(scope.enter_context(tempfile.TemporaryDirectory(prefix="peerhost-faults-")))
        # compiled runtimes are kept between campaigns (as bench/e2e_bench.py keeps them)
        config = fault_config(root, sandbox_cache=ROOT / ".cache" / "peerhost-bench" / "sandbox")
        devnet = Devnet(config, Progress(lambda line: print(line, flush=True)))
        devnet.start_chain()
        try:
            stack = TicketStack(devnet, networks, accounts.test_accounts[1])
            with stack.ape():
                stack.examples = devnet.setup_chain(
                    project, accounts.test_accounts[0], accounts.test_accounts[1]
                ).project
            devnet.start_services()
            for i in range(args.runs):
                for name in names:
                    seed = args.seed + i
                    row = table[name]
                    row[0] += 1
                    started = time.monotonic()
                    try:
                        outcome = SCENARIOS[name](stack, seed)
                    except ScenarioFailed as exc:
                        failures.append(f"{name} seed {seed}: {exc}")
                        print(f"FAIL {name} seed={seed}: {exc}", flush=True)
                        continue
                    except Exception as exc:  # a broken stack: report, try the next run
                        failures.append(f"{name} seed {seed}: {exc!r}")
                        print(f"ERROR {name} seed={seed}:", flush=True)
                        traceback.print_exc()
                        continue
                    row[1] += 1
                    row[2] += outcome.tickets
                    row[3] += outcome.paid
                    row[4] += outcome.refunded
                    row[5] += outcome.never_charged
                    took = time.monotonic() - started
                    print(f"ok   {outcome.line()} ({took:.0f} s)", flush=True)
        finally:
            devnet.stop()
    print()
    heads = ("runs", "passed", "tickets", "paid", "refunded", "never charged")
    print(f"{'scenario':<34}" + "".join(f"{h:>14}" for h in heads))
    for name, row in table.items():
        print(f"{name:<34}" + "".join(f"{v:>14}" for v in row))
    if failures:
        print("\nfailed runs:")
        for line in failures:
            print(f"  {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
