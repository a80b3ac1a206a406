"""The fast model of protocol v2 settlement: seat draws against the binomial, Sybil neutrality,
conservation of wei, and every deviating strategy paid less than honesty at the defaults."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import replace

import pytest

from peerhost.deploy import ETHER, SettlementParams
from peerhost.lab.analytic import capture, forgery_stands
from peerhost.lab.economics import captured_unwatched, deviation_gain, run, shares_population
from peerhost.lab.gateways import GATEWAY_STRATEGIES
from peerhost.lab.model import Epoch, Model, Seeds
from peerhost.lab.params import LabParams, _struct
from peerhost.lab.report import BURNED, GATEWAY
from peerhost.lab.scenario import SCENARIOS, Scenario, group, honest, scenario, split
from peerhost.lab.strategies import (
    CapturedCommittee,
    CaseView,
    Honest,
    NoShow,
    Offline,
    SeatView,
    Withholder,
)

BATCHES = 600


@pytest.mark.parametrize("seats", [3, 5, 7])
@pytest.mark.parametrize("share", [0.2, 1 / 3])
def test_capture_rate__contract_draw_on_random_seeds__matches_binomial_within_4_sigma(
    seats: int, share: float
) -> None:
    pop = shares_population(share)
    cumulative, total = [], 0
    for i in pop:
        total += i.stake
        cumulative.append(total)
    epoch = Epoch(1, [i.name for i in pop], cumulative)
    adversary = {i.name for i in pop if i.owner == "adv"}
    rng, draws, quorum = random.Random(1), 3000, seats // 2 + 1
    hits = sum(
        1
        for _ in range(draws)
        if sum(s in adversary for s in epoch.draw(rng.randbytes(32), seats)) >= quorum
    )
    p = sum(i.stake for i in pop if i.owner == "adv") / total
    expected = capture(p, seats)
    assert abs(hits / draws - expected) < 4 * (expected * (1 - expected) / draws) ** 0.5


def test_capture__closed_form__matches_the_protocol_table() -> None:
    assert [round(capture(p), 3) for p in (0.1, 0.2, 1 / 3, 0.5)] == [0.028, 0.104, 0.259, 0.5]
    assert forgery_stands(0.45, watcher=True) == 0.0
    assert forgery_stands(0.45, watcher=False) == pytest.approx(0.42525)


@pytest.mark.parametrize("identities", [2, 4])
@pytest.mark.parametrize("attesters", [0, 2])
def test_sybil_split__same_seeds__earns_exactly_what_the_unsplit_stake_earns(
    identities: int, attesters: int
) -> None:
    others = (*honest(3), group("noshow", NoShow(), [2 * ETHER])[0])
    whole = Scenario(
        (*others, *group("s", Honest(), [4 * ETHER])), batches=BATCHES, attesters=attesters
    )
    parts = whole.replace(identities=(*others, *group("s", Honest(), split(4 * ETHER, identities))))
    a = Model(whole, None, Seeds(random.Random(5))).run()
    b = Model(parts, None, Seeds(random.Random(5))).run()
    assert a.by_owner()["s"] > 0
    assert a.by_owner() == b.by_owner()
    assert a.counts == b.counts


@pytest.mark.parametrize("odd_wei", [0, 3])
def test_sybil_split__cases_reach_tier_3__earns_the_unsplit_pay_never_more(odd_wei: int) -> None:
    """Tier 3 pays ``pot * stake // W`` per voter: a split is paid what the whole stake is, less at
    most a wei per extra identity (rounding down, burned), never more; everyone else is paid alike.
    With ``odd_wei`` the stake does not divide by 4 and the rounding shows."""
    stake = 4 * ETHER + odd_wei
    adversary = group("adv", CapturedCommittee(), [2 * ETHER, 2 * ETHER])
    whole = Scenario(
        (*honest(3), *group("s", Honest(), [stake]), *adversary), batches=3000, attesters=0
    )
    parts = whole.replace(
        identities=(*honest(3), *group("s", Honest(), split(stake, 4)), *adversary)
    )
    for seed in range(10):  # the first seeds whose run reaches tier 3
        a = Model(whole, None, Seeds(random.Random(seed))).run()
        if a.counts["tier3"]:
            break
    else:
        raise AssertionError("no run reached tier 3")
    b = Model(parts, None, Seeds(random.Random(seed))).run()
    assert a.counts == b.counts
    lost = a.by_owner()["s"] - b.by_owner()["s"]  # per voter it was about -0.028 ether
    assert 0 <= lost <= (4 - 1) * a.counts["tier3"]
    if odd_wei:  # rounding goes against the split, never for it (with an even stake it may too:
        assert lost > 0  # pot * stake // W need not divide exactly)
    others = {o: v for o, v in a.by_owner().items() if o not in ("s", BURNED)}
    assert others == {o: v for o, v in b.by_owner().items() if o not in ("s", BURNED)}
    assert b.by_owner()[BURNED] - a.by_owner()[BURNED] == lost


GATEWAY_SCENARIOS = [n for n in SCENARIOS if scenario(n).gateway != "honest"]
DEVIATING = [n for n in SCENARIOS if n not in ("honest", "sybil", *GATEWAY_SCENARIOS)]


@pytest.mark.parametrize("name", GATEWAY_SCENARIOS)
def test_gateway_deviation__model_at_defaults__costs_its_bond_and_moves_no_worker_income_down(
    name: str,
) -> None:
    sc = scenario(name).replace(batches=60)
    deviating = Model(sc, None, Seeds(random.Random(1))).run()
    straight = Model(sc.replace(gateway="honest"), None, Seeds(random.Random(1))).run()
    lost = -deviating.profit.get(GATEWAY, 0)
    if sc.gateway == "timing-posts":
        assert lost == 0  # nothing to gain, nothing lost: the seed is not known at post time
    else:
        assert lost > 0
    if sc.gateway != "withholding-inputs":  # a voided ticket pays no worker (the project is
        for worker in (i.name for i in sc.identities):  # refunded): workers lose its reward
            assert deviating.profit[worker] >= straight.profit[worker]
    assert deviating.total() == straight.total() == 0


@pytest.mark.parametrize("name", DEVIATING)
def test_deviation__named_scenario_at_defaults__earns_less_than_honest(name: str) -> None:
    gains = deviation_gain(scenario(name).replace(batches=BATCHES))
    assert gains
    for owner, (deviating, honest_) in gains.items():
        assert deviating < honest_, f"{owner} in {name}: {deviating} >= {honest_}"


@pytest.mark.parametrize("name", ["lazy", "random-liar", "self-dealing"])
def test_deviation__fast_tickets_audited_at_q__still_earns_less_than_honest(name: str) -> None:
    sc = scenario(name).replace(batches=BATCHES, mode=0, leaves=4)
    for owner, (deviating, honest_) in deviation_gain(sc).items():
        assert deviating < honest_, f"{owner} in {name} (fast): {deviating} >= {honest_}"


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_run__named_scenario__moves_wei_without_creating_or_losing_any(name: str) -> None:
    r = run(scenario(name).replace(batches=200))
    assert r.counts["batches"] > 0
    assert r.total() == 0


def test_capture__no_watcher__forgeries_stand__one_watcher__none_stand() -> None:
    ids = shares_population(0.3)
    offline = tuple(
        i if i.owner == "adv" else i.__class__(i.name, i.owner, i.stake, Offline()) for i in ids
    )
    watched = run(Scenario(ids, batches=BATCHES, attesters=0))
    unwatched = run(Scenario(offline, batches=BATCHES, attesters=0, watcher_online=False))
    assert watched.counts["forged_final"] > 0
    assert watched.counts["finalized_wrong"] == 0
    assert watched.counts["overturned"] == watched.counts["forged_final"]
    assert unwatched.counts["finalized_wrong"] == unwatched.counts["forged_final"] > 0


@pytest.mark.parametrize(
    "name", [n for n in GATEWAY_STRATEGIES if n not in ("honest-gateway", "timing-posts")]
)
def test_gateway_strategy__deviation__costs_its_bond_and_moves_no_wei_out_of_thin_air(
    name: str,
) -> None:
    flows = GATEWAY_STRATEGIES[name]().batch(LabParams(), tickets=100, reward=10**15, bond=ETHER)
    assert flows["gateway"] < 0
    assert sum(flows.values()) == 0


def test_withholding_gateway__same_seeds__loses_orphan_refunds_to_the_poster() -> None:
    sc = scenario("withholding-gateway").replace(batches=50, leaves=3)
    withheld = run(sc)
    posted = run(sc.replace(gateway="honest"))
    refunds = 50 * 3 * SettlementParams().orphan_refund
    assert withheld.profit["gateway"] == posted.profit.get("gateway", 0) - refunds
    assert withheld.total() == 0


def test_withholder__owner_without_quorum__commits_but_does_not_reveal() -> None:
    view = SeatView(
        "w0", "w", 1, (b"\x01" * 32,), (True,), seats=1, owner_seats=1, committee=3, quorum=2
    )
    ballot = Withholder().ballot(view)
    assert (ballot.commit, ballot.reveal) == (True, False)
    assert Withholder().ballot(SeatView("w0", "w", 1, (b"\x01" * 32,), (True,), 1, 2, 3, 2)).reveal


def test_params__struct_of_another_length__says_what_to_regenerate() -> None:
    assert _struct(SettlementParams, SettlementParams().as_tuple()) == SettlementParams()
    with pytest.raises(ValueError, match="regenerate the ABIs"):
        _struct(SettlementParams, (1, 2, 3))


def test_import__lab_package__does_not_need_matplotlib() -> None:
    code = "import sys, peerhost.lab, peerhost.lab.figures; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


#: Adversary stake shares of the captured-committee tests (docs/economics.md, open question 1).
CAPTOR_SHARES = [0.2, 1 / 3, 0.45]


def capture_gain(share: float, crash_rate: float) -> tuple[int, int]:
    """(adversary's profit capturing, its profit playing honest) with no third-party watcher and
    no attesters, out-voted honest seats offline by the window with probability ``crash_rate``."""
    return deviation_gain(captured_unwatched(share, BATCHES, crash_rate))["adv"]


def test_honest_seat__out_voted_no_watcher__challenges_unless_crashed() -> None:
    truth, lie = b"\x01" * 32, b"\x02" * 32
    seat = CaseView("h0", "h0", 1, 0, 2, truth, lie, watcher_online=False, own=truth)
    assert Honest().challenges(seat)  # what the production worker does (accountability.py)
    assert not Offline().challenges(seat)  # the worker with ``challenges`` off
    assert not Honest().challenges(replace(seat, crash_rate=1.0))
    assert not Honest().challenges(replace(seat, own=None))  # neither sat nor attested: no view
    assert not Honest().challenges(replace(seat, own=lie))  # it said the standing value
    assert not Honest().challenges(replace(seat, standing=truth))
    assert Honest().challenges(replace(seat, own=None, watcher_online=True))  # a watcher


@pytest.mark.parametrize("share", CAPTOR_SHARES)
def test_captured_committee__no_watcher_no_attesters_out_voted_seats_challenge__earns_less_than_honest(
    share: float,
) -> None:
    r = run(captured_unwatched(share, BATCHES))
    assert r.counts["forged_final"] > 0
    assert r.counts["overturned"] > 0  # its out-voted seats challenged and the next tier won
    deviating, honest_ = capture_gain(share, 0.0)
    assert deviating < honest_, f"p = {share}: {deviating} >= {honest_}"


@pytest.mark.parametrize(
    ("share", "crash_rate", "bound"),
    [(0.2, 1.0, 0.5), (1 / 3, 1.0, 0.5), (0.45, 1.0, 0.5), (0.45, 0.9, 10)],
)
def test_captured_committee__out_voted_seats_mostly_offline__gains_within_the_known_bound(
    share: float, crash_rate: float, bound: float
) -> None:
    """The known limit (docs/economics.md, open question 1): when the honest seats a captured
    committee out-votes are offline by the window (crashed, or ``challenges`` off) and nobody else
    watches, ``punish`` slashes and jails them and the capture gains, by less than ``bound``
    milli-ether per batch (at ``crash_rate`` 1 this is the test above with the seat challenge
    disabled: it fails there)."""
    deviating, honest_ = capture_gain(share, crash_rate)
    assert 0 < deviating - honest_ < BATCHES * bound * 10**15


@pytest.mark.parametrize(("share", "crash_rate"), [(0.2, 0.95), (1 / 3, 0.95), (0.45, 0.8)])
def test_captured_committee__seats_offline_below_the_break_even__earns_less_than_honest(
    share: float, crash_rate: float
) -> None:
    """Below the break-even offline probability the capture still loses: it first pays at 1.0,
    0.99 and 0.9 at p = 0.2, 1/3, 0.45 (``bench/lab_figures.py``, seat_crash, 2,000 batches)."""
    deviating, honest_ = capture_gain(share, crash_rate)
    assert deviating < honest_, f"p = {share}, crash {crash_rate}: {deviating} >= {honest_}"


def test_crash_rate__every_seat_crashes__same_wei_as_seats_that_never_challenge() -> None:
    crashed = captured_unwatched(1 / 3, BATCHES, crash_rate=1.0)
    offline = crashed.replace(
        crash_rate=0.0,
        identities=tuple(
            i if i.owner == "adv" else i.__class__(i.name, i.owner, i.stake, Offline())
            for i in crashed.identities
        ),
    )
    a, b = run(crashed), run(offline)
    assert a.counts["forged_final"] > 0
    assert a.profit == b.profit
    assert a.counts == b.counts
