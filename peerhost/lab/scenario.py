"""Scenarios: a worker population with strategies, and how its batches are run.

The same :class:`Scenario` drives the fast model (:mod:`peerhost.lab.model`) and the chain runner
(:mod:`peerhost.lab.runner`). Named scenarios (:data:`SCENARIOS`) are small enough for the chain::

    ape run simulate forger-captures --batches 6
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from peerhost.deploy import ETHER
from peerhost.lab.report import PROJECT
from peerhost.lab.strategies import (
    CapturedCommittee,
    Forger,
    Griefer,
    Honest,
    Lazy,
    NoShow,
    RandomLiar,
    SelfDealingAttester,
    SpamChallenger,
    Strategy,
    Withholder,
)
from peerhost.wire.ticket import MODE_VERIFIED


@dataclass(frozen=True)
class Identity:
    """One staked worker address: its name, its owner (who runs it), stake and strategy."""

    name: str
    owner: str
    stake: int
    strategy: Strategy


@dataclass(frozen=True)
class Scenario:
    """A population and how its batches run.

    Attributes:
        identities: Workers in registration order (the order of the stake array).
        batches: Batches to run.
        leaves: Tickets per batch.
        attesters: Attesters the gateway asks per ticket (0: a batch without attested results,
            audited in full); picked round-robin over the epoch's members.
        mode: Ticket mode (``peerhost.wire.ticket``: 0 fast, 1 attested, 2 verified).
        watcher_online: Whether a third-party watcher is online: honest workers challenge every
            wrong finalized leaf, not only those that contradict their own value. Either way an
            honest seat out-voted at tier 1 (or an honest attester) challenges the leaf that
            contradicts what it revealed (or attested), on its own bond, as the production worker
            does (``peerhost.worker.accountability``), unless it crashed (``crash_rate``).
        crash_rate: The probability that an honest seat or attester is offline by the challenge
            window of a leaf contradicting it (it crashed after revealing); drawn per identity and
            leaf from a hash, so both simulators draw alike. 0, the default, is the production
            worker; 1 is an honest minority that never challenges (the ``Offline`` strategy).
        batches_per_epoch: A new stake epoch starts after this many batches (slashed identities
            sit the next one out).
        open_results: Whether the gateway opens the attested results (else the pot is returned).
        present_attestations: Whether contradicted attestations are presented for slashing.
        reward: Reward per ticket (wei); None: the protocol's minimum.
        gateway: ``honest``, or a deviating gateway (:mod:`peerhost.lab.gateways`):
            ``withholding-batches``: the gateway never posts; the first identity posts its
            tickets as orphans after ``orphanDelay`` (audited in full) and is paid
            ``orphanRefund`` per ticket from the gateway's bond; ``over-issuing``: the project's
            reserve holds ``1 - gateway_rate`` of the run's rewards, the rest is drawn from the
            bond; ``withholding-inputs``: a share ``gateway_rate`` of the tickets' inputs is
            withheld from the committee, whose first holder opens a data-availability
            challenge, every seat abstains on the leaf, and the ticket is voided after the data
            window; ``equivocating``: in a share ``gateway_rate`` of the batches the gateway
            signs a second ticket with leaf 0's seq, the first identity proves it and takes
            ``presenterBps`` of the bond, and the gateway bonds again; ``timing-posts``: the
            gateway waits for a head whose prevrandao would seat the first identity (up to 3
            blocks) before posting.
        gateway_rate: The share of tickets or batches a deviating gateway deviates on.
        gateway_bond: The gateway's bond (wei).
    """

    identities: tuple[Identity, ...]
    batches: int = 10
    leaves: int = 1
    attesters: int = 2
    mode: int = MODE_VERIFIED
    watcher_online: bool = True
    crash_rate: float = 0.0
    batches_per_epoch: int = 5
    open_results: bool = True
    present_attestations: bool = True
    reward: int | None = None
    gateway: str = "honest"
    gateway_rate: float = 0.5
    gateway_bond: int = 2 * ETHER
    description: str = ""

    def replace(self, **changes: object) -> Scenario:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def owners(self) -> dict[str, str]:
        return {i.name: i.owner for i in self.identities}


def honest(n: int, stake: int = 2 * ETHER, prefix: str = "honest") -> list[Identity]:
    """``n`` honest identities, one owner each."""
    return [Identity(f"{prefix}{k}", f"{prefix}{k}", stake, Honest()) for k in range(n)]


def group(owner: str, strategy: Strategy, stakes: list[int]) -> list[Identity]:
    """One owner's identities (a coordinated group, or a Sybil split of one stake)."""
    return [Identity(f"{owner}{k}", owner, s, strategy) for k, s in enumerate(stakes)]


def split(stake: int, n: int) -> list[int]:
    """``stake`` over ``n`` identities (the remainder on the first)."""
    each = stake // n
    return [stake - each * (n - 1)] + [each] * (n - 1)


def _named() -> dict[str, Callable[[], Scenario]]:
    e2 = 2 * ETHER
    return {
        "honest": lambda: Scenario(tuple(honest(4)), description="four honest workers"),
        "lazy": lambda: Scenario(
            (*honest(3), Identity("lazy0", "lazy0", e2, Lazy())),
            description="one lazy worker among three honest",
        ),
        "forger": lambda: Scenario(
            (*honest(3), *group("forger", Forger(), [e2, e2])),
            description="a coordinated forger with two identities (p = 0.4), honest watcher",
        ),
        "forger-captures": lambda: Scenario(
            (*honest(3), *group("captor", CapturedCommittee(), [e2, e2])),
            description="a captured committee harvesting slashes (p = 0.4), honest watcher",
        ),
        "forger-unwatched": lambda: Scenario(
            (*honest(3), *group("captor", CapturedCommittee(), [e2, e2])),
            watcher_online=False,
            description="a captured committee (p = 0.4), no third-party watcher: the out-voted "
            "seats and contradicted attesters challenge on their own bond",
        ),
        "captured-unwatched": lambda: Scenario(
            (*honest(3), *group("captor", CapturedCommittee(), [e2, e2])),
            watcher_online=False,
            attesters=0,
            present_attestations=False,
            description="a captured committee (p = 0.4), no third-party watcher, no attesters: "
            "only the out-voted honest seats can challenge",
        ),
        "random-liar": lambda: Scenario(
            (*honest(3), Identity("liar0", "liar0", e2, RandomLiar(0.5))),
            description="one uncoordinated liar (half its answers)",
        ),
        "withholder": lambda: Scenario(
            (*honest(3), *group("withholder", Withholder(), [e2, e2])),
            description="commits a lie, reveals only when its owner holds a quorum",
        ),
        "griefer": lambda: Scenario(
            (*honest(3), *group("griefer", Griefer(), [e2, e2])),
            description="two identities, two different lies",
        ),
        "no-show": lambda: Scenario(
            (*honest(3), Identity("noshow0", "noshow0", e2, NoShow())),
            description="one worker that never shows up",
        ),
        "sybil": lambda: Scenario(
            (*honest(3), *group("sybil", Honest(), split(4 * ETHER, 4))),
            description="an honest 4-ether stake split over four identities",
        ),
        "spam-challenger": lambda: Scenario(
            (*honest(3), Identity("spam0", "spam0", e2, SpamChallenger())),
            description="challenges right results",
        ),
        "mixed": lambda: Scenario(
            (
                *honest(3),
                *group("captor", CapturedCommittee(), [e2, e2]),
                Identity("noshow0", "noshow0", e2, NoShow()),
                Identity("owned0", PROJECT, e2, SelfDealingAttester()),
                Identity("liar0", "liar0", e2, RandomLiar(0.5)),
            ),
            batches=5,
            batches_per_epoch=3,
            description="every path at once: capture, no-show, self-dealing attester, random liar",
        ),
        "withholding-gateway": lambda: Scenario(
            tuple(honest(4)),
            batches=3,
            gateway="withholding-batches",
            description="the gateway withholds its batches; a worker posts them as orphans",
        ),
        "over-issuing-gateway": lambda: Scenario(
            tuple(honest(4)),
            batches=4,
            leaves=2,
            gateway="over-issuing",
            description="the gateway issues half the run's tickets beyond the project's reserve",
        ),
        "withholding-inputs-gateway": lambda: Scenario(
            tuple(honest(4)),
            batches=3,
            leaves=2,
            gateway="withholding-inputs",
            description="the gateway withholds half its inputs from the committee",
        ),
        "equivocating-gateway": lambda: Scenario(
            tuple(honest(4)),
            batches=3,
            gateway="equivocating",
            description="the gateway signs two tickets with one seq in half its batches",
        ),
        "timing-gateway": lambda: Scenario(
            tuple(honest(4)),
            batches=3,
            gateway="timing-posts",
            description="the gateway times its posts for a committee seating its friend",
        ),
        "self-dealing": lambda: Scenario(
            (*honest(3), Identity("owned0", PROJECT, e2, SelfDealingAttester())),
            description="the project owner's own attester lies; the owner presents it",
        ),
    }


#: Scenario name -> factory.
SCENARIOS: dict[str, Callable[[], Scenario]] = _named()


def scenario(name: str) -> Scenario:
    """The named scenario (:data:`SCENARIOS`)."""
    try:
        return SCENARIOS[name]()
    except KeyError:
        known = ", ".join(sorted(SCENARIOS))
        raise ValueError(f"Unknown scenario {name!r}; known: {known}.") from None


__all__ = ["SCENARIOS", "Identity", "Scenario", "group", "honest", "scenario", "split"]
