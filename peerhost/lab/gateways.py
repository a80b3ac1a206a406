"""Gateway strategies: what a gateway's deviation costs it per batch, at the contracts' rules.

A gateway earns nothing per ticket from the protocol (its price is charged off-chain); on-chain it
only risks its bond. Each strategy returns the wei each party gains or loses over one batch of
``tickets`` tickets beside an honest batch's flows (rewards to workers are the same either way):

- over-issuing: tickets beyond the project's reserve are paid from the gateway's bond;
- withholding batches: someone else posts the orphaned tickets after ``orphanDelay`` and the bond
  pays ``orphanRefund`` per ticket;
- withholding inputs: a seat opens a data-availability challenge (``dataBond``); the gateway does
  not publish, the ticket is voided: the bond pays the reward back to the project plus
  ``dataSlash`` burned, the challenger's bond is returned (the seats abstain, so the leaf is
  refunded as well);
- equivocating: two tickets with one seq: the whole bond is lost (``presenterBps`` to whoever
  presents it, the rest burned);
- timing its posts: the committee's seed is the prevrandao of block postBlock + D, unknown when
  posting, and anyone may seat a batch: timing changes nothing.

The same deviations also run on both simulators (``Scenario(gateway=NAME, gateway_rate=r)``): the
functions at the end of this module decide, from hashes, which tickets and batches deviate, so the
chain runner and the model deviate on the very same ones.
"""

from __future__ import annotations

from typing import ClassVar

from peerhost.lab.params import BPS, LabParams
from peerhost.lab.report import BURNED, GATEWAY, PROJECT
from peerhost.lab.strategies import Ballot, uniform
from peerhost.wire.batch import ABSTAIN

PRESENTER = "presenter"
POSTER = "orphan-poster"


class GatewayStrategy:
    """An honest gateway: posts its own batches with the inputs available."""

    name: ClassVar[str] = "honest-gateway"

    def batch(self, p: LabParams, tickets: int, reward: int, bond: int) -> dict[str, int]:
        """Wei per party this strategy adds to an honest batch's flows."""
        return {}


class OverIssuing(GatewayStrategy):
    """Issues ``excess`` of its tickets beyond what the project's reserve holds."""

    name = "over-issuing"

    def __init__(self, excess: float = 0.5) -> None:
        self.excess = excess

    def batch(self, p: LabParams, tickets: int, reward: int, bond: int) -> dict[str, int]:
        shortfall = min(bond, int(tickets * self.excess) * reward)
        return {GATEWAY: -shortfall, PROJECT: shortfall}


class WithholdingBatches(GatewayStrategy):
    """Never posts its tickets; others post them as orphans."""

    name = "withholding-batches"

    def batch(self, p: LabParams, tickets: int, reward: int, bond: int) -> dict[str, int]:
        refund = min(bond, tickets * p.protocol.orphan_refund)
        return {GATEWAY: -refund, POSTER: refund}


class WithholdingInputs(GatewayStrategy):
    """Withholds a share ``rate`` of its batches' inputs from the committee."""

    name = "withholding-inputs"

    def __init__(self, rate: float = 0.1) -> None:
        self.rate = rate

    def batch(self, p: LabParams, tickets: int, reward: int, bond: int) -> dict[str, int]:
        voided = max(1, int(tickets * self.rate))
        per = reward + p.court.data_slash
        taken = min(bond, voided * per)
        burned = min(taken, voided * p.court.data_slash)
        return {
            GATEWAY: -taken,
            PROJECT: taken - burned + voided * reward,
            BURNED: burned,
            "workers": -voided * reward,
        }


class Equivocating(GatewayStrategy):
    """Signs two tickets with one seq (e.g. to charge two users for one slot)."""

    name = "equivocating"

    def batch(self, p: LabParams, tickets: int, reward: int, bond: int) -> dict[str, int]:
        to_presenter = bond * p.court.presenter_bps // BPS
        return {GATEWAY: -bond, PRESENTER: to_presenter, BURNED: bond - to_presenter}


class TimingPosts(GatewayStrategy):
    """Chooses when to post, hoping for a friendly committee: the seed is not known at post time."""

    name = "timing-posts"


GATEWAY_STRATEGIES: dict[str, type[GatewayStrategy]] = {
    s.name: s
    for s in (
        GatewayStrategy,
        OverIssuing,
        WithholdingBatches,
        WithholdingInputs,
        Equivocating,
        TimingPosts,
    )
}


def opening_reserve(gateway: str, rate: float, need: int) -> int:
    """What the project puts in its reserve for a run whose rewards total ``need`` wei: all of it
    and one ether more, or, under an over-issuing gateway, ``need`` less the share ``rate`` issued
    beyond it (those tickets are paid from the gateway's bond)."""
    if gateway == OverIssuing.name:
        return need - int(need * rate)
    return need + 10**18


def withheld(gateway: str, rate: float, batch_id: int, index: int) -> bool:
    """Whether a withholding-inputs gateway keeps leaf ``index``'s input from the committee."""
    return gateway == WithholdingInputs.name and uniform("gw-input", batch_id, index) < rate


def equivocates(gateway: str, rate: float, batch_id: int) -> bool:
    """Whether an equivocating gateway signs a second ticket with leaf 0's seq in this batch."""
    return gateway == Equivocating.name and uniform("gw-equivocate", batch_id, 0) < rate


def abstain_on(ballot: Ballot, leaves: list[int]) -> Ballot:
    """``ballot`` with an abstention on each of ``leaves`` (inputs nobody could get)."""
    vector = tuple(ABSTAIN if i in leaves else v for i, v in enumerate(ballot.vector))
    return Ballot(ballot.commit, ballot.reveal, vector)


#: Gateway strategies both simulators run (``Scenario.gateway``).
SIMULATED = (
    "honest",
    OverIssuing.name,
    WithholdingBatches.name,
    WithholdingInputs.name,
    Equivocating.name,
    TimingPosts.name,
)

__all__ = [
    "GATEWAY_STRATEGIES",
    "SIMULATED",
    "Equivocating",
    "GatewayStrategy",
    "OverIssuing",
    "TimingPosts",
    "WithholdingBatches",
    "WithholdingInputs",
    "abstain_on",
    "equivocates",
    "opening_reserve",
    "withheld",
]
