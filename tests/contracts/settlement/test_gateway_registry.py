"""GatewayRegistry: bonds and reserves with time-locked withdrawals, authorizations judged at issuedAt,
coordinator-only draws, refunds and charges."""

from __future__ import annotations

import pytest

from peerhost.deploy import ETHER

from .conftest import PROJECT


@pytest.fixture
def gateways(settlement):
    return settlement.gateways


def test_bond__withdrawal__waits_for_reserve_lock(gateways, gateway, chain, kit, reverts_with):
    with reverts_with(gateways.InvalidAmount):
        gateways.bond(value=0, sender=gateway)
    gateways.bond(value=2 * ETHER, sender=gateway)
    with reverts_with(gateways.InvalidAmount):
        gateways.requestBondWithdrawal(3 * ETHER, sender=gateway)
    gateways.requestBondWithdrawal(ETHER, sender=gateway)
    b = gateways.bondOf(gateway)
    assert (b.amount, b.leaving) == (ETHER, ETHER)
    with reverts_with(gateways.NotReady):
        gateways.withdrawBond(sender=gateway)
    chain.mine(deltatime=kit.params.reserve_lock)
    before = gateway.balance
    tx = gateways.withdrawBond(sender=gateway)
    assert gateway.balance == before + ETHER - tx.total_fees_paid
    with reverts_with(gateways.InvalidAmount):
        gateways.withdrawBond(sender=gateway)


def test_reserve__owner_withdrawal__time_locked(
    gateways, developer, stranger, chain, kit, registry, reverts_with
):
    pid = registry.projectIdOf(developer, PROJECT)
    assert gateways.projectIdOf(developer, PROJECT) == pid
    with reverts_with(gateways.InvalidAmount):
        gateways.fundReserve(pid, value=0, sender=stranger)
    gateways.fundReserve(pid, value=3 * ETHER, sender=stranger)  # anyone may fund
    with reverts_with(gateways.InvalidProjectName):
        gateways.requestReserveWithdrawal("Bad Name", ETHER, sender=developer)
    with reverts_with(gateways.InvalidAmount):
        gateways.requestReserveWithdrawal(
            PROJECT, ETHER, sender=stranger
        )  # stranger's own (empty) project
    gateways.requestReserveWithdrawal(PROJECT, ETHER, sender=developer)
    assert tuple(gateways.reserveOf(pid))[:2] == (2 * ETHER, ETHER)
    with reverts_with(gateways.NotReady):
        gateways.withdrawReserve(PROJECT, sender=developer)
    chain.mine(deltatime=kit.params.reserve_lock)
    gateways.withdrawReserve(PROJECT, sender=developer)
    assert tuple(gateways.reserveOf(pid))[:2] == (2 * ETHER, 0)
    with reverts_with(gateways.InvalidAmount):
        gateways.withdrawReserve(PROJECT, sender=developer)


def test_authorization__judged_at_issued_at__window_from_until(
    gateways, developer, gateway, registry, chain
):
    pid = registry.projectIdOf(developer, PROJECT)
    t0 = chain.pending_timestamp
    gateways.setGatewayAuthorization(PROJECT, gateway, True, sender=developer)
    a = gateways.authorizationOf(pid, gateway)
    assert a.validFrom >= t0 - 1 and a.validUntil == 2**40 - 1
    chain.mine(deltatime=10)
    gateways.setGatewayAuthorization(
        PROJECT, gateway, True, sender=developer
    )  # still live: keeps its start
    assert gateways.authorizationOf(pid, gateway).validFrom == a.validFrom
    gateways.setGatewayAuthorization(PROJECT, gateway, False, sender=developer)
    end = gateways.authorizationOf(pid, gateway).validUntil
    assert gateways.isAuthorizedAt(pid, gateway, end - 1)
    assert not gateways.isAuthorizedAt(pid, gateway, end)
    assert not gateways.isAuthorizedAt(pid, gateway, a.validFrom - 1)


def test_coordinator_only__draw_refund_charge__revert_for_others(gateways, stranger, reverts_with):
    with reverts_with(gateways.NotCoordinator):
        gateways.draw(b"\x01" * 32, stranger, 1, 0, 0, True, sender=stranger)
    with reverts_with(gateways.NotCoordinator):
        gateways.refund(b"\x01" * 32, value=1, sender=stranger)
    with reverts_with(gateways.NotCoordinator):
        gateways.chargeBond(stranger, 1, sender=stranger)


def test_set_endpoint__bonded_gateway__stored_and_announced(gateways, gateway, kit):
    gateways.bond(value=kit.params.min_gateway_bond, sender=gateway)
    tx = gateways.setEndpoint("https://gw.example.org:8443", sender=gateway)
    assert gateways.endpointOf(gateway) == "https://gw.example.org:8443"
    [event] = tx.events
    assert (event.event_name, event.gateway, event.url) == (
        "GatewayEndpoint",
        gateway.address,
        "https://gw.example.org:8443",
    )
    gateways.setEndpoint("", sender=gateway)  # withdrawn
    assert gateways.endpointOf(gateway) == ""


def test_set_endpoint__unbonded_caller__reverts_bond_too_low(gateways, stranger, reverts_with):
    with reverts_with(gateways.BondTooLow):
        gateways.setEndpoint("http://evil.example", sender=stranger)
    assert gateways.endpointOf(stranger) == ""


def test_set_endpoint__bond_below_minimum__reverts_bond_too_low(
    gateways, gateway, kit, reverts_with
):
    gateways.bond(value=kit.params.min_gateway_bond - 1, sender=gateway)
    with reverts_with(gateways.BondTooLow):
        gateways.setEndpoint("http://gw.example", sender=gateway)


def test_set_endpoint__oversized_url__reverts_endpoint_too_long(
    gateways, gateway, kit, reverts_with
):
    gateways.bond(value=kit.params.min_gateway_bond, sender=gateway)
    cap = gateways.MAX_ENDPOINT_BYTES()
    url = "http://gw.example/" + "a" * (cap - len("http://gw.example/"))
    gateways.setEndpoint(url, sender=gateway)  # exactly at the cap: accepted
    with reverts_with(gateways.EndpointTooLong):
        gateways.setEndpoint(url + "a", sender=gateway)
    assert gateways.endpointOf(gateway) == url
