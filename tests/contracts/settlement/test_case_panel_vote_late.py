"""A tier-2 panel vote mined after a challenge opened tier 3 is refused, not taken as a tier-3 vote.
``commitVote`` names no tier: the court files a commitment under the case's tier of the moment,
and reads the member index only for tier 3. The worker sent its panel votes with member index 0:
one mined late (a loaded machine, a resend) was the tier-3 vote of the active set's first member,
a commitment its saved tier-2 vote cannot open: a no-show, 5 % of its stake (seen in a fault run
on the first member, whose loss the run excused as its victim's). Real anvil, real courts."""

from __future__ import annotations

from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.wire.disputes import TIER_ALL, TIER_PANEL
from peerhost.worker.accountability import PANEL_SEAT
from peerhost.worker.duties import vote_key

from .conftest import GOOD
from .courtkit import CP_COMMIT, CP_DECIDED, Court
from .worker_harness import ThreadLoop, accountability_of


def test_panel_vote__mined_after_tier3_opened__refused_not_a_tier3_vote(
    k: Any, v2_config: ChainConfig, accounts_by_address: dict[str, Any], loop: ThreadLoop
) -> None:
    court = Court(k, accounts_by_address)
    stakes = k.s.stakes
    first = None
    # a case whose panel seats the active set's first member, and whose other seats decide without
    # it: a majority of the 2 x seats + 1 (a first member drawn for most seats left the panel
    # undecided, and tier 3 opened: a CI run, in its worker's chain state)
    for _ in range(24):
        _, b = court.escalated_leaf()
        panel = court.seat_panel(b, 0)
        epoch = int(court.case(b, 0).epoch)
        first = str(stakes.entryAt(epoch, 0)[0])
        weights = [(str(v.worker), int(v.weight)) for v in court.c.votersOf(b, 0, TIER_PANEL)]
        total = sum(w for _, w in weights)
        if first in panel and sum(w for x, w in weights if x != first) > total // 2:
            break
    else:
        raise AssertionError("no panel in 24 cases seated the first member and decided without it")
    me = accounts_by_address[first]
    rpc, duties = accountability_of(v2_config, me, None, None)
    try:
        courts = loop.run(duties.courts())
        member = loop.run(duties._member_index(courts, b, 0, TIER_PANEL, court_case(court, b)))
        assert member == PANEL_SEAT  # no active-set index (before: 0, the first member's)

        # the panel decides without this seat's vote (its transaction not mined yet), and a
        # challenge opens tier 3
        court.vote(b, 0, lambda w: None if w == first else GOOD)
        assert court.phase(b, 0) == CP_DECIDED
        challenger = next(a for x, a in accounts_by_address.items() if x in panel and x != first)
        court.challenge(b, 0, challenger)
        assert int(court.case(b, 0).tier) == TIER_ALL and court.phase(b, 0) == CP_COMMIT

        # the late panel vote lands now: refused, the seat's tier-3 vote still its own to cast
        loop.run(duties._commit_vote(courts, b, 0, TIER_PANEL, GOOD, member))
        tier3 = [v for v in court.c.votersOf(b, 0, TIER_ALL) if str(v.worker) == first]
        assert not tier3, "the panel vote was taken as a tier-3 vote"
        assert vote_key(b, 0, TIER_PANEL) in duties._uncommitted  # tried again while it lasts
    finally:
        loop.run(duties.close())
        loop.run(rpc.aclose())


def court_case(court: Any, b: int) -> dict[str, Any]:
    """The case's record as the worker reads it (its epoch and seat holder count for a panel
    seat)."""
    case = court.case(b, 0)
    return {"epoch": int(case.epoch), "voters": int(case.voters)}
