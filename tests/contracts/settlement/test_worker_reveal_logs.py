"""A worker takes a batch's votes from its ``SeatRevealed`` logs instead of a ``voteOf`` call per
holder: the logs must carry what the chain stored, a liar's differing reveal included, and the
final values and the punishment they decide must be the chain's."""

from __future__ import annotations

from typing import Any

from peerhost.chain.config import ChainConfig
from peerhost.wire.batch import vector_hash

from .conftest import GOOD, LIE, Kit, distinct, seat_until
from .worker_harness import ThreadLoop, accountability_of


def test_reveals__liar_reveals_another_vector__log_votes_are_the_chains_and_liar_is_punished(
    ready: Kit,
    v2_config: ChainConfig,
    accounts_by_address: dict[str, Any],
    loop: ThreadLoop,
) -> None:
    k = ready
    posted, holders = seat_until(k, distinct(3), n=1)
    b = posted.batch_id
    a, bb, liar = holders
    by = accounts_by_address
    for holder, value in ((a, GOOD), (bb, GOOD), (liar, LIE)):
        k.commit(b, by[holder], [value])
    k.reveal(b, by[a], [GOOD])
    k.reveal(b, by[bb], [GOOD], full=False)  # hash only: no vector in its calldata
    k.reveal(b, by[liar], [LIE])
    k.coordinator.finalize(b, [[GOOD], [LIE]], k.hl(b), sender=by[a])

    rpc, acc = accountability_of(v2_config, by[a], leaves_of=None, leaf_result=None)
    reveals = loop.run(acc.view.reveals(b, 0))
    # each holder's vote from the log is the one the chain answers with voteOf
    assert {h: reveals.votes[h.lower()] for h in holders} == {h: k.vote_of(b, h) for h in holders}
    assert reveals.votes[liar.lower()] == vector_hash([LIE]) != reveals.votes[a.lower()]
    assert reveals.vectors == {vector_hash([GOOD]): [GOOD], vector_hash([LIE]): [LIE]}
    calls = sum(rpc.calls.values())
    assert loop.run(acc.view.reveals(b, 0)) == reveals
    assert sum(rpc.calls.values()) - calls == 1, "read again: the logs only, no calldata"

    final = loop.run(acc.final_values(b, reveals))
    assert final == {0: GOOD}
    assert int(k.coordinator.getBatch(b).finalMask) == 1
    assert loop.run(acc.view.final_vector(b, 0)) == [GOOD]

    k.wait_challenge_window(b)
    ends = int(k.coordinator.getBatch(b).finalizedAt)
    stake = int(k.s.stakes.getStaker(liar).stake)
    loop.run(acc.punish(b, 0, list(reveals.vectors.values()), ends))
    assert acc.punished == 1
    assert int(k.s.stakes.getStaker(liar).stake) < stake, "the liar kept its stake"
    loop.run(rpc.aclose())
