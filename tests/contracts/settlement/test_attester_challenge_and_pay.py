"""An attester challenges on its own bond, and nobody keeps pay for a leaf a later tier overturns.

Attester challenge: an attester whose attestation the leaf's standing value contradicts may challenge
with the same bond as a staked worker, staked or not, by showing its attestation of the leaf's ticket.

Pay of a challengeable leaf: attesters are paid by ``openResults`` only once the batch's challenge window
has passed, and never on the tier-1 value of a leaf challenged in it (its attester share goes back to the
payer). The committee pay is deferred the same way: credited when the batch closes after the window, and
a challenge takes the leaf's committee pay into its case, which pays it to the tier-1 seats of the value
when the case upholds it and into the winners' pot when a later tier overturns it: nothing to claw back.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak

from peerhost.deploy import ETHER
from peerhost.wire.batch import (
    ABSTAIN,
    BatchHead,
    Leaf,
    encode_posted,
    merkle_proof,
    results_commitment,
    results_opening,
)
from peerhost.wire.disputes import TIER_ALL, TIER_PANEL
from peerhost.wire.ticket import sign_attestation, ticket_hash

from .conftest import GOOD, KEY, L_FINAL, LIE, RESULT_SALT, Posted
from .courtkit import C_CLOSED, C_SEEDING, Court, resolve

BPS = 10_000
SEAT, ATTESTER = 0, 2  # ISettlementCoordinator Credited reasons
COURT_SEAT_PAY = 3  # IDisputeCourt Credited reason: committee pay of an upheld challenged leaf


@pytest.fixture
def court(kit, workers, accounts_by_address):
    """Three honest workers (2 ether each) and two adversary identities (2 ether each: p = 0.4)."""
    kit.stake(workers[:3], 2 * ETHER)
    for a in workers[3:5]:
        kit.s.stakes.register(KEY, value=2 * ETHER, sender=a)
    kit.advance_epoch()
    kit.open_project()
    return Court(kit, accounts_by_address)


def _post(kit: Any, attested: list[tuple[Any, bytes]]) -> Posted:
    """One verified ticket whose attested results (committed at post) are ``attested``."""
    tickets = kit.tickets(1)
    # the opening holds one result per leaf: the first attester's (the gateway's answer), signed
    first = attested[0][1]
    results = kit.attested(tickets, [who for who, result in attested if result == first], first)
    tx = kit.coordinator.postBatch(
        kit.project_id,
        keccak(b"engine-profile"),
        BatchHead.of(Leaf.of(tickets[0])).as_tuple(),
        results_commitment(results, RESULT_SALT),
        encode_posted([Leaf.of(t) for t in tickets])[1],
        sender=kit.gateway,
    )
    batch_id = int(tx.events.filter(kit.coordinator.BatchPosted)[0].batchId)
    return Posted(batch_id, tickets, results)


def _settle(kit: Any, court: Court, posted: Posted, holders: list[str], vote_of: Any) -> Any:
    b = posted.batch_id
    for h in holders:
        kit.commit(b, court.by[h], [vote_of(h)])
    tx = None
    for h in holders:
        tx = kit.reveal(b, court.by[h], [vote_of(h)])
    if kit.coordinator.phaseOf(b) == 4:  # Settle
        tx = kit.coordinator.finalize(
            b, [[v] for v in {vote_of(h) for h in holders}], kit.hl(b), sender=kit.gateway
        )
    return tx


def _proof(kit: Any, posted: Posted, signer: Any, result: bytes) -> tuple[Any, ...]:
    ticket = posted.tickets[0]
    sig = sign_attestation(
        signer.private_key,
        kit.chain.chain_id,
        str(kit.coordinator.address),
        ticket_hash(ticket),
        result,
    )
    return (ticket.as_tuple(), result, sig, merkle_proof([Leaf.of(ticket).hash()], 0))


def _all_seats_say(
    kit: Any, court: Court, value: bytes, attested: list[tuple[Any, bytes]]
) -> Posted:
    posted = _post(kit, attested)
    holders = kit.seat(posted.batch_id)
    _settle(kit, court, posted, holders, lambda h: value)
    assert kit.coordinator.leafState(posted.batch_id, 0) == L_FINAL
    return posted


def test_challenge_as_attester__unstaked_contradicted_attester__opens_panel_and_wins(
    court, requester, reverts_with
):
    kit = court.kit
    attester = requester  # never staked
    assert int(kit.s.stakes.getStaker(attester).stake) == 0
    posted = _all_seats_say(kit, court, LIE, [(attester, GOOD)])
    b = posted.batch_id
    bond = int(court.params.challengeBond)
    with reverts_with(court.c.NotStaked):
        court.c.challenge(b, 0, [[LIE]], court.kit.hl(b), value=bond, sender=attester)
    tx = court.c.challengeAsAttester(
        b,
        0,
        [[LIE]],
        court.kit.hl(b),
        _proof(kit, posted, attester, GOOD),
        value=bond,
        sender=attester,
    )
    [esc] = tx.events.filter(court.c.Escalated)
    assert (esc.tier, esc.challenger, bytes(esc.against)) == (TIER_PANEL, attester.address, LIE)
    assert court.case(b, 0).state == C_SEEDING
    court.vote(b, 0, lambda w: GOOD)
    close = court.close_after_window(b, 0)
    [settled] = close.events.filter(court.c.BondSettled)
    assert settled.challenger == attester.address and not settled.forfeited
    assert bytes(court.case(b, 0).value) == GOOD and court.case(b, 0).state == C_CLOSED
    assert court.c.pendingWithdrawal(attester) > bond  # bond back and a winner's share


def test_challenge_as_attester__decided_panel__attester_takes_it_to_whole_set(
    court, requester, workers, reverts_with
):
    kit = court.kit
    attester = requester
    posted = _all_seats_say(kit, court, LIE, [(attester, GOOD)])
    b = posted.batch_id
    bond = int(court.params.challengeBond)
    court.c.challenge(b, 0, [[LIE]], court.kit.hl(b), value=bond, sender=workers[0])
    court.vote(b, 0, lambda w: LIE)  # the panel upholds the lie
    assert bytes(court.case(b, 0).value) == LIE
    proof = _proof(kit, posted, attester, GOOD)
    with reverts_with(court.c.WrongBond):
        court.c.challengeAsAttester(b, 0, [], court.kit.hl(b), proof, value=bond, sender=attester)
    court.c.challengeAsAttester(b, 0, [], court.kit.hl(b), proof, value=2 * bond, sender=attester)
    assert court.case(b, 0).tier == TIER_ALL
    court.vote(b, 0, lambda w: GOOD)
    assert court.case(b, 0).state == C_CLOSED and bytes(court.case(b, 0).value) == GOOD
    assert court.c.challengeOf(b, 0, TIER_ALL).challenger == attester.address
    assert court.c.pendingWithdrawal(attester) > 2 * bond


@pytest.mark.parametrize(
    "case", ["agrees", "abstains", "another-signer", "bad-proof", "bad-signature"]
)
def test_challenge_as_attester__not_a_contradicted_attestation__reverts(
    court, requester, stranger, case, reverts_with
):
    kit = court.kit
    posted = _all_seats_say(kit, court, LIE, [(requester, GOOD)])
    b = posted.batch_id
    proof = {
        "agrees": _proof(kit, posted, requester, LIE),
        "abstains": _proof(kit, posted, requester, ABSTAIN),
        "another-signer": _proof(kit, posted, stranger, GOOD),
        "bad-proof": (*_proof(kit, posted, requester, GOOD)[:3], [keccak(b"sibling")]),
        "bad-signature": (*_proof(kit, posted, requester, GOOD)[:2], b"\x01" * 65, []),
    }[case]
    bond = int(court.params.challengeBond)
    with reverts_with(court.c.NotAContradictedAttester):
        court.c.challengeAsAttester(
            b, 0, [[LIE]], court.kit.hl(b), proof, value=bond, sender=requester
        )
    assert court.case(b, 0).state == 0  # nothing opened, the bond stays with its sender


def test_open_results__challenge_window_open__reverts_then_pays_after(court, workers, reverts_with):
    kit = court.kit
    posted = _all_seats_say(kit, court, GOOD, [(workers[0], GOOD)])
    b = posted.batch_id
    opening = results_opening(posted.results)
    with reverts_with(court.c.ChallengeWindowOpen):
        kit.coordinator.openResults(
            b,
            RESULT_SALT,
            opening,
            [GOOD],
            kit.cosignatures(posted.batch_id, posted.tickets, posted.results),
            sender=kit.gateway,
        )
    before = int(kit.coordinator.pendingWithdrawal(workers[0]))
    tx = kit.open(posted, [GOOD])  # waits out the window
    [opened] = tx.events.filter(kit.coordinator.ResultsOpened)
    assert int(opened.paid) > 0 and int(opened.returned) == 0
    # its attester pay, and its seat pay if it also held a seat (both deferred to this opening)
    seat_pay = sum(
        int(e.amount)
        for e in tx.events.filter(kit.coordinator.Credited)
        if int(e.reason) == SEAT and e.account == workers[0].address
    )
    assert (
        int(kit.coordinator.pendingWithdrawal(workers[0])) == before + int(opened.paid) + seat_pay
    )


def test_open_results__spam_challenged_true_leaf__attesters_unpaid_share_back_to_payer(
    court, workers, reverts_with
):
    kit = court.kit
    posted = _all_seats_say(kit, court, GOOD, [(workers[1], GOOD)])
    b = posted.batch_id
    court.challenge(b, 0, workers[3], [[GOOD]])  # the adversary spams a true leaf
    with reverts_with(court.c.ChallengeWindowOpen):
        court.c.unpaidLeaves(b)
    court.vote(b, 0, lambda w: GOOD)
    court.close_after_window(b, 0)
    pot = int(kit.coordinator.getBatch(b).attesterPot)
    reserve = int(kit.s.gateways.reserveOf(kit.project_id).balance)
    tx = kit.open(posted, [GOOD])
    [opened] = tx.events.filter(kit.coordinator.ResultsOpened)
    assert (int(opened.paid), int(opened.returned)) == (0, pot)
    assert int(kit.s.gateways.reserveOf(kit.project_id).balance) == reserve + pot
    assert court.c.unpaidLeaves(b) == 1


def test_unpaid_leaves_after__batch_finalization_time__answers_as_unpaid_leaves(
    court, workers, reverts_with
):
    """What openResults and close ask the court (the coordinator passes the batch's finalization time
    instead of the court reading the batch back): the window's end and the challenged leaves exactly as
    unpaidLeaves gives them; a time that ends the window earlier than the batch's does not change
    unpaidLeaves, which the coordinator never bypasses."""
    kit = court.kit
    posted = _all_seats_say(kit, court, GOOD, [(workers[1], GOOD)])
    b = posted.batch_id
    court.challenge(b, 0, workers[3], [[GOOD]])
    finalized_at = int(kit.coordinator.getBatch(b).finalizedAt)
    window = int(court.params.challengeWindow)
    for ask in (
        lambda: court.c.unpaidLeaves(b),
        lambda: court.c.unpaidLeavesAfter(b, finalized_at),
    ):
        with reverts_with(court.c.ChallengeWindowOpen):
            ask()
    # an earlier finalization time claims the window over: only this view says so
    assert court.c.unpaidLeavesAfter(b, finalized_at - window) == 1
    with reverts_with(court.c.ChallengeWindowOpen):
        court.c.unpaidLeaves(b)
    with reverts_with(court.c.ChallengeWindowOpen):  # the coordinator passes the true time
        kit.coordinator.openResults(
            b,
            RESULT_SALT,
            results_opening(posted.results),
            [GOOD],
            kit.cosignatures(b, posted.tickets, posted.results),
            sender=kit.gateway,
        )
    court.vote(b, 0, lambda w: GOOD)
    court.close_after_window(b, 0)
    assert court.c.unpaidLeavesAfter(b, finalized_at) == court.c.unpaidLeaves(b) == 1


def test_overturned_leaf__captured_committee_and_its_attester__keep_no_pay(
    court, workers, reverts_with
):
    """The adversary is given Q of the K seats and its own attester; the committee finalizes the
    attester's lie and the gateway (the adversary's too) opens the results at once. The opening waits
    for the window; the honest challenger overturns the leaf; then the liar attester is paid nothing,
    and no lying seat is ever credited its committee pay: the challenge took it into the case, which puts it
    in the winners' pot."""
    kit = court.kit
    bad = {str(a.address) for a in workers[3:5]}
    liar_attester = workers[4]

    def captured(holders, seats):
        return sum(s for h, s in zip(holders, seats, strict=True) if h in bad) >= kit.params.quorum

    posted, holders = None, []
    for _ in range(60):
        posted = _post(kit, [(liar_attester, LIE)])
        holders = kit.seat(posted.batch_id)
        seats = [int(x) for x in kit.holders_of(posted.batch_id)[1]]
        if captured(holders, seats):
            break
    else:
        raise AssertionError("no captured committee in 60 draws")
    b = posted.batch_id
    stake0 = {a: int(kit.s.stakes.getStaker(a).stake) for a in bad}
    fin = _settle(kit, court, posted, holders, lambda h: LIE if h in bad else GOOD)
    assert kit.coordinator.leafState(b, 0) == L_FINAL
    assert [e for e in fin.events.filter(kit.coordinator.Credited) if int(e.reason) == SEAT] == []
    held = int(kit.coordinator.seatPayHeld(b, kit.hl(b)))
    assert held > 0  # the lying seats' pay waits for the window
    # every seat the adversary's: the last reveal settled, and its holder's word also holds the finalizer's
    # share (and the K-way split's dust), which no challenge withholds (a finalizer's share, as before)
    r = int(kit.coordinator.getBatch(b).reward)
    fs, cs = r * kit.params.finalizer_bps // 10_000, r * kit.params.committee_bps // 10_000
    extra = fs + cs % kit.params.seats if all(h in bad for h in holders) else 0
    with reverts_with(court.c.ChallengeWindowOpen):  # no attester pay inside the window
        kit.coordinator.openResults(
            b,
            RESULT_SALT,
            results_opening(posted.results),
            [LIE],
            kit.cosignatures(posted.batch_id, posted.tickets, posted.results),
            sender=kit.gateway,
        )
    vectors = [[LIE], [GOOD]] if any(h not in bad for h in holders) else [[LIE]]
    start = int(kit.chain.blocks.head.number)
    resolve(court, b, 0, truth=GOOD, lie=LIE, adversary=bad, challenger=workers[0], vectors=vectors)
    assert bytes(court.case(b, 0).value) == GOOD
    head = int(kit.chain.blocks.head.number) + 1
    [withheld] = [e for e in court.c.SeatPayWithheld.range(start, head) if int(e.batchId) == b]
    assert int(withheld.amount) == held - extra  # the challenge took all the seat pay into the case
    assert int(kit.coordinator.seatPayHeld(b, kit.hl(b))) == extra
    paid_seats = [
        e
        for e in court.c.Credited.range(start, head)
        if int(e.batchId) == b and int(e.reason) == COURT_SEAT_PAY
    ]
    assert paid_seats == []  # overturned: nobody is paid the lie's committee pay
    opened = kit.open(posted, [LIE])
    [o] = opened.events.filter(kit.coordinator.ResultsOpened)
    assert int(o.paid) == 0
    attester_pay = [
        e for e in opened.events.filter(kit.coordinator.Credited) if int(e.reason) == ATTESTER
    ]
    assert attester_pay == []  # the liar attester is paid nothing for the overturned leaf
    seat_pay = [e for e in opened.events.filter(kit.coordinator.Credited) if int(e.reason) == SEAT]
    assert [e for e in seat_pay if str(e.account) in bad] == []  # nor its seats, at the opening
    for a in bad:  # what the adversary kept: every credit minus every stake it lost
        kept = int(court.c.pendingWithdrawal(a))  # its coordinator seat credits: none (above)
        lost = stake0[a] - int(kit.s.stakes.getStaker(a).stake)
        assert kept < lost or (kept == 0 and lost == 0), f"{a} kept {kept} against {lost}"


def test_challenge_as_attester__liar_spams_a_true_leaf__bond_forfeited_nobody_slashed(
    court, workers
):
    """The adversary's attester signed a lie and challenges the true leaf on its own bond: the truth
    stands, its bond goes to the winners, no honest seat is slashed, and its lie is still slashable."""
    kit = court.kit
    liar = workers[3]
    posted = _all_seats_say(kit, court, GOOD, [(workers[0], GOOD), (liar, LIE)])
    b = posted.batch_id
    honest = {str(w.address): int(kit.s.stakes.getStaker(w).stake) for w in workers[:3]}
    bond = int(court.params.challengeBond)
    court.c.challengeAsAttester(
        b, 0, [[GOOD]], court.kit.hl(b), _proof(kit, posted, liar, LIE), value=bond, sender=liar
    )
    # The panel is drawn from the seed: should the liar hold its majority (about 3 % of draws at
    # a fifth of the stake), an honest worker takes the case to the whole set, where stake decides.
    start = kit.chain.blocks.head.number
    resolve(court, b, 0, truth=GOOD, lie=LIE, adversary={str(liar.address)}, challenger=workers[0])
    settled = [
        e
        for e in court.c.BondSettled.range(start, kit.chain.blocks.head.number + 1)
        if e.challenger == liar.address
    ]
    assert len(settled) == 1 and settled[0].forfeited
    assert bytes(court.case(b, 0).value) == GOOD
    assert {a: int(kit.s.stakes.getStaker(a).stake) for a in honest} == honest
    assert int(court.c.pendingWithdrawal(liar)) < bond  # at most a share of what it lost
