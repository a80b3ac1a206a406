"""The protocol lab's figures: PNGs plus the same numbers as CSV and JSON (docs/economics.md).

    . bin/env && python bench/lab_figures.py                 # docs/economics/, default sizes
    python bench/lab_figures.py --batches 400 --draws 1000 --out /tmp/lab   # a quick look

Runs the fast model only (no chain); prints a JSON summary of what it wrote, how long it took, and
the break-even offline probability of out-voted honest seats per stake share (from ``seat_crash``:
the lowest swept probability at which an unwatched captured committee stops losing).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from peerhost.lab.economics import break_even_crash_rates
from peerhost.lab.figures import write_datasets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/economics"))
    ap.add_argument("--batches", type=int, default=2000, help="batches per simulated run")
    ap.add_argument("--draws", type=int, default=4000, help="seeds per point of the capture curve")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-plots", action="store_true", help="only the CSV/JSON (no matplotlib)")
    args = ap.parse_args()
    started = time.perf_counter()
    data = write_datasets(args.out, args.batches, args.draws, seed=args.seed)
    pngs: list[str] = []
    if not args.no_plots:
        from peerhost.lab.plots import plot_all  # matplotlib only when plotting

        pngs = [str(p) for p in plot_all(data, args.out)]
    print(
        json.dumps(
            {
                "out": str(args.out),
                "datasets": {k: len(v) for k, v in data.items()},
                "pngs": pngs,
                "seat_crash_break_even": {
                    f"{p:.3f}": rate
                    for p, rate in break_even_crash_rates(data["seat_crash"]).items()
                },
                "seconds": round(time.perf_counter() - started, 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
