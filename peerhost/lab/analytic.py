"""Closed forms the simulations are checked against (docs/economics.md)."""

from __future__ import annotations

from math import comb


def at_least(k: int, q: int, p: float) -> float:
    """P(Binomial(k, p) >= q): an adversary with stake share ``p`` holds ``q`` of ``k`` seats."""
    return sum(comb(k, i) * p**i * (1 - p) ** (k - i) for i in range(q, k + 1))


def capture(p: float, seats: int = 3, quorum: int | None = None) -> float:
    """Probability that a committee of ``seats`` is captured (``quorum`` defaults to a majority)."""
    return at_least(seats, quorum if quorum is not None else seats // 2 + 1, p)


def forgery_stands(p: float, seats: int = 3, quorum: int = 2, watcher: bool = True) -> float:
    """Probability that one forged leaf stands after the challenge window.

    Without a watcher a captured committee is enough. With one honest watcher the forgery must
    also capture the 2K+1 panel and then win the stake-weighted vote of the whole set, which it
    cannot below half of the stake (the honest voters vote); at ``p >= 1/2`` it can.
    """
    tier1 = capture(p, seats, quorum)
    if not watcher:
        return tier1
    return tier1 * at_least(2 * seats + 1, seats + 1, p) if p > 0.5 else 0.0


__all__ = ["at_least", "capture", "forgery_stands"]
