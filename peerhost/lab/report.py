"""What a simulation reports: per-identity money in wei and the protocol's event counts.

Both simulators fill the same :class:`Report`, so a test can compare them field by field.
Profit is what an identity gained or lost through the protocol (credits, slashes, forfeited bonds),
in wei; gas is reported apart (the chain runner measures it, the model does not price it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

#: Ledger keys of the parties that are not worker identities.
PROJECT = "project"
GATEWAY = "gateway"
BURNED = "burned"

COUNTS = (
    "batches",
    "leaves",
    "final",
    "forged_final",
    "finalized_wrong",
    "refunded",
    "unaudited",
    "disputed",
    "escalations",
    "tier3",
    "challenges",
    "overturned",
    "seat_slashes",
    "attestation_slashes",
    "over_issued",
    "voided",
    "equivocations",
)


@dataclass
class Report:
    """Per-identity profit and gas (wei) and event counts of one run.

    Attributes:
        profit: Wei gained (positive) or lost, per identity and for ``project``, ``gateway``
            and ``burned`` (what left circulation). Everything sums to zero: the protocol only
            moves money.
        gas: Wei of gas each account paid (chain runner only).
        slashed: Wei of stake each identity lost.
        counts: Event counts (see :data:`COUNTS`).
        owners: Identity -> owner (one owner may run several identities).
        strategies: Identity -> strategy name.
    """

    profit: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    gas: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    slashed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    owners: dict[str, str] = field(default_factory=dict)
    strategies: dict[str, str] = field(default_factory=dict)
    #: Per batch: holders and seats, who revealed, Final and Disputed leaves.
    trace: list[dict[str, Any]] = field(default_factory=list)

    def add(self, who: str, amount: int) -> None:
        self.profit[who] += amount

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] += n

    def by_owner(self) -> dict[str, int]:
        """Profit summed over each owner's identities (other parties as they are)."""
        out: dict[str, int] = defaultdict(int)
        for who, amount in self.profit.items():
            out[self.owners.get(who, who)] += amount
        return dict(out)

    def by_strategy(self) -> dict[str, tuple[int, int]]:
        """Strategy -> (total profit, identities)."""
        out: dict[str, list[int]] = {}
        for who, name in self.strategies.items():
            entry = out.setdefault(name, [0, 0])
            entry[0] += self.profit.get(who, 0)
            entry[1] += 1
        return {k: (v[0], v[1]) for k, v in out.items()}

    def total(self) -> int:
        """Sum of every party's profit: zero when no wei was created or lost."""
        return sum(self.profit.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "profit_wei": dict(sorted(self.profit.items())),
            "gas_wei": dict(sorted(self.gas.items())),
            "slashed_wei": dict(sorted(self.slashed.items())),
            "counts": dict(self.counts),
            "owners": dict(self.owners),
            "strategies": dict(self.strategies),
        }

    def table(self) -> str:
        """A plain-text table: identity, strategy, profit (wei), slashed, gas; then the counts."""
        rows = [
            f"{'identity':<14} {'strategy':<18} {'profit wei':>22} {'slashed wei':>22} {'gas wei':>20}"
        ]
        names = sorted(set(self.profit) | set(self.gas))
        for who in names:
            rows.append(
                f"{who:<14} {self.strategies.get(who, '-'):<18} {self.profit.get(who, 0):>22} "
                f"{self.slashed.get(who, 0):>22} {self.gas.get(who, 0):>20}"
            )
        rows.append(", ".join(f"{k} {v}" for k, v in self.counts.items()))
        return "\n".join(rows)


__all__ = ["BURNED", "COUNTS", "GATEWAY", "PROJECT", "Report"]
