"""A schedule key sealed to named holders: each opens its own copy; anyone else, another chain, a
tampered file, never; the key never shows in an error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from eth_account import Account
from nacl.public import PrivateKey

from peerhost.secrets.schedule_key import (
    ScheduleKeyFile,
    ScheduleKeyUnusable,
    open_schedule_key,
    seal_schedule_key,
)

OWNER = Account.from_key(bytes.fromhex("22" * 32))
SCHEDULE_KEY = bytes.fromhex("33" * 32)
REGISTRY = "0x" + "44" * 20
NOW = 1_800_000_000


def _holder(n: int) -> tuple[str, PrivateKey]:
    return Account.from_key(bytes([n]) * 32).address, PrivateKey.generate()


def _sealed(holders: list[tuple[str, PrivateKey]]) -> ScheduleKeyFile:
    return seal_schedule_key(
        SCHEDULE_KEY,
        [(address, bytes(key.public_key)) for address, key in holders],
        OWNER.key,
        owner=OWNER.address,
        project="shop",
        chain_id=31337,
        registry=REGISTRY,
        functions=["tick"],
        ticket_life=600,
        gateway_url="http://127.0.0.1:8080",
        expiry=NOW + 3600,
        now=NOW,
    )


def _open(file: ScheduleKeyFile, holder: tuple[str, PrivateKey], chain_id: int = 31337) -> bytes:
    return open_schedule_key(
        file, holder=holder[0], holder_key=holder[1], chain_id=chain_id, registry=REGISTRY, now=NOW
    )


def test_open_schedule_key__named_holders__each_gets_the_key(tmp_path: Path) -> None:
    a, b = _holder(5), _holder(6)
    file = _sealed([a, b])
    file.save(tmp_path / "k.json")
    again = ScheduleKeyFile.load(tmp_path / "k.json")
    assert again == file
    assert _open(again, a) == SCHEDULE_KEY and _open(again, b) == SCHEDULE_KEY
    assert SCHEDULE_KEY.hex() not in (tmp_path / "k.json").read_text()
    assert again.address == Account.from_key(SCHEDULE_KEY).address.lower()


@pytest.mark.parametrize("case", ["not-named", "other-chain", "other-address", "tampered"])
def test_open_schedule_key__not_for_this_holder__unusable_without_the_key(case: str) -> None:
    a, stranger = _holder(5), _holder(7)
    file = _sealed([a])
    holder, chain_id = a, 31337
    if case == "not-named":
        holder = stranger
    elif case == "other-chain":
        chain_id = 1
    elif case == "other-address":  # a file claiming another key's address
        file = dataclasses.replace(file, address="0x" + "55" * 20)
    else:  # the owner's signature no longer covers the bundle
        file = dataclasses.replace(file, bundle=file.bundle.replace(b'"shop"', b'"shoq"'))
    with pytest.raises(ScheduleKeyUnusable) as raised:
        _open(file, holder, chain_id)
    assert SCHEDULE_KEY.hex() not in str(raised.value)
