"""An epoch's active set answers membership in any address case."""

from __future__ import annotations

from peerhost.chain.settlement import ActiveSet

MEMBER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def test_contains__member_in_any_case__true() -> None:
    active = ActiveSet(3, (MEMBER,), (2 * 10**18,), 0.0)
    assert active.contains(MEMBER)
    assert active.contains(MEMBER.lower())
    assert active.contains("0x" + MEMBER[2:].upper())


def test_contains__not_a_member__false() -> None:
    active = ActiveSet(3, (MEMBER,), (2 * 10**18,), 0.0)
    assert not active.contains(OTHER)
    assert not ActiveSet(3, (), (), 0.0).contains(MEMBER)
