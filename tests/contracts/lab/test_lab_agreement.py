"""The two simulators agree: the same small scenarios on the real contracts (anvil) and in the fast
model fed the chain's seeds give the same event counts and the same profit per identity, to the wei
(gas is the chain's alone and is reported apart)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from peerhost.deploy import ETHER, SettlementParams
from peerhost.lab.console import Lab
from peerhost.lab.gateways import Equivocating, opening_reserve
from peerhost.lab.model import Model
from peerhost.lab.report import GATEWAY
from peerhost.lab.runner import run_scenario
from peerhost.lab.scenario import SCENARIOS, Identity, group, honest, scenario
from peerhost.lab.strategies import Forger, Honest, SpamChallenger

PARAMS = SettlementParams(epoch_length=60)
#: ``PEERHOST_LAB_SCENARIOS=all`` also compares every named scenario (minutes, not for CI).
EVERY = os.environ.get("PEERHOST_LAB_SCENARIOS") == "all"


def _both(project: Any, chain: Any, accounts: Any, name: str, **changes: Any) -> tuple[Any, Any]:
    sc = scenario(name).replace(**changes)
    chain_run = run_scenario(project, chain, list(accounts), sc, PARAMS)
    model = Model(sc, chain_run.params, chain_run.seeds).run()
    return chain_run.report, model


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("honest", {"batches": 2}),
        ("mixed", {}),
        # no watcher: only out-voted honest seats challenge (a capture in most runs of 4 batches)
        ("captured-unwatched", {"batches": 4}),
        *[
            (n, {"batches": 4})
            for n in SCENARIOS
            if EVERY and n not in ("honest", "mixed", "captured-unwatched")
        ],
        *(
            [
                ("mixed", {"leaves": 3, "mode": 0, "batches": 4}),
                ("griefer", {"leaves": 2}),
                # a deviating gateway under deviating workers (seats abstain on a withheld input)
                *[
                    ("mixed", {"gateway": g, "leaves": 2, "batches": 4})
                    for g in ("over-issuing", "withholding-inputs", "equivocating")
                ],
            ]
            if EVERY
            else []
        ),
    ],
)
def test_scenario__chain_and_model__same_counts_and_profits_to_the_wei(
    project: Any, chain: Any, accounts: Any, name: str, changes: dict[str, Any]
) -> None:
    on_chain, model = _both(project, chain, accounts, name, **changes)
    print(on_chain.table())
    print(model.table())
    parted = [(a, b) for a, b in zip(on_chain.trace, model.trace, strict=False) if a != b]
    assert not parted, f"first batch where they part (chain, model): {parted[0]}"
    assert on_chain.counts == model.counts
    assert dict(on_chain.profit) == {k: v for k, v in model.profit.items() if v}
    assert dict(on_chain.slashed) == {k: v for k, v in model.slashed.items() if v}
    assert on_chain.total() == 0
    assert all(g > 0 for g in on_chain.gas.values())


def test_tier3__unequal_odd_stakes__chain_and_model_pay_and_slash_alike_to_the_wei(
    project: Any, chain: Any, accounts: Any
) -> None:
    """Every batch reaches tier 3 (a spam challenger challenges the right value twice), where the
    pot is shared by stake and the forger's lie is slashed by stake: unequal stakes that are not
    whole ether show every rounding."""
    ids = (
        *honest(2),
        Identity("odd0", "odd0", 3 * ETHER + 7, Honest()),
        *group("sybil", Honest(), [ETHER + 1, ETHER + 2]),
        Identity("spam0", "spam0", 2 * ETHER, SpamChallenger()),
        Identity("forger0", "forger0", 2 * ETHER + 3, Forger()),
    )
    on_chain, model = _both(project, chain, accounts, "spam-challenger", identities=ids, batches=2)
    print(on_chain.table())
    assert on_chain.counts["tier3"] == 2
    assert on_chain.slashed["forger0"] > 0
    assert on_chain.counts == model.counts
    assert dict(on_chain.profit) == {k: v for k, v in model.profit.items() if v}
    assert dict(on_chain.slashed) == {k: v for k, v in model.slashed.items() if v}
    assert on_chain.total() == 0


def test_console_lab__compare_one_batch__both_simulators_agree(
    project: Any, chain: Any, accounts: Any
) -> None:
    result = Lab(project, chain, accounts).compare("no-show", batches=1)
    assert result.chain.counts["batches"] == 1
    assert result.agree


@pytest.mark.parametrize(
    ("name", "deviations"),
    [
        ("over-issuing-gateway", "over_issued"),
        ("withholding-inputs-gateway", "voided"),
        ("equivocating-gateway", "equivocations"),
        ("timing-gateway", None),
    ],
)
def test_gateway_strategy__chain_and_model__same_counts_and_profits_to_the_wei(
    project: Any, chain: Any, accounts: Any, name: str, deviations: str | None
) -> None:
    """The gateway deviations priced in closed form (``peerhost.lab.gateways``) run on the
    contracts: both simulators agree to the wei, and the gateway's bond pays what the closed form
    says each deviation costs."""
    sc = scenario(name).replace(batches=2)  # batch 1 equivocates, batch 2 withholds both inputs
    chain_run = run_scenario(project, chain, list(accounts), sc, PARAMS)
    on_chain, model = chain_run.report, Model(sc, chain_run.params, chain_run.seeds).run()
    print(on_chain.table())
    assert on_chain.counts == model.counts
    assert dict(on_chain.profit) == {k: v for k, v in model.profit.items() if v}
    assert on_chain.total() == 0
    p, reward = chain_run.params, chain_run.params.protocol.min_reward
    lost = -on_chain.profit.get(GATEWAY, 0)
    if deviations is None:  # timing its posts changes nothing
        assert lost == 0
        return
    times = on_chain.counts[deviations]
    assert times > 0
    if name == "equivocating-gateway":  # the whole bond each time
        bond = sc.gateway_bond
        assert lost == -Equivocating().batch(p, sc.leaves, reward, bond)[GATEWAY] * times
        assert on_chain.profit["honest0"] > model.profit["honest1"]  # the presenter's share
    elif name == "withholding-inputs-gateway":  # the reward back and dataSlash, per voided ticket
        assert lost == times * (reward + p.court.data_slash)
        assert on_chain.counts["refunded"] == times  # every seat abstained on it
    else:  # the tickets beyond the reserve, from the bond
        need = reward * sc.leaves * sc.batches
        assert lost == need - opening_reserve(sc.gateway, sc.gateway_rate, need) > 0
