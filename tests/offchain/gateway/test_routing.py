from __future__ import annotations

import pytest
from eth_utils import to_checksum_address

from peerhost.gateway.errors import NoRoute
from peerhost.gateway.routing import Router

WALLET = "0x" + "ab" * 20
CHECKSUMMED = to_checksum_address(WALLET)


@pytest.fixture
def router() -> Router:
    return Router("peerhost.test")


def test_match__host_style__names_wallet_project_function(router: Router) -> None:
    target = router.match(f"{WALLET}.peerhost.test", "/shop/orders-create")
    assert (target.wallet.lower(), target.project, target.function) == (
        WALLET,
        "shop",
        "orders-create",
    )
    assert target.subpath == "/"


def test_match__host_with_port_and_upper_case__matches(router: Router) -> None:
    target = router.match(f"{WALLET.upper().replace('0X', '0x')}.PeerHost.Test:8080", "/shop/fn")
    assert target.wallet.lower() == WALLET


def test_match__path_style__same_target_as_host_style(router: Router) -> None:
    by_host = router.match(f"{WALLET}.peerhost.test", "/shop/fn/a/b")
    by_path = router.match("127.0.0.1:8080", f"/{WALLET}/shop/fn/a/b")
    assert by_host == by_path
    assert by_path.subpath == "/a/b"


def test_match__wallet_is_checksummed(router: Router) -> None:
    assert router.match("localhost", f"/{WALLET}/shop/fn").wallet == CHECKSUMMED


@pytest.mark.parametrize(
    "host",
    [
        f"x{WALLET}.peerhost.test",  # junk before
        f"{WALLET}.evil.test",  # other domain
        f"{WALLET}.peerhost.test.evil.test",  # suffix attack
        f"{WALLET[:-1]}.peerhost.test",  # 39 hex
        f"sub.{WALLET}.peerhost.test",
    ],
)
def test_match__host_not_matching__no_route_without_path_style(router: Router, host: str) -> None:
    with pytest.raises(NoRoute):
        router.match(host, "/shop/fn")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/shop",
        f"/{WALLET}/shop",
        "/Shop/fn",
        "/shop/f n",
        f"/{WALLET}/a_b/fn",
        "/" + "p" * 33 + "/fn",
    ],
)
def test_match__bad_path__no_route(router: Router, path: str) -> None:
    with pytest.raises(NoRoute):
        router.match("localhost", path)


def test_match__host_style_with_wallet_in_path__no_route(router: Router) -> None:
    with pytest.raises(NoRoute):
        router.match(f"{WALLET}.peerhost.test", f"/{WALLET}/shop/fn")
