"""Seat draws are binomial in stake share, however the adversary splits its stake.

For each share p and split (1 identity, 10 identities) the epoch's frozen array is read from the
chain, the contract's own draw is checked against ``peerhost.wire.batch.draw_seats`` on a sample of
seeds, and then 4,000 seeds are drawn over that array. The rate at which the adversary holds >= Q of
the K seats must match ``P(Bin(K, p) >= Q)`` within 4 standard errors.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from eth_utils import keccak

from peerhost.deploy import ETHER
from peerhost.wire.batch import draw_seats

from .conftest import KEY

SEEDS = 4000
CHECKED_ON_CHAIN = 25


def binomial_at_least(k: int, q: int, p: float) -> float:
    return sum(math.comb(k, i) * p**i * (1 - p) ** (k - i) for i in range(q, k + 1))


@pytest.mark.parametrize("identities", [1, 10])
@pytest.mark.parametrize(
    "share", [Fraction(1, 10), Fraction(1, 5), Fraction(1, 3)], ids=["p0.1", "p0.2", "p1/3"]
)
def test_draw__adversary_share_p__captures_quorum_at_binomial_rate(
    kit, accounts, chain, identities, share
):
    adversary_total = 10 * ETHER
    honest_total = int(adversary_total * (1 - share) / share)
    adversary = [accounts.generate_test_account() for _ in range(identities)]
    honest = [accounts.generate_test_account() for _ in range(10)]
    for a in adversary + honest:
        chain.set_balance(a.address, 200 * ETHER)
    for a in adversary:
        kit.s.stakes.register(KEY, value=adversary_total // identities, sender=a)
    for h in honest:
        kit.s.stakes.register(KEY, value=honest_total // 10, sender=h)
    kit.advance_epoch()

    stakes = kit.s.stakes
    epoch = stakes.currentEpoch()
    info = stakes.epochInfo(epoch)
    entries = [stakes.entryAt(epoch, i) for i in range(info.members)]
    members = [str(m) for m, _ in entries]
    cumulative = [int(c) for _, c in entries]
    assert cumulative[-1] == adversary_total + honest_total
    k, q = kit.params.seats, kit.params.quorum
    for i in range(CHECKED_ON_CHAIN):
        seed = keccak(b"check" + i.to_bytes(4, "big"))
        assert [str(s) for s in stakes.drawSeats(epoch, seed, k)] == draw_seats(
            cumulative, members, seed, k
        )

    bad = {str(a.address) for a in adversary}
    captured = 0
    for i in range(SEEDS):
        seats = draw_seats(cumulative, members, keccak(i.to_bytes(32, "big")), k)
        captured += sum(s in bad for s in seats) >= q
    p = float(share)
    expected = binomial_at_least(k, q, p)
    error = math.sqrt(expected * (1 - expected) / SEEDS)
    rate = captured / SEEDS
    assert abs(rate - expected) < 4 * error, (rate, expected, error)
