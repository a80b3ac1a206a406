"""The questions that decide the parameters, answered with the fast model.

Every function returns plain data (lists of dicts) that :mod:`peerhost.lab.figures` writes as CSV
and JSON and :mod:`peerhost.lab.plots` draws. Comparisons with honest behaviour are *paired*: the
same population with the deviating owner made honest, run on the same seeds, so the difference is
the deviation's own gain (common random numbers).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from peerhost.deploy import ETHER
from peerhost.lab.analytic import at_least, capture
from peerhost.lab.model import Epoch, Model, Seeds
from peerhost.lab.params import LabParams
from peerhost.lab.report import Report
from peerhost.lab.scenario import SCENARIOS, Identity, Scenario, group
from peerhost.lab.strategies import CapturedCommittee, Griefer, Honest, Offline


def run(scenario: Scenario, params: LabParams | None = None, seed: int = 0) -> Report:
    return Model(scenario, params, Seeds(random.Random(seed))).run()


def honest_twin(scenario: Scenario, owners: set[str]) -> Scenario:
    """``scenario`` with every identity of ``owners`` made honest (same names, stakes, order)."""
    ids = tuple(
        Identity(i.name, i.owner, i.stake, Honest()) if i.owner in owners else i
        for i in scenario.identities
    )
    return scenario.replace(identities=ids)


def deviants(scenario: Scenario) -> set[str]:
    """Owners whose identities deviate (an honest worker that is offline does not)."""
    return {i.owner for i in scenario.identities if i.strategy.name not in ("honest", "offline")}


def deviation_gain(
    scenario: Scenario, params: LabParams | None = None, seed: int = 0
) -> dict[str, tuple[int, int]]:
    """Owner -> (profit deviating, profit had that owner alone played honest), on the same seeds."""
    dev = run(scenario, params, seed).by_owner()
    out = {}
    for owner in sorted(deviants(scenario)):
        hon = run(honest_twin(scenario, {owner}), params, seed).by_owner()
        out[owner] = (dev.get(owner, 0), hon.get(owner, 0))
    return out


def profit_by_strategy(
    batches: int = 2000,
    params: LabParams | None = None,
    seed: int = 0,
    names: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Per named scenario: each deviating owner's profit per batch, deviating and honest."""
    rows = []
    skip = ("honest", "sybil", "mixed", "withholding-gateway")
    for name in names or [n for n in SCENARIOS if n not in skip]:
        sc = SCENARIOS[name]().replace(batches=batches)
        for owner, (dev, hon) in sorted(deviation_gain(sc, params, seed).items()):
            stake = sum(i.stake for i in sc.identities if i.owner == owner)
            strategy = next(i.strategy.name for i in sc.identities if i.owner == owner)
            rows.append(
                {
                    "scenario": name,
                    "owner": owner,
                    "strategy": strategy,
                    "stake_wei": stake,
                    "batches": batches,
                    "profit_per_batch_wei": dev / batches,
                    "honest_per_batch_wei": hon / batches,
                    "gain_per_batch_wei": (dev - hon) / batches,
                }
            )
    return rows


def shares_population(p: float, total: int = 30, adversary: Any = None) -> tuple[Identity, ...]:
    """An adversary owning share ``p`` of ``total`` ether in two identities, and honest workers of
    1 ether-multiples (at least 2 ether each) holding the rest."""
    adv = round(p * total * ETHER)
    rest = total * ETHER - adv
    n = max(1, int(rest // (2 * ETHER)))
    stakes = [rest // n] * n
    stakes[0] += rest - sum(stakes)
    a = adversary or CapturedCommittee()
    half = adv // 2
    return (
        *[Identity(f"honest{k}", f"honest{k}", s, Honest()) for k, s in enumerate(stakes)],
        *group("adv", a, [adv - half, half]),
    )


def capture_curve(
    ks: Sequence[int] = (3, 5, 7),
    shares: Sequence[float] = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 1 / 3, 0.4, 0.45, 0.5),
    draws: int = 4000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Committee capture (>= majority of K seats) vs stake share: the contract's draw on random
    seeds against the binomial."""
    rng = random.Random(seed)
    rows = []
    for k in ks:
        q = k // 2 + 1
        for p in shares:
            pop = shares_population(p)
            names = [i.name for i in pop]
            cumulative, t = [], 0
            for i in pop:
                t += i.stake
                cumulative.append(t)
            epoch = Epoch(1, names, cumulative)
            adv = {i.name for i in pop if i.owner == "adv"}
            hits = sum(
                1
                for _ in range(draws)
                if sum(s in adv for s in epoch.draw(rng.randbytes(32), k)) >= q
            )
            share = sum(i.stake for i in pop if i.owner == "adv") / t
            rows.append(
                {
                    "seats": k,
                    "quorum": q,
                    "share": share,
                    "simulated": hits / draws,
                    "analytic": capture(share, k, q),
                    "stderr": (capture(share, k, q) * (1 - capture(share, k, q)) / draws) ** 0.5,
                    "draws": draws,
                }
            )
    return rows


def forgery_survival(
    shares: Sequence[float] = (0.1, 0.2, 0.3, 1 / 3, 0.4, 0.45, 0.5, 0.55, 0.6),
    batches: int = 1500,
    params: LabParams | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """A captured committee (lies whenever it holds a quorum) against one honest watcher and
    against nobody challenging at all (no watcher, and the honest seats it out-votes never
    challenge either: ``Offline``): the share of batches whose forged result stands after every
    window. With the production worker's seat challenge and no watcher, see
    :func:`seat_crash_sweep`."""
    rows = []
    for p in shares:
        for watcher in (True, False):
            ids = shares_population(p)
            if not watcher:
                ids = tuple(
                    Identity(i.name, i.owner, i.stake, Offline()) if i.owner != "adv" else i
                    for i in ids
                )
            sc = Scenario(
                ids,
                batches=batches,
                watcher_online=watcher,
                attesters=0,
                present_attestations=False,
            )
            r = run(sc, params, seed)
            rows.append(
                {
                    "share": p,
                    "watcher": watcher,
                    "batches": r.counts["batches"],
                    "forged_stands": r.counts["finalized_wrong"] / max(1, r.counts["batches"]),
                    "captured_analytic": capture(p, (params or LabParams()).seats),
                    "adversary_profit_wei": r.by_owner().get("adv", 0),
                }
            )
    return rows


def captured_unwatched(p: float, batches: int, crash_rate: float = 0.0) -> Scenario:
    """A captured committee holding share ``p`` (lying whenever it holds a quorum), `verified`
    tickets without attesters, no third-party watcher: only the honest seats it out-votes can
    challenge, each offline by the window with probability ``crash_rate``."""
    return Scenario(
        shares_population(p),
        batches=batches,
        watcher_online=False,
        attesters=0,
        present_attestations=False,
        crash_rate=crash_rate,
    )


def seat_crash_sweep(
    shares: Sequence[float] = (0.2, 1 / 3, 0.45),
    rates: Sequence[float] = (0.0, 0.5, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0),
    batches: int = 2000,
    params: LabParams | None = None,
    seeds: Sequence[int] = (0, 1),
) -> list[dict[str, Any]]:
    """The unwatched captured committee (:func:`captured_unwatched`) against the probability that
    an out-voted honest seat is offline by the challenge window: the adversary's gain per batch
    over playing honest (paired, per seed). 0 is the production worker, which always challenges;
    1 is an honest minority that never does."""
    rows = []
    for p in shares:
        for seed in seeds:
            straight = run(honest_twin(captured_unwatched(p, batches), {"adv"}), params, seed)
            hon = straight.by_owner().get("adv", 0)
            for rate in rates:
                r = run(captured_unwatched(p, batches, rate), params, seed)
                dev = r.by_owner().get("adv", 0)
                rows.append(
                    {
                        "share": p,
                        "crash_rate": rate,
                        "seed": seed,
                        "batches": batches,
                        "profit_per_batch_wei": dev / batches,
                        "honest_per_batch_wei": hon / batches,
                        "gain_per_batch_wei": (dev - hon) / batches,
                        "forged_final": r.counts["forged_final"],
                        "finalized_wrong": r.counts["finalized_wrong"],
                        "challenges": r.counts["challenges"],
                        "tier3": r.counts["tier3"],
                    }
                )
    return rows


def break_even_crash_rates(rows: Sequence[dict[str, Any]]) -> dict[float, float | None]:
    """Share -> the lowest swept crash rate at which the capture's mean gain (over seeds) is not
    negative: where capture starts to pay (None: it loses at every swept rate)."""
    out: dict[float, float | None] = {}
    for p in sorted({r["share"] for r in rows}):
        out[p] = None
        for rate in sorted({r["crash_rate"] for r in rows if r["share"] == p}):
            gains = [
                r["gain_per_batch_wei"] for r in rows if (r["share"], r["crash_rate"]) == (p, rate)
            ]
            if sum(gains) >= 0:
                out[p] = rate
                break
    return out


def honest_income_under_grief(
    shares: Sequence[float] = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.33),
    batches: int = 1500,
    params: LabParams | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Honest workers' income per batch and per ether of stake when a griefer (two identities, two
    lies) holds a share of the stake, against the same population with no griefer."""
    rows = []
    for p in shares:
        ids = (
            shares_population(p, adversary=Griefer())
            if p
            else shares_population(0.0001, adversary=Honest())
        )
        sc = Scenario(ids, batches=batches)
        r = run(sc, params, seed)
        honest_stake = sum(i.stake for i in ids if i.owner != "adv")
        honest_profit = sum(v for k, v in r.by_owner().items() if k.startswith("honest"))
        rows.append(
            {
                "griefer_share": p,
                "batches": r.counts["batches"],
                "honest_income_per_batch_wei": honest_profit / batches,
                "honest_income_per_batch_per_ether_wei": honest_profit
                / batches
                / (honest_stake / ETHER),
                "griefer_profit_per_batch_wei": r.by_owner().get("adv", 0) / batches,
                "disputed": r.counts["disputed"],
                "escalations": r.counts["escalations"],
            }
        )
    return rows


def forgery_cost(
    ks: Sequence[int] = (3, 5, 7),
    share: float = 1 / 3,
    batches: int = 1500,
    params: LabParams | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """What one forged `verified` answer costs an attacker, per committee size K (the default
    K = 3 among them).

    Stake needed: the share at which a committee is captured with probability 1 % and 10 % (nobody
    watching), and one half of all stake when an honest watcher is online (below it tier 3
    overturns every forgery). Expected result: a captured committee holding ``share`` of the stake
    (lying whenever it holds a quorum, `verified` tickets without attesters) run with a watcher
    and without; its profit per forged Final leaf (an attempt) and per forgery that stood.
    """
    base = params or LabParams()
    rows = []
    for k in ks:
        p_k = base.with_protocol(seats=k, quorum=k // 2 + 1)
        row: dict[str, Any] = {"seats": k, "quorum": k // 2 + 1, "share": share, "batches": batches}
        for target in (0.01, 0.1):
            lo, hi = 0.0, 0.5
            for _ in range(40):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if capture(mid, k) < target else (lo, mid)
            row[f"share_for_capture_{target:g}"] = hi
        row["share_with_watcher"] = 0.5
        row["capture"] = capture(share, k)
        row["panel_capture"] = at_least(2 * k + 1, k + 1, share)
        for watcher in (True, False):
            ids = shares_population(share)
            if not watcher:
                ids = tuple(
                    Identity(i.name, i.owner, i.stake, Offline()) if i.owner != "adv" else i
                    for i in ids
                )
            sc = Scenario(
                ids,
                batches=batches,
                watcher_online=watcher,
                attesters=0,
                present_attestations=False,
            )
            r = run(sc, p_k, seed)
            tag = "watched" if watcher else "unwatched"
            profit = r.by_owner().get("adv", 0)
            row[f"{tag}_attempts"] = r.counts["forged_final"]
            row[f"{tag}_stood"] = r.counts["finalized_wrong"]
            row[f"{tag}_profit_wei"] = profit
            row[f"{tag}_profit_per_attempt_wei"] = profit / max(1, r.counts["forged_final"])
            row[f"{tag}_profit_per_stood_wei"] = (
                profit / r.counts["finalized_wrong"] if r.counts["finalized_wrong"] else None
            )
        rows.append(row)
    return rows


__all__ = [
    "break_even_crash_rates",
    "capture_curve",
    "captured_unwatched",
    "deviation_gain",
    "forgery_cost",
    "forgery_survival",
    "honest_income_under_grief",
    "honest_twin",
    "profit_by_strategy",
    "run",
    "seat_crash_sweep",
    "shares_population",
]
