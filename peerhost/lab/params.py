"""The parameters both simulators run with: the contracts' own parameter structs, one definition.

The defaults are :class:`peerhost.deploy.SettlementParams` (``IProtocolParams.Params``) and
:class:`peerhost.deploy.CourtParams` (``ICourtParams.CourtParams``), the very dataclasses the
contracts are deployed with; :meth:`LabParams.from_contracts` reads them back from a deployment, so
the model always prices what the chain enforces. Lab-only knobs (an off-chain execution cost) sit
beside them and never reach a contract.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from peerhost.deploy import CourtParams, SettlementParams

BPS = 10_000


@dataclass(frozen=True)
class LabParams:
    """What a simulation prices: the protocol and court parameters, plus lab-only costs.

    Attributes:
        protocol: ``IProtocolParams.Params`` (seats K, quorum Q, shares, slashes, windows).
        court: ``ICourtParams.CourtParams`` (challenge bond, attestation slash, presenter share).
        execution_cost: Wei an identity spends off-chain to run one leaf (honest work); a lazy
            identity saves it. Zero by default: the protocol must deter deviations on its own.
        court_pay_rules: The deferred pay of a challengeable leaf: attesters and seats are paid
            only after the challenge window, attesters never for a challenged leaf, and a
            challenged leaf's committee pay goes to its case (back to its seats when upheld, to
            the winners when overturned) (``IDisputeCourt.unpaidLeaves``).
            :meth:`from_contracts` reads which rules the deployed court has.
    """

    protocol: SettlementParams = field(default_factory=SettlementParams)
    court: CourtParams = field(default_factory=CourtParams)
    execution_cost: int = 0
    court_pay_rules: bool = True

    @property
    def seats(self) -> int:
        return self.protocol.seats

    @property
    def quorum(self) -> int:
        return self.protocol.quorum

    @property
    def panel_seats(self) -> int:
        """Tier 2: a panel of 2K + 1 seats."""
        return 2 * self.protocol.seats + 1

    @property
    def panel_quorum(self) -> int:
        """Tier 2 decides with K + 1 seats."""
        return self.protocol.seats + 1

    def with_protocol(self, **changes: Any) -> LabParams:
        """A copy with protocol fields changed (``seats=5, quorum=3``)."""
        return dataclasses.replace(self, protocol=dataclasses.replace(self.protocol, **changes))

    def with_court(self, **changes: Any) -> LabParams:
        """A copy with court fields changed (``challenge_bond=...``)."""
        return dataclasses.replace(self, court=dataclasses.replace(self.court, **changes))

    @classmethod
    def from_contracts(cls, coordinator: Any, court: Any, execution_cost: int = 0) -> LabParams:
        """The parameters a deployment enforces, read from ``params()`` and ``courtParams()``."""
        protocol = _struct(SettlementParams, coordinator.params())
        court_params = _struct(CourtParams, court.courtParams())
        rules = any(getattr(a, "name", "") == "unpaidLeaves" for a in court.contract_type.abi)
        return cls(protocol, court_params, execution_cost, rules)

    def as_dict(self) -> dict[str, Any]:
        return {
            "protocol": dataclasses.asdict(self.protocol),
            "court": dataclasses.asdict(self.court),
            "execution_cost": self.execution_cost,
            "court_pay_rules": self.court_pay_rules,
        }


def _struct(kind: Any, value: Any) -> Any:
    """A parameter dataclass from an ABI struct (a tuple in field order, or ape's struct object)."""
    names = [f.name for f in dataclasses.fields(kind)]
    items = list(value) if not hasattr(value, "items") else [v for _, v in value.items()]
    if len(items) != len(names):
        raise ValueError(
            f"The contract's parameter struct has {len(items)} fields, {kind.__name__} has "
            f"{len(names)}: regenerate the ABIs or update {kind.__name__} in peerhost.deploy."
        )
    return kind(**{n: int(v) for n, v in zip(names, items, strict=True)})


__all__ = ["BPS", "LabParams"]
