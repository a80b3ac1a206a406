"""EIP-712 result signatures: a signer is recovered exactly, and any change breaks it."""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from peerhost.wire import recover_signer, sign_result
from peerhost.wire.ticket import TICKET_FIELDS, TICKET_TYPEHASH, Ticket, request_id, ticket_hash

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
COORDINATOR = "0x" + "ab" * 20
REQUEST = b"\x01" * 32
RESULT = b"\x02" * 32


def test_recover_signer__round_trip__returns_signer() -> None:
    sig = sign_result(KEY, 31337, COORDINATOR, REQUEST, RESULT)
    assert len(sig) == 65
    assert recover_signer(sig, 31337, COORDINATOR, REQUEST, RESULT) == Account.from_key(KEY).address


@pytest.mark.parametrize("v", [0x3B, 0x23, 0x24, 0x25, 2, 26, 29, 0xFF])
def test_recover_signer__v_outside_27_28__refused(v: int) -> None:
    # eth_account reads v >= 35 as an EIP-155 transaction v: 0x3b (one hex digit of 0x1b
    # changed) recovered the same signer, so an altered signature still verified
    sig = sign_result(KEY, 31337, COORDINATOR, REQUEST, RESULT)
    with pytest.raises(ValueError, match="v = 27 or 28"):
        recover_signer(sig[:64] + bytes([v]), 31337, COORDINATOR, REQUEST, RESULT)


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


# The hot path packs the static ABI words by hand: the bytes must be eth_abi's, for any values.
_U = st.integers


@settings(max_examples=200, deadline=None)
@given(
    seq=_U(0, 2**64 - 1),
    version=_U(0, 2**32 - 1),
    reward=_U(0, 2**96 - 1),
    issued_at=_U(0, 2**40 - 1),
    mode=_U(0, 255),
    total=_U(0, 2**256 - 1),
    words=st.lists(st.binary(min_size=0, max_size=32), min_size=3, max_size=3),
    gateway=st.binary(min_size=20, max_size=20),
)
def test_ticket_hash__hand_packed__equals_abi_encode(
    seq: int,
    version: int,
    reward: int,
    issued_at: int,
    mode: int,
    total: int,
    words: list[bytes],
    gateway: bytes,
) -> None:
    ticket = Ticket(
        gateway="0x" + gateway.hex(),
        seq=seq,
        function_id=words[0],
        version=version,
        input_hash=words[1],
        reward=reward,
        issued_at=issued_at,
        deadline=issued_at,
        mode=mode,
        secrets_version=version,
        engine_profile=words[2],
        issued_total=total,
    )
    types = ["bytes32"] + [t for _, t in TICKET_FIELDS]
    assert ticket_hash(ticket) == keccak(abi_encode(types, [TICKET_TYPEHASH, *ticket.as_tuple()]))
    coordinator = "0x" + gateway[::-1].hex()
    assert request_id(31337, coordinator, ticket.gateway, seq) == keccak(
        abi_encode(
            ["uint256", "address", "address", "uint256"],
            [31337, to_checksum_address(coordinator), to_checksum_address(ticket.gateway), seq],
        )
    )


def test_ticket_hash__value_out_of_range__raises_value_error() -> None:
    ticket = Ticket(
        gateway="0x" + "11" * 20,
        seq=2**64,
        function_id=bytes(32),
        version=1,
        input_hash=bytes(32),
        reward=1,
        issued_at=1,
        deadline=2,
    )
    with pytest.raises(ValueError, match="uint64"):
        ticket_hash(ticket)
