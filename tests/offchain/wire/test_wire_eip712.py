"""EIP-712 result signatures: a signer is recovered exactly, and any change breaks it."""

from __future__ import annotations

import pytest
from eth_account import Account

from peerhost.wire import recover_signer, sign_result

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
COORDINATOR = "0x" + "ab" * 20
REQUEST = b"\x01" * 32
RESULT = b"\x02" * 32


def test_recover_signer__round_trip__returns_signer() -> None:
    sig = sign_result(KEY, 31337, COORDINATOR, REQUEST, RESULT)
    assert len(sig) == 65
    assert recover_signer(sig, 31337, COORDINATOR, REQUEST, RESULT) == Account.from_key(KEY).address


@pytest.mark.parametrize(
    "chain_id, coordinator, request_, result",
    [
        (1, COORDINATOR, REQUEST, RESULT),
        (31337, "0x" + "cd" * 20, REQUEST, RESULT),
        (31337, COORDINATOR, b"\x03" * 32, RESULT),
        (31337, COORDINATOR, REQUEST, b"\x04" * 32),
    ],
)
def test_recover_signer__other_message__other_address(
    chain_id: int, coordinator: str, request_: bytes, result: bytes
) -> None:
    sig = sign_result(KEY, 31337, COORDINATOR, REQUEST, RESULT)
    assert (
        recover_signer(sig, chain_id, coordinator, request_, result)
        != Account.from_key(KEY).address
    )


def test_recover_signer__garbage__raises_value_error() -> None:
    with pytest.raises(ValueError, match="invalid result signature"):
        recover_signer(b"\x00" * 10, 31337, COORDINATOR, REQUEST, RESULT)
