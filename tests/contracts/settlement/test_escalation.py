"""Bounded escalation: a disputed leaf goes to a 2K+1 panel with a fresh seed, then to a stake-weighted
vote of the whole active set; no further tier; a dispute freezes only its leaf."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peerhost.chain.headers import header_of
from peerhost.wire.batch import ABSTAIN
from peerhost.wire.disputes import (
    TIER_ALL,
    TIER_COMMITTEE,
    TIER_PANEL,
    case_key,
    panel_seed,
    vote_commitment,
)

from .conftest import GOOD, L_DISPUTED, L_FINAL, LIE, LIE2, distinct, seat_until, vector
from .courtkit import (
    C_CLOSED,
    C_DECIDED,
    C_SEEDING,
    C_VOTING,
    CP_COMMIT,
    CP_DECIDE,
    CP_DECIDED,
    CP_SEEDING,
    Court,
)

BPS = 10_000


@pytest.fixture
def k(kit, workers):
    kit.stake(workers[:5])
    kit.open_project()
    return kit


@pytest.fixture
def court(k, accounts_by_address):
    return Court(k, accounts_by_address)


def two_lies(k, court, n=1):
    """A batch whose leaf 0 gets GOOD, LIE and LIE2 from three distinct holders: Disputed."""
    posted, holders = seat_until(k, distinct(3), n=n)
    b = posted.batch_id
    votes = dict(zip(holders, [GOOD, LIE, LIE2], strict=True))
    for h, v in votes.items():
        k.commit(b, court.by[h], [v] + vector(n - 1))
    for h, v in votes.items():
        k.reveal(b, court.by[h], [v] + vector(n - 1))
    vectors = [[v] + vector(n - 1) for v in (GOOD, LIE, LIE2)]
    if k.coordinator.phaseOf(b) == 4:  # Settle
        k.coordinator.finalize(b, vectors, k.hl(b), sender=court.by[holders[0]])
    return b, holders, votes, vectors


def test_settle__no_quorum__leaf_disputed_reward_held_rest_of_batch_final(k, court):
    before = k.chain.provider.get_balance(court.c.address)
    b, _, _, _ = two_lies(k, court, n=2)
    assert [k.coordinator.leafState(b, i) for i in range(2)] == [L_DISPUTED, L_FINAL]
    batch = k.coordinator.getBatch(b)
    assert (batch.finalMask, batch.refundMask, batch.disputedMask) == (0b10, 0, 0b01)
    assert k.chain.provider.get_balance(court.c.address) == before + k.params.min_reward


def test_escalate__disputed_leaf__opens_panel_with_fresh_seed(k, court, chain, reverts_with):
    b, holders, votes, vectors = two_lies(k, court)
    tx = court.c.escalate(b, 0, vectors, court.kit.hl(b), sender=k.gateway)
    c = court.case(b, 0)
    assert (c.state, c.tier, c.escrow, c.value) == (
        C_SEEDING,
        TIER_PANEL,
        k.params.min_reward,
        ABSTAIN,
    )
    assert c.seedBlock == tx.block_number + k.params.beacon_delay
    assert court.phase(b, 0) == CP_SEEDING
    tier1 = court.c.votersOf(b, 0, TIER_COMMITTEE)
    assert {str(v.worker): bytes(v.vote) for v in tier1} == votes
    with reverts_with(court.c.WrongCasePhase):  # once
        court.c.escalate(b, 0, vectors, court.kit.hl(b), sender=k.gateway)
    with reverts_with(court.c.SeedNotReady):
        court.c.seatPanel(b, 0, b"", sender=k.gateway)
    k.chain.mine(k.params.beacon_delay + 1)
    header = header_of(k.request, c.seedBlock)
    tx = court.c.seatPanel(b, 0, header, sender=k.gateway)
    panel = court.c.votersOf(b, 0, TIER_PANEL)
    assert sum(int(v.weight) for v in panel) == 2 * k.params.seats + 1
    assert court.phase(b, 0) == CP_COMMIT
    [seated] = tx.events.filter(court.c.PanelSeated)
    block = k.chain.provider.make_request("eth_getBlockByNumber", [hex(c.seedBlock), False])
    seed = panel_seed(bytes.fromhex(block["mixHash"][2:]), b, 0)
    epoch = court.case(b, 0).epoch
    drawn = k.s.stakes.drawSeats(epoch, seed, 2 * k.params.seats + 1)
    assert [str(a) for a in seated.seats] == [str(a) for a in drawn]


def test_escalate__not_disputed_or_bad_vectors__reverts(k, court, reverts_with):
    posted, holders = seat_until(k, distinct(3))
    b = posted.batch_id
    for h in holders:
        k.commit(b, court.by[h], vector(1))
    for h in holders:
        k.reveal(b, court.by[h], vector(1))
    with reverts_with(court.c.WrongLeafState):
        court.c.escalate(b, 0, [vector(1)], court.kit.hl(b), sender=k.gateway)
    d, _, _, vectors = two_lies(k, court)
    with reverts_with(court.c.BadVectors):
        court.c.escalate(d, 0, vectors[:2], court.kit.hl(d), sender=k.gateway)
    with reverts_with(court.c.BadVectors):
        court.c.escalate(d, 0, [[GOOD, GOOD]], court.kit.hl(d), sender=k.gateway)


def test_panel__majority_for_truth__decides_then_closes_liars_slashed_truth_paid(k, court):
    b, holders, votes, vectors = two_lies(k, court)
    court.c.escalate(b, 0, vectors, court.kit.hl(b), sender=k.gateway)
    stake = {h: int(k.s.stakes.getStaker(h).stake) for h in holders}
    court.vote(b, 0, lambda w: GOOD)  # every panel seat runs it and agrees
    c = court.case(b, 0)
    assert (c.state, c.value) == (C_DECIDED, GOOD) and court.phase(b, 0) == CP_DECIDED
    tx = court.close_after_window(b, 0)
    assert court.case(b, 0).state == C_CLOSED
    slashed = {str(e.worker): int(e.amount) for e in tx.events.filter(court.c.VoterSlashed)}
    liars = {h for h, v in votes.items() if v != GOOD}
    assert set(slashed) == liars
    for h in holders:
        want = stake[h] - (k.params.seat_slash if h in liars else 0)
        assert k.s.stakes.getStaker(h).stake == want
    honest = next(h for h, v in votes.items() if v == GOOD)
    assert court.c.pendingWithdrawal(honest) > 0
    assert k.chain.provider.get_balance(court.c.address) == court.c.burned() + sum(
        int(court.c.pendingWithdrawal(a)) for a in court.by
    )


def test_panel__no_majority__goes_to_whole_set_which_decides_and_closes(k, court, reverts_with):
    b, holders, votes, vectors = two_lies(k, court)
    court.c.escalate(b, 0, vectors, court.kit.hl(b), sender=k.gateway)
    court.seat_panel(b, 0)
    tx = court.vote(b, 0, lambda w: None)  # nobody on the panel shows up
    [esc] = tx.events.filter(court.c.Escalated)
    assert esc.tier == TIER_ALL and court.case(b, 0).state == C_VOTING
    liars = {h for h, v in votes.items() if v != GOOD}
    tx = court.vote(b, 0, lambda w: LIE if w in liars else GOOD)
    c = court.case(b, 0)
    assert (c.state, c.tier, c.value) == (C_CLOSED, TIER_ALL, GOOD)
    kinds = {
        (str(e.worker), int(e.tier), int(e.reason)) for e in tx.events.filter(court.c.VoterSlashed)
    }
    assert {(h, TIER_COMMITTEE, 0) for h in liars} <= kinds  # tier-1 lies
    assert {(h, TIER_ALL, 0) for h in liars} <= kinds  # tier-3 lies
    assert all(reason == 1 for w, t, reason in kinds if t == TIER_PANEL)  # panel no-shows
    honest = next(h for h, v in votes.items() if v == GOOD)
    with reverts_with(court.c.NoFurtherTier):  # no tier 4
        court.c.challenge(
            b, 0, [], court.kit.hl(b), value=court.params.challengeBond, sender=court.by[honest]
        )


def test_whole_set__tie__no_result_escrow_refunded_nobody_slashed_for_values(k, court, workers):
    b, holders, votes, vectors = two_lies(k, court)
    court.c.escalate(b, 0, vectors, court.kit.hl(b), sender=k.gateway)
    court.seat_panel(b, 0)
    court.vote(b, 0, lambda w: ABSTAIN)  # every seat abstains: no K+1
    reserve = k.s.gateways.reserveOf(k.project_id).balance
    a, bb = str(workers[0].address), str(workers[1].address)
    tx = court.vote(b, 0, lambda w: GOOD if w == a else LIE if w == bb else None)  # equal stakes
    assert court.case(b, 0).value == ABSTAIN
    assert list(tx.events.filter(court.c.VoterSlashed)) == []
    assert k.s.gateways.reserveOf(k.project_id).balance == reserve + k.params.min_reward


def test_vote__wrong_phase_stranger_double_or_bad_reveal__reverts(k, court, stranger, reverts_with):
    b, holders, votes, vectors = two_lies(k, court)
    with reverts_with(court.c.WrongCasePhase):
        court.c.commitVote(b, 0, b"\x01" * 32, 0, sender=k.gateway)
    court.c.escalate(b, 0, vectors, court.kit.hl(b), sender=k.gateway)
    seats = court.seat_panel(b, 0)
    with reverts_with(court.c.NotAVoter):
        court.c.commitVote(b, 0, b"\x01" * 32, 0, sender=stranger)
    w = seats[0]
    with reverts_with(court.c.BadCommit):
        court.c.commitVote(b, 0, b"\x00" * 32, 0, sender=court.by[w])
    court.commit(b, 0, w, GOOD)
    with reverts_with(court.c.BadCommit):
        court.commit(b, 0, w, GOOD)
    with reverts_with(court.c.WrongCasePhase):
        court.reveal(b, 0, w, GOOD)
    with reverts_with(court.c.WrongCasePhase):
        court.c.decide(b, 0, sender=k.gateway)
    k.chain.mine(deltatime=int(court.params.commitWindow))
    with reverts_with(court.c.BadReveal):
        court.reveal(b, 0, w, LIE)
    with reverts_with(court.c.BadReveal):
        court.c.revealVote(b, 0, GOOD, b"\x00" * 32, sender=stranger)
    court.reveal(b, 0, w, GOOD)
    assert court.phase(b, 0) == CP_DECIDE
    with reverts_with(court.c.WrongCasePhase):
        court.c.close(b, 0, sender=k.gateway)


def test_whole_set__member_index_not_callers__reverts_not_a_voter(k, court, reverts_with):
    b, holders, votes, vectors = two_lies(k, court)
    court.c.escalate(b, 0, vectors, court.kit.hl(b), sender=k.gateway)
    court.seat_panel(b, 0)
    court.vote(b, 0, lambda w: None)
    w = holders[0]
    court.case_epoch = int(court.case(b, 0).epoch)
    wrong = (court.member_index(w) + 1) % int(k.s.stakes.epochInfo(court.case_epoch).members)
    with reverts_with(court.c.NotAVoter):
        court.c.commitVote(b, 0, b"\x01" * 32, wrong, sender=court.by[w])


def test_hold_disputed__not_settlement__reverts(k, court, stranger, reverts_with):
    with reverts_with(court.c.NotSettlement):
        court.c.holdDisputed(1, value=1, sender=stranger)
    with reverts_with(court.c.NotSettlement):
        stranger.transfer(court.c.address, 1)


def test_vote_commitment__wire_format__matches_contract(k, court):
    got = court.c.voteCommitment(3, 7, 2, k.gateway, GOOD, b"\x05" * 32)
    want = vote_commitment(
        k.chain.chain_id, str(court.c.address), 3, 7, 2, str(k.gateway.address), GOOD, b"\x05" * 32
    )
    assert bytes(got) == want and case_key(3, 7) == 3 * 256 + 7


def test_court_constructor__invalid_params__reverts(project, settlement, owner, reverts_with):
    import dataclasses

    from peerhost.deploy import CourtParams

    for change in (
        {"challenge_window": 0},
        {"presenter_bps": 1001},
        {"challenge_bond": 0},
        {"attestation_slash_bps": 0},
        {"data_bond": 0},
        {"challenge_window": 600},  # = openWindow: attesters could never be paid
    ):
        bad = dataclasses.replace(CourtParams(), **change).as_tuple()
        with reverts_with(project.DisputeCourt.InvalidCourtParams):
            project.DisputeCourt.deploy(bad, settlement.coordinator, sender=owner)


@pytest.mark.parametrize("name", ["DisputeCourt", "EvidenceCourt"])
def test_deployed_code__courts__fit_eip170(project, settlement, name):
    build = json.loads((Path(project.path) / ".build" / "__local__.json").read_text())
    runtime = build["contractTypes"][name]["runtimeBytecode"]["bytecode"]
    assert 0 < (len(runtime) - 2) // 2 < 24_576


def test_set_court__twice_or_stranger__reverts(settlement, owner, stranger, reverts_with):
    s = settlement
    assert s.coordinator.court() == s.court.address
    courts = (s.court.address, s.evidence.address)
    assert tuple(s.stakes.courts()) == courts == tuple(s.gateways.courts())
    with reverts_with(s.coordinator.CourtAlreadySet):
        s.coordinator.setCourt(stranger, sender=owner)
    with reverts_with(s.coordinator.CourtAlreadySet):
        s.coordinator.setCourt(stranger, sender=stranger)
    for registry in (s.stakes, s.gateways):
        with reverts_with(registry.CoordinatorAlreadySet):
            registry.setCourts(stranger, stranger, sender=owner)


def test_registries__stranger_slashes_or_charges__reverts_not_coordinator(
    settlement, stranger, reverts_with
):
    with reverts_with(settlement.stakes.NotCoordinator):
        settlement.stakes.slash(stranger, 1, sender=stranger)
    with reverts_with(settlement.gateways.NotCoordinator):
        settlement.gateways.chargeBond(stranger, 1, sender=stranger)
    with reverts_with(settlement.gateways.NotCoordinator):
        settlement.gateways.refund(b"\x00" * 32, value=1, sender=stranger)
