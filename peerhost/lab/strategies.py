"""Worker strategies: one interface, each strategy a small class.

A strategy decides, for one identity, what it attests, what it commits and reveals as a seat,
how it votes in tiers 2 and 3, and whether it challenges a standing value. Decisions are pure
functions of what the identity sees (its seats, its owner's seats, the leaf), and any randomness is
drawn from a hash of (identity, batch, leaf), so the fast model and the chain runner make the very
same moves and their outcomes can be compared to the wei.

The production worker is not touched: these classes drive test accounts in the lab only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from eth_utils import keccak

from peerhost.wire.batch import ABSTAIN


def truth_of(batch: int, index: int) -> bytes:
    """The result an honest execution of leaf ``index`` of batch ``batch`` gives."""
    return keccak(b"result|%d|%d" % (batch, index))


def lie_of(tag: str, batch: int, index: int) -> bytes:
    """A wrong result; equal tags give equal lies (coordination)."""
    return keccak(b"lie|%s|%d|%d" % (tag.encode(), batch, index))


def uniform(tag: str, batch: int, index: int) -> float:
    """A number in [0, 1) from a hash: the same in every simulator."""
    return int.from_bytes(keccak(b"u|%s|%d|%d" % (tag.encode(), batch, index))[:8], "big") / 2**64


@dataclass(frozen=True)
class LeafView:
    """An attester's view of one leaf."""

    identity: str
    owner: str
    batch: int
    index: int
    truth: bytes


@dataclass(frozen=True)
class SeatView:
    """A seat holder's view of its batch (seats are public once drawn)."""

    identity: str
    owner: str
    batch: int
    truths: tuple[bytes, ...]
    audited: tuple[bool, ...]
    seats: int
    owner_seats: int
    committee: int
    quorum: int


@dataclass(frozen=True)
class CaseView:
    """A voter's or would-be challenger's view of one leaf's case.

    ``standing`` is the value that stands now (a Final leaf's, a tier's decision), ``tier`` the tier
    being voted on or that a challenge would open. ``watcher_online``: someone other than the
    leaf's own seats and attesters watches it (a third-party watcher). ``own``: what this identity
    itself said on the leaf (its tier-1 reveal, else its attestation; None when it said nothing),
    which the production worker defends on its own bond whoever else watches. ``crash_rate``: the
    probability that such an identity is offline by the challenge window (it crashed after
    revealing or attesting).
    """

    identity: str
    owner: str
    batch: int
    index: int
    tier: int
    truth: bytes
    standing: bytes
    watcher_online: bool
    own: bytes | None = None
    crash_rate: float = 0.0

    def contradicted(self) -> bool:
        """This identity said a value on the leaf and the standing value is another one."""
        return self.own not in (None, ABSTAIN) and self.standing not in (ABSTAIN, self.own)

    def crashed(self) -> bool:
        """Whether this identity is offline by the window (drawn per identity and leaf)."""
        return uniform("crash|" + self.identity, self.batch, self.index) < self.crash_rate


@dataclass(frozen=True)
class Ballot:
    """What a seat holder does: commit (or not), reveal (or not), and the vector it commits to."""

    commit: bool
    reveal: bool
    vector: tuple[bytes, ...]


class Strategy:
    """Honest behaviour; every other strategy overrides what it does differently."""

    name: ClassVar[str] = "honest"
    #: Whether the identity runs the leaves it attests or audits (pays ``execution_cost``).
    executes: ClassVar[bool] = True

    def value(self, identity: str, owner: str, batch: int, index: int, truth: bytes) -> bytes:
        """The result this identity claims for a leaf (attestation, vote)."""
        return truth

    def attest(self, v: LeafView) -> bytes | None:
        return self.value(v.identity, v.owner, v.batch, v.index, v.truth)

    def ballot(self, v: SeatView) -> Ballot:
        vector = tuple(
            self.value(v.identity, v.owner, v.batch, i, t) if audited else ABSTAIN
            for i, (t, audited) in enumerate(zip(v.truths, v.audited, strict=True))
        )
        return Ballot(True, True, vector)

    def tier_vote(self, v: CaseView) -> bytes | None:
        return self.value(v.identity, v.owner, v.batch, v.index, v.truth)

    def challenges(self, v: CaseView) -> bool:
        """A wrong standing value is challenged by an honest third-party watcher when one is
        online, and, as the production worker does (``peerhost.worker.accountability``), by an
        honest seat or attester whose own value it contradicts, on its own bond, unless that
        identity crashed after revealing."""
        if v.standing in (ABSTAIN, v.truth):
            return False
        return v.watcher_online or (v.contradicted() and not v.crashed())

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Honest(Strategy):
    """Runs every leaf, attests and votes the truth, challenges wrong values: a contradicted value
    of its own always (the production worker), any other when a watcher is online."""


class Offline(Strategy):
    """Honest but never challenging, not even a leaf that contradicts its own reveal (the
    production worker with ``challenges`` off): votes the truth."""

    name = "offline"

    def challenges(self, v: CaseView) -> bool:
        return False


class Lazy(Strategy):
    """Answers without executing: guesses right with probability ``guess``, else makes one up."""

    name = "lazy"
    executes = False

    def __init__(self, guess: float = 0.0) -> None:
        self.guess = guess

    def value(self, identity: str, owner: str, batch: int, index: int, truth: bytes) -> bytes:
        if uniform("guess|" + identity, batch, index) < self.guess:
            return truth
        return lie_of("guess|" + identity, batch, index)

    def challenges(self, v: CaseView) -> bool:
        return False


class Forger(Strategy):
    """One chosen wrong result, the same for all of its owner's identities, everywhere."""

    name = "forger"

    def value(self, identity: str, owner: str, batch: int, index: int, truth: bytes) -> bytes:
        return lie_of(owner, batch, index)

    def challenges(self, v: CaseView) -> bool:
        return False


class RandomLiar(Strategy):
    """Lies with probability ``rate`` per leaf, each identity its own lie (uncoordinated)."""

    name = "random-liar"

    def __init__(self, rate: float = 1.0) -> None:
        self.rate = rate

    def value(self, identity: str, owner: str, batch: int, index: int, truth: bytes) -> bytes:
        if uniform("liar|" + identity, batch, index) < self.rate:
            return lie_of(identity, batch, index)
        return truth

    def challenges(self, v: CaseView) -> bool:
        return False


class Withholder(Strategy):
    """Commits its owner's lie; reveals only when its owner holds a quorum of seats (it wins)."""

    name = "withholder"

    def ballot(self, v: SeatView) -> Ballot:
        vector = tuple(
            lie_of(v.owner, v.batch, i) if audited else ABSTAIN
            for i, audited in enumerate(v.audited)
        )
        return Ballot(True, v.owner_seats >= v.quorum, vector)

    def value(self, identity: str, owner: str, batch: int, index: int, truth: bytes) -> bytes:
        return lie_of(owner, batch, index)

    def attest(self, v: LeafView) -> bytes | None:
        return v.truth

    def challenges(self, v: CaseView) -> bool:
        return False


class Griefer(Strategy):
    """Each identity its own lie (an owner with two identities tells two lies): no quorum, disputes."""

    name = "griefer"

    def value(self, identity: str, owner: str, batch: int, index: int, truth: bytes) -> bytes:
        return lie_of(identity, batch, index)

    def challenges(self, v: CaseView) -> bool:
        return False


class NoShow(Strategy):
    """Holds stake, never attests, commits or votes."""

    name = "no-show"
    executes = False

    def attest(self, v: LeafView) -> bytes | None:
        return None

    def ballot(self, v: SeatView) -> Ballot:
        return Ballot(False, False, tuple(ABSTAIN for _ in v.truths))

    def tier_vote(self, v: CaseView) -> bytes | None:
        return None

    def challenges(self, v: CaseView) -> bool:
        return False


class SpamChallenger(Honest):
    """Honest votes, but challenges every standing value that is right (to make the court work)."""

    name = "spam-challenger"

    def challenges(self, v: CaseView) -> bool:
        return v.standing == v.truth


class CapturedCommittee(Strategy):
    """Lies (one coordinated value) only when its owner holds a quorum of seats, hoping the honest
    minority seat gets slashed and its slash paid to the liars; honest otherwise."""

    name = "captured-committee"

    def ballot(self, v: SeatView) -> Ballot:
        if v.owner_seats < v.quorum:
            return super().ballot(v)
        vector = tuple(
            lie_of(v.owner, v.batch, i) if audited else ABSTAIN
            for i, audited in enumerate(v.audited)
        )
        return Ballot(True, True, vector)

    def tier_vote(self, v: CaseView) -> bytes | None:
        return (
            lie_of(v.owner, v.batch, v.index) if v.standing not in (ABSTAIN, v.truth) else v.truth
        )

    def challenges(self, v: CaseView) -> bool:
        return False


class SelfDealingAttester(Strategy):
    """Attests its owner's lie (the owner is the project, which then presents the attestation to
    collect the presenter's share and the reward back); votes honestly."""

    name = "self-dealing"

    def attest(self, v: LeafView) -> bytes | None:
        return lie_of(v.owner, v.batch, v.index)

    def challenges(self, v: CaseView) -> bool:
        return False


STRATEGIES: dict[str, type[Strategy]] = {
    s.name: s
    for s in (
        Honest,
        Offline,
        Lazy,
        Forger,
        RandomLiar,
        Withholder,
        Griefer,
        NoShow,
        SpamChallenger,
        CapturedCommittee,
        SelfDealingAttester,
    )
}


def strategy(name: str) -> Strategy:
    """The strategy called ``name`` with its default settings."""
    try:
        return STRATEGIES[name]()
    except KeyError:
        known = ", ".join(sorted(STRATEGIES))
        raise ValueError(f"Unknown strategy {name!r}; known: {known}.") from None


__all__ = [
    "STRATEGIES",
    "Ballot",
    "CapturedCommittee",
    "CaseView",
    "Forger",
    "Griefer",
    "Honest",
    "Lazy",
    "LeafView",
    "NoShow",
    "Offline",
    "RandomLiar",
    "SeatView",
    "SelfDealingAttester",
    "SpamChallenger",
    "Strategy",
    "Withholder",
    "lie_of",
    "strategy",
    "truth_of",
    "uniform",
]
