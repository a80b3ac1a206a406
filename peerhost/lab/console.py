"""``lab`` in ``ape console``: run scenarios on the chain, in the model, or both.

    In [1]: lab.scenarios()                        # names and descriptions
    In [2]: r = lab.model("forger-captures", batches=5000); r.by_owner()
    In [3]: c = lab.compare("mixed"); c.agree, print(c.chain.table())
    In [4]: lab.chain("griefer", batches=3).counts

Chain runs deploy a fresh set of v2 contracts on the connected (local) chain and use its test
accounts; the model runs in seconds for thousands of batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peerhost.deploy import SettlementParams
from peerhost.lab.model import Model, simulate
from peerhost.lab.params import LabParams
from peerhost.lab.report import Report
from peerhost.lab.runner import run_scenario
from peerhost.lab.scenario import SCENARIOS, Scenario, scenario


@dataclass(frozen=True)
class Comparison:
    """One scenario on the contracts and in the model fed the chain's seeds."""

    chain: Report
    model: Report

    @property
    def agree(self) -> bool:
        """Counts equal and every party's profit equal to the wei."""
        nonzero = {k: v for k, v in self.model.profit.items() if v}
        return self.chain.counts == self.model.counts and dict(self.chain.profit) == nonzero


class Lab:
    """The protocol lab bound to an ape session (``project``, ``chain``, ``accounts``)."""

    def __init__(self, project: Any, chain: Any, accounts: Any) -> None:
        self.project = project
        self.chain_manager = chain
        self.accounts = accounts

    def scenarios(self) -> dict[str, str]:
        return {name: make().description for name, make in SCENARIOS.items()}

    def _scenario(self, which: str | Scenario, changes: dict[str, Any]) -> Scenario:
        sc = scenario(which) if isinstance(which, str) else which
        return sc.replace(**changes) if changes else sc

    def model(
        self, which: str | Scenario, params: LabParams | None = None, seed: int = 0, **changes: Any
    ) -> Report:
        """Runs a scenario in the fast model with random seeds."""
        return simulate(self._scenario(which, changes), params, seed)

    def _accounts(self, need: int) -> list[Any]:
        # ape's AccountManager (console, scripts) or its test accounts (the `accounts` test fixture)
        test = getattr(self.accounts, "test_accounts", self.accounts)
        out = list(test)
        while len(out) < need:
            out.append(test.generate_test_account())
        return out

    def chain(
        self, which: str | Scenario, params: SettlementParams | None = None, **changes: Any
    ) -> Report:
        """Runs a scenario on a fresh deployment of the contracts."""
        return self._run(self._scenario(which, changes), params)[0]

    def _run(self, sc: Scenario, params: SettlementParams | None) -> tuple[Report, Report]:
        p = params or SettlementParams(epoch_length=60)
        run = run_scenario(
            self.project, self.chain_manager, self._accounts(len(sc.identities) + 2), sc, p
        )
        return run.report, Model(sc, run.params, run.seeds).run()

    def compare(
        self, which: str | Scenario, params: SettlementParams | None = None, **changes: Any
    ) -> Comparison:
        """Runs a scenario on the contracts, then the model on the chain's seeds."""
        chain_report, model_report = self._run(self._scenario(which, changes), params)
        return Comparison(chain_report, model_report)


__all__ = ["Comparison", "Lab"]
