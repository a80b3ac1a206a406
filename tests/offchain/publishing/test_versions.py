"""Versions on the real registry: list, roll back, disable and enable, each saying what it did."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ape.api import AccountAPI
from ape.contracts import ContractInstance

from peerhost.publishing.errors import RegistryRefused
from peerhost.publishing.versions import UnknownVersion, VersionManager, list_versions
from peerhost.storage import cid_to_bytes, compute_cid

GATEWAY = "http://127.0.0.1:9999"


@pytest.fixture
def three_versions(publish: Callable[..., bytes]) -> bytes:
    fid = b""
    for n in range(3):
        fid = publish(
            "api", "shop", code_cid=cid_to_bytes(compute_cid(f"v{n}".encode())), fuel=1000 + n
        )
    publish("other", "shop")
    return fid


def test_list_versions__project__every_version_and_the_active_one(
    registry: ContractInstance, developer: AccountAPI, three_versions: bytes
) -> None:
    rows = list_versions(registry, developer.address, "shop")
    assert [(r.function, r.version, r.active) for r in rows] == [
        ("api", 1, False),
        ("api", 2, False),
        ("api", 3, True),
        ("other", 1, True),
    ]
    assert rows[0].cid == compute_cid(b"v0") and rows[0].fuel == 1000


def test_rollback__default__previous_version_active_and_url_printed(
    registry: ContractInstance, developer: AccountAPI, three_versions: bytes
) -> None:
    line = VersionManager(registry, developer, GATEWAY).rollback("shop", "api")
    assert "3 -> 2" in line and f"{GATEWAY}/{developer.address}/shop/api" in line
    assert registry.getFunction(three_versions).activeVersion == 2
    VersionManager(registry, developer, GATEWAY).rollback("shop", "api", to=1)
    assert registry.getFunction(three_versions).activeVersion == 1


def test_rollback__no_such_version__refused_naming_the_range(
    registry: ContractInstance, developer: AccountAPI, three_versions: bytes
) -> None:
    with pytest.raises(UnknownVersion, match="versions 1..3"):
        VersionManager(registry, developer, GATEWAY).rollback("shop", "api", to=7)


def test_rollback__not_the_owner__registry_refuses(
    registry: ContractInstance,
    developer: AccountAPI,
    accounts: list[AccountAPI],
    three_versions: bytes,
) -> None:
    manager = VersionManager(registry, accounts[5], GATEWAY)
    manager.owner  # noqa: B018 - the stranger acts on their own namespace, which is empty
    with pytest.raises(UnknownVersion):
        manager.rollback("shop", "api")
    fid = three_versions
    with pytest.raises(RegistryRefused):
        manager._send("shop/api", registry.setActiveVersion, fid, 1)
    assert registry.getFunction(fid).activeVersion == 3


def test_disable_enable__flag_moves_and_lines_say_so(
    registry: ContractInstance, developer: AccountAPI, three_versions: bytes
) -> None:
    manager = VersionManager(registry, developer, GATEWAY)
    assert "disabled" in manager.set_disabled("shop", "api", True)
    assert registry.getFunction(three_versions).disabled
    assert "already disabled" in manager.set_disabled("shop", "api", True)
    assert "enabled" in manager.set_disabled("shop", "api", False)
    assert not registry.getFunction(three_versions).disabled
