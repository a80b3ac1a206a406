"""The lab's figures as data: every dataset written as CSV and JSON (plots in :mod:`plots`).

    python bench/lab_figures.py --out docs/economics       # the numbers and the PNGs

Each dataset is a list of flat rows from :mod:`peerhost.lab.economics`; ``write_datasets`` runs
them all with the given size and returns them by name.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peerhost.lab import economics
from peerhost.lab.params import LabParams

Rows = list[dict[str, Any]]


def datasets(
    batches: int, draws: int, params: LabParams | None = None, seed: int = 0
) -> dict[str, Callable[[], Rows]]:
    """Dataset name -> how to compute it."""
    return {
        "capture": lambda: economics.capture_curve(draws=draws, seed=seed),
        "forgery_window": lambda: economics.forgery_survival(
            batches=batches, params=params, seed=seed
        ),
        "profit_by_strategy": lambda: economics.profit_by_strategy(
            batches=batches, params=params, seed=seed
        ),
        "grief": lambda: economics.honest_income_under_grief(
            batches=batches, params=params, seed=seed
        ),
        "forgery_cost": lambda: economics.forgery_cost(batches=batches, params=params, seed=seed),
        "seat_crash": lambda: economics.seat_crash_sweep(
            batches=batches, params=params, seeds=(seed, seed + 1)
        ),
    }


def write_rows(rows: Rows, out: Path, name: str) -> None:
    """``name.csv`` and ``name.json`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(rows, indent=1) + "\n")
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with (out / f"{name}.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def write_datasets(
    out: Path,
    batches: int = 2000,
    draws: int = 4000,
    params: LabParams | None = None,
    seed: int = 0,
) -> dict[str, Rows]:
    """Computes every dataset, writes it under ``out`` and returns them by name."""
    data = {}
    for name, compute in datasets(batches, draws, params, seed).items():
        data[name] = compute()
        write_rows(data[name], out, name)
    (out / "params.json").write_text(json.dumps((params or LabParams()).as_dict(), indent=1) + "\n")
    return data


__all__ = ["datasets", "write_datasets", "write_rows"]
