"""The generated-hostile-wasm campaign: N generated modules, each run in two separate processes.

    . bin/env && python bench/hostile_wasm.py                        # 1,000 modules, seeds 0..999
    . bin/env && python bench/hostile_wasm.py --modules 200 --seed 5000 --batch 25 --jobs 2

Seeds ``--seed .. --seed+N-1`` each give one module (``tests/offchain/sandbox/hostile_wasm.py``:
fuel-burning loops, unbounded recursion, memory.grow storms, out-of-bounds memory, traps, bad
indirect calls, every WASI function with garbage arguments, output floods, odd exit codes, and
every ninth module with flipped bytes). The seeds are cut into batches of ``--batch``; each batch
runs twice, in two fresh processes (``--jobs`` at a time), over one compiled-module cache. A module
fails the campaign when a process crashes or is killed by the timeout (no envelope for it), when
its two envelopes differ, or when its run outlasted the wall-clock backstop by more than
``--grace`` seconds (a hang). Prints the count per outcome kind, the slowest run and every failure
with its seed (rerun one with ``python tests/offchain/sandbox/hostile_wasm.py CACHE SEED 1``).
Exit status 1 if any module failed. The CI-sized version is
``tests/offchain/sandbox/test_sandbox_hostile_wasm.py`` (a few dozen seeds).
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = ROOT / "tests" / "offchain" / "sandbox" / "hostile_wasm.py"
sys.path.insert(0, str(PROBE.parent))

from hostile_wasm import LIMITS  # noqa: E402


def run_batch(cache: Path, start: int, count: int, timeout: float) -> dict[int, dict[str, object]]:
    """Seeds ``start..start+count-1`` in a fresh process: seed -> record (missing if it crashed)."""
    try:
        done = subprocess.run(
            [sys.executable, str(PROBE), str(cache), str(start), str(count)],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        out = done.stdout
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
    records = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    return {int(r["seed"]): r for r in records}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--grace", type=float, default=10.0)
    args = parser.parse_args()

    backstop = LIMITS.wall_clock_seconds
    timeout = args.batch * (backstop + args.grace) + 60
    starts = list(range(args.seed, args.seed + args.modules, args.batch))
    began = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="hostile-wasm-") as tmp,
        ThreadPoolExecutor(args.jobs) as pool,
    ):
        cache = Path(tmp)
        sizes = [min(args.batch, args.seed + args.modules - s) for s in starts]
        jobs = [(s, n) for s, n in zip(starts, sizes, strict=True) for _ in range(2)]
        results = list(pool.map(lambda job: run_batch(cache, *job, timeout), jobs))
    kinds: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    slowest = (0.0, -1)
    for index, (start, size) in enumerate(zip(starts, sizes, strict=True)):
        first, second = results[2 * index], results[2 * index + 1]
        for seed in range(start, start + size):
            a, b = first.get(seed), second.get(seed)
            if a is None or b is None:
                failures.append(f"seed {seed}: no envelope (the process crashed or hung)")
                continue
            kinds[str(a["kind"])] += 1
            if a["sha256"] != b["sha256"]:
                failures.append(f"seed {seed}: envelopes differ ({a['sha256']} / {b['sha256']})")
            for r in (a, b):
                seconds = float(r["seconds"])  # type: ignore[arg-type]
                slowest = max(slowest, (seconds, seed))
                if seconds > backstop + args.grace:
                    failures.append(f"seed {seed}: ran {seconds:.1f} s (backstop {backstop} s)")
            if not a["committable"]:
                kinds["(backstop fired, not committable)"] += 1
    print(f"modules: {args.modules} (seeds {args.seed}..{args.seed + args.modules - 1}), "
          f"processes: {len(jobs)}, {time.monotonic() - began:.0f} s")  # fmt: skip
    for kind, count in kinds.most_common():
        print(f"  {kind:34} {count}")
    print(f"slowest run: {slowest[0]:.2f} s (seed {slowest[1]}), backstop {backstop} s")
    print(f"failed: {len(failures)}")
    for line in failures:
        print("  " + line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
