"""PNG figures of the lab's datasets (:mod:`peerhost.lab.figures`). Needs matplotlib, which the
rest of the package never imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from peerhost.lab.analytic import capture  # noqa: E402

ETHER = 1e18
Rows = list[dict[str, Any]]


def _save(fig: Any, out: Path, name: str) -> Path:
    path = out / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_capture(rows: Rows, out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    grid = [i / 100 for i in range(0, 61)]
    for k in sorted({r["seats"] for r in rows}):
        mine = [r for r in rows if r["seats"] == k]
        (line,) = ax.plot(
            grid, [capture(p, k) for p in grid], label=f"K={k}, Q={k // 2 + 1} analytic"
        )
        ax.errorbar(
            [r["share"] for r in mine],
            [r["simulated"] for r in mine],
            yerr=[2 * r["stderr"] for r in mine],
            fmt="o",
            color=line.get_color(),
            label=f"K={k} simulated ({mine[0]['draws']} seeds)",
        )
    ax.set_xlabel("adversary stake share p")
    ax.set_ylabel("P(committee captured)")
    ax.set_title("Committee capture: contract seat draw vs binomial")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return _save(fig, out, "capture")


def plot_forgery_window(rows: Rows, out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for watcher, style in ((False, "s-"), (True, "o-")):
        mine = [r for r in rows if r["watcher"] is watcher]
        ax.plot(
            [r["share"] for r in mine],
            [r["forged_stands"] for r in mine],
            style,
            label="one honest watcher online"
            if watcher
            else "nobody challenging (no watcher, out-voted seats offline)",
        )
    shares = sorted({r["share"] for r in rows})
    ax.plot(shares, [capture(p) for p in shares], "k:", label="P(capture), K=3 (analytic)")
    ax.set_xlabel("adversary stake share p")
    ax.set_ylabel("share of batches whose forgery stands")
    ax.set_title("A captured committee's forgery after the challenge window")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, out, "forgery_window")


def plot_profit_by_strategy(rows: Rows, out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    labels = [f"{r['strategy']} ({r['owner']})" for r in rows]
    y = range(len(rows))
    ax.barh(
        [i + 0.2 for i in y],
        [r["honest_per_batch_wei"] / ETHER for r in rows],
        0.4,
        label="same owner honest",
    )
    ax.barh(
        [i - 0.2 for i in y],
        [r["profit_per_batch_wei"] / ETHER for r in rows],
        0.4,
        label="deviating",
    )
    ax.set_yticks(list(y), labels, fontsize=7)
    ax.set_xscale("symlog", linthresh=1e-4)
    ax.set_xlabel("profit per batch (ether, symlog)")
    ax.set_title("Expected profit per batch at the default parameters")
    ax.axvline(0, color="k", lw=0.6)
    ax.legend(fontsize=8)
    return _save(fig, out, "profit_by_strategy")


def plot_grief(rows: Rows, out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(
        [r["griefer_share"] for r in rows],
        [r["honest_income_per_batch_per_ether_wei"] / 1e12 for r in rows],
        "o-",
        label="honest income per batch per ether staked",
    )
    ax.set_xlabel("griefer stake share (two identities, two lies)")
    ax.set_ylabel("micro-ether per batch per ether")
    ax.set_title("Honest workers' income under a griefer")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out, "grief")


def plot_forgery_cost(rows: Rows, out: Path) -> Path:
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 4))
    ks = [str(r["seats"]) for r in rows]
    x = range(len(rows))
    a.bar(
        [i - 0.25 for i in x],
        [r["share_for_capture_0.01"] for r in rows],
        0.25,
        label="P(capture) = 1 %",
    )
    a.bar(list(x), [r["share_for_capture_0.1"] for r in rows], 0.25, label="P(capture) = 10 %")
    a.bar(
        [i + 0.25 for i in x],
        [r["share_with_watcher"] for r in rows],
        0.25,
        label="to stand with a watcher",
    )
    a.set_xticks(list(x), [f"K={k}" for k in ks])
    a.set_ylabel("stake share needed")
    a.set_title("Stake needed for a forged verified answer")
    a.legend(fontsize=7)
    b.bar(
        [i - 0.2 for i in x],
        [r["watched_profit_per_attempt_wei"] / ETHER for r in rows],
        0.4,
        label="watched",
    )
    b.bar(
        [i + 0.2 for i in x],
        [r["unwatched_profit_per_attempt_wei"] / ETHER for r in rows],
        0.4,
        label="unwatched",
    )
    b.axhline(0, color="k", lw=0.6)
    b.set_xticks(list(x), [f"K={k}" for k in ks])
    b.set_ylabel("attacker profit per forgery attempt (ether)")
    b.set_title(f"Captured committee at p = {rows[0]['share']:.2f}")
    b.legend(fontsize=7)
    return _save(fig, out, "forgery_cost")


def plot_seat_crash(rows: Rows, out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for p in sorted({r["share"] for r in rows}):
        rates = sorted({r["crash_rate"] for r in rows if r["share"] == p})
        mean = []
        for rate in rates:
            gains = [
                r["gain_per_batch_wei"] for r in rows if (r["share"], r["crash_rate"]) == (p, rate)
            ]
            mean.append(sum(gains) / len(gains) / 1e15)
        ax.plot(rates, mean, "o-", label=f"p = {p:.2f}")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_yscale("symlog", linthresh=0.5)
    ax.set_xlabel("probability an out-voted honest seat is offline by the window")
    ax.set_ylabel("capture's gain over honest (milli-ether per batch)")
    ax.set_title("Captured committee, no watcher, no attesters")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, out, "seat_crash")


PLOTS = {
    "capture": plot_capture,
    "forgery_window": plot_forgery_window,
    "profit_by_strategy": plot_profit_by_strategy,
    "grief": plot_grief,
    "forgery_cost": plot_forgery_cost,
    "seat_crash": plot_seat_crash,
}


def plot_all(data: dict[str, Rows], out: Path) -> list[Path]:
    return [PLOTS[name](rows, out) for name, rows in data.items() if name in PLOTS]


__all__ = ["PLOTS", "plot_all"]
