"""One Params struct, validated by every v2 constructor; every contract under EIP-170."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from peerhost.deploy import SettlementParams

EIP170 = 24_576
CONTRACTS = [
    "FunctionRegistry",
    "WorkerRegistry",
    "ExecutionCoordinator",
    "StakeRegistry",
    "GatewayRegistry",
    "HeaderBeacon",
    "TicketVerifier",
    "SettlementCoordinator",
    "SettlementFinalizer",
]

BAD = {
    "seats 0": {"seats": 0},
    "seats 17": {"seats": 17, "quorum": 9},
    "quorum not a majority": {"quorum": 1},
    "quorum above seats": {"quorum": 4},
    "beacon delay 0": {"beacon_delay": 0},
    "max leaves 0": {"max_leaves": 0},
    "max leaves 257": {"max_leaves": 257},
    "max active 0": {"max_active": 0},
    "max active 257": {"max_active": 257},
    "audit above 100%": {"audit_bps": 10_001},
    "shares above 100%": {"committee_bps": 9000, "speed_bps": 1000, "finalizer_bps": 1},
    "slash shares above 100%": {"honest_slash_bps": 8000, "project_slash_bps": 2001},
    "epoch 0": {"epoch_length": 0},
    "seat window 0": {"seat_window": 0},
    "commit window 0": {"commit_window": 0},
    "reveal window 0": {"reveal_window": 0},
    "open window 0": {"open_window": 0},
    "ticket life 0": {"max_ticket_life": 0},
    "reserve lock too short": {"reserve_lock": 3600 + 1440},
    "unbonding too short": {"unbonding_delay": 1440},
    "min stake 0": {"min_stake": 0, "seat_slash": 0},
    "seat slash above min stake": {"seat_slash": 2 * 10**18},
    "min reward 0": {"min_reward": 0},
    "orphan refund above bond": {"orphan_refund": 2 * 10**18},
    "orphan delay not below ticket life": {"orphan_delay": 3600},
}


@pytest.mark.parametrize("name", ["StakeRegistry", "GatewayRegistry"])
@pytest.mark.parametrize("change", list(BAD.values()), ids=list(BAD))
def test_constructor__invalid_params__reverts_invalid_params(
    project, owner, reverts_with, name, change
):
    bad = dataclasses.replace(SettlementParams(), **change).as_tuple()
    contract = getattr(project, name)
    with reverts_with(contract.InvalidParams):
        contract.deploy(bad, sender=owner)


def test_coordinator_constructor__invalid_params__reverts(project, owner, settlement, reverts_with):
    bad = dataclasses.replace(SettlementParams(), quorum=1).as_tuple()
    s = settlement
    with reverts_with(project.SettlementCoordinator.InvalidParams):
        project.SettlementCoordinator.deploy(
            bad, s.registry, s.stakes, s.gateways, s.beacon, s.tickets, sender=owner
        )


def test_params__deployed__read_back_in_struct_order(settlement, settlement_params):
    expected = settlement_params.as_tuple()
    for contract in (settlement.stakes, settlement.gateways, settlement.coordinator):
        assert tuple(contract.params()) == expected


def test_contracts__wired__name_each_other(settlement):
    s = settlement
    assert tuple(s.coordinator.contracts()) == (
        s.registry.address,
        s.stakes.address,
        s.gateways.address,
        s.beacon.address,
        s.tickets.address,
    )
    assert s.stakes.coordinator() == s.coordinator.address
    assert s.gateways.coordinator() == s.coordinator.address


def test_set_coordinator__twice_or_stranger__reverts(settlement, owner, stranger, reverts_with):
    for registry in (settlement.stakes, settlement.gateways):
        with reverts_with(registry.CoordinatorAlreadySet):
            registry.setCoordinator(stranger, sender=owner)
        with reverts_with(registry.CoordinatorAlreadySet):
            registry.setCoordinator(stranger, sender=stranger)


@pytest.mark.parametrize("name", CONTRACTS)
def test_deployed_code__every_contract__fits_eip170(project, name, settlement):
    build = json.loads((Path(project.path) / ".build" / "__local__.json").read_text())
    runtime = build["contractTypes"][name]["runtimeBytecode"]["bytecode"]
    size = (len(runtime) - 2) // 2
    assert 0 < size < EIP170, f"{name} is {size} bytes (limit {EIP170})"


def test_ensure_settlement__twice__deploys_once_and_records_beside_v1(
    project, owner, deployment, tmp_path
):
    from peerhost.deploy import ensure_settlement, record_deployment

    path = tmp_path / "deployments.json"
    record_deployment(deployment, path)
    first, existed = ensure_settlement(project, owner, deployment, path=path)
    again, existed_again = ensure_settlement(project, owner, deployment, path=path)
    assert (existed, existed_again) == (False, True)
    assert again.addresses == first.addresses
    entry = json.loads(path.read_text())[deployment.key]
    assert (
        entry["settlement"] == first.addresses
        and entry["coordinator"] == deployment.coordinator.address
    )
