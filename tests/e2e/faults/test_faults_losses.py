"""The scenarios' stake check: a worker killed and left down loses exactly the protocol's no-show
penalties (the coordinator's seat no-shows and the DisputeCourt's tier no-shows of the panels and
votes it missed), every wei also counted by the stake registry; a live worker loses nothing. A
pure function of the chain's figures; no stack."""

from __future__ import annotations

import pytest
from fault_scenarios import SEAT_NO_SHOW, TIER_NO_SHOW, ScenarioFailed, check_losses

DEAD, LIVE = (
    "0xDead000000000000000000000000000000000001",
    "0xA11ce00000000000000000000000000000000002",
)
ETH = 10**18


def _stakes(dead: int, live: int = 2 * ETH) -> dict[str, int]:
    return {DEAD: dead, LIVE: live}


def test_check_losses__dead_worker_lost_seat_and_tier_no_shows__accepted_and_itemized() -> None:
    # worker-killed-commit-down seed 1: 0.2 ETH of seat no-shows, the rest tier no-shows
    items = {
        DEAD.lower(): {
            SEAT_NO_SHOW: ETH // 5,
            TIER_NO_SHOW: 17 * ETH // 10,
            "stake": 19 * ETH // 10,
        }
    }
    lost = check_losses(_stakes(2 * ETH), _stakes(ETH // 10), items, dead={DEAD})
    assert lost == {DEAD: 19 * ETH // 10}


def test_check_losses__dead_worker_slashed_for_a_wrong_tier_vote__fails() -> None:
    items = {
        DEAD.lower(): {SEAT_NO_SHOW: ETH // 5, "tier wrong": ETH // 10, "stake": 3 * ETH // 10}
    }
    with pytest.raises(ScenarioFailed, match="not exactly its no-show penalties"):
        check_losses(_stakes(2 * ETH), _stakes(17 * ETH // 10), items, dead={DEAD})


def test_check_losses__dead_worker_lost_more_than_its_no_shows__fails() -> None:
    # a slash no coordinator or court event explains (the stake registry counted it)
    items = {DEAD.lower(): {SEAT_NO_SHOW: ETH // 5, "stake": ETH}}
    with pytest.raises(ScenarioFailed, match="killed"):
        check_losses(_stakes(2 * ETH), _stakes(ETH), items, dead={DEAD})


def test_check_losses__live_worker_slashed_as_tier_no_show__fails() -> None:
    items = {LIVE.lower(): {TIER_NO_SHOW: ETH // 20, "stake": ETH // 20}}
    with pytest.raises(ScenarioFailed, match="honest worker"):
        check_losses(_stakes(2 * ETH), _stakes(2 * ETH, 2 * ETH - ETH // 20), items, dead={DEAD})


def test_check_losses__live_worker_with_no_stake_left_slashed_as_tier_no_show__fails() -> None:
    # its stake drained by earlier runs: the court's event says no-show, of 0 wei
    items = {LIVE.lower(): {TIER_NO_SHOW: 0, "stake": 0}}
    with pytest.raises(ScenarioFailed, match="honest worker .* lost 0 wei .*tier no-show"):
        check_losses(_stakes(2 * ETH, 0), _stakes(2 * ETH, 0), items, dead={DEAD})


def test_check_losses__dead_worker_with_no_stake_left__its_no_shows_of_nothing_accepted() -> None:
    items = {DEAD.lower(): {SEAT_NO_SHOW: 0, TIER_NO_SHOW: 0, "stake": 0}}
    assert check_losses(_stakes(0), _stakes(0), items, dead={DEAD}) == {}


def test_check_losses__nobody_slashed__nothing_lost() -> None:
    assert check_losses(_stakes(2 * ETH), _stakes(2 * ETH), {}, dead={DEAD}) == {}


def test_check_losses__live_worker_slashed_in_an_earlier_runs_batch__reason_names_the_batch() -> (
    None
):
    # campaign on 2aa9f90, worker-killed-commit-down seed 1146: run 1's batch 228 settled in run 2
    items = {LIVE.lower(): {SEAT_NO_SHOW: ETH // 10, "stake": ETH // 10}}
    with pytest.raises(
        ScenarioFailed, match=r"from batch 228 \(every slash in the blocks after block 14000"
    ):
        check_losses(
            _stakes(2 * ETH),
            _stakes(2 * ETH, 2 * ETH - ETH // 10),
            items,
            dead={DEAD},
            batches={LIVE.lower(): {228}},
            since=14000,
        )


def test_check_losses__two_live_workers_slashed__the_reason_names_both() -> None:
    # worker-killed-attest-restarted seed 3924: worker-3's tier no-shows went unnamed beside
    # worker-2's
    other = "0xB0b0000000000000000000000000000000000003"
    items = {
        LIVE.lower(): {TIER_NO_SHOW: ETH // 20, "stake": ETH // 20},
        other.lower(): {TIER_NO_SHOW: ETH // 4, "stake": ETH // 4},
    }
    before = {**_stakes(2 * ETH), other: 2 * ETH}
    after = {**_stakes(2 * ETH, 2 * ETH - ETH // 20), other: 2 * ETH - ETH // 4}
    with pytest.raises(ScenarioFailed) as failed:
        check_losses(before, after, items, dead={DEAD})
    assert str(failed.value) == (
        f"honest worker {LIVE} lost {ETH // 20} wei of stake (slashes: {{'{TIER_NO_SHOW}': "
        f"{ETH // 20}}}); honest worker {other} lost {ETH // 4} wei of stake (slashes: "
        f"{{'{TIER_NO_SHOW}': {ETH // 4}}})"
    )


def test_check_losses__a_live_worker_slashed_and_the_dead_ones_figures_wrong__both_named() -> None:
    items = {
        LIVE.lower(): {TIER_NO_SHOW: ETH // 20, "stake": ETH // 20},
        DEAD.lower(): {SEAT_NO_SHOW: ETH // 5, "tier wrong": ETH // 10, "stake": 3 * ETH // 10},
    }
    # the dead worker first in the stakes' order: its failure does not hide the honest loss
    before = {DEAD: 2 * ETH, LIVE: 2 * ETH}
    after = {DEAD: 17 * ETH // 10, LIVE: 2 * ETH - ETH // 20}
    with pytest.raises(ScenarioFailed) as failed:
        check_losses(before, after, items, dead={DEAD})
    honest, killed = str(failed.value).split("; ", 1)
    assert honest.startswith(f"honest worker {LIVE} lost {ETH // 20} wei of stake")
    assert killed.startswith(f"{DEAD} (killed) lost {3 * ETH // 10} wei")
    assert killed.endswith("not exactly its no-show penalties")
