"""The protocol lab: worker strategies, a fast event-level model of protocol v2 settlement, a
scenario runner on the real contracts, and the economics figures (docs/economics.md).

The model and the runner share :mod:`peerhost.lab.params` (the contracts' own parameter structs),
:mod:`peerhost.lab.scenario` and :mod:`peerhost.lab.strategies`; the runner reaches the contracts
only through :mod:`peerhost.lab.adapter`. Plotting (:mod:`peerhost.lab.plots`) needs matplotlib and
is never imported from here.
"""

from __future__ import annotations

from peerhost.lab.model import Model, Seeds, simulate
from peerhost.lab.params import LabParams
from peerhost.lab.report import Report
from peerhost.lab.scenario import SCENARIOS, Identity, Scenario, scenario

__all__ = [
    "SCENARIOS",
    "Identity",
    "LabParams",
    "Model",
    "Report",
    "Scenario",
    "Seeds",
    "scenario",
    "simulate",
]
