"""Batch co-signatures: what each attester signs once per batch, and ``openResults``' argument."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import keccak

from peerhost.wire.batch import (
    AttestedResult,
    attester_terms,
    batch_attestation_digest,
    cosign_digest,
    cosigners,
    decode_results,
    open_cosignatures,
    results_opening,
    sign_cosignature,
)
from peerhost.wire.feed import (
    Cosignature,
    CosignRequest,
    FeedMessageError,
    decode_message,
    encode_message,
    recover_digest,
)

COORDINATOR = "0x" + "cc" * 20
GATEWAY = "0x" + "aa" * 20
CHAIN = 31337
ROOT = keccak(b"root")
GOOD, OTHER = keccak(b"good"), keccak(b"other")
A, B = (Account.create() for _ in range(2))


def _results() -> list[AttestedResult]:
    return [
        AttestedResult(GOOD, (A.address,)),
        AttestedResult(OTHER, (B.address, A.address)),
        AttestedResult(GOOD, ()),
        AttestedResult(GOOD, (B.address,)),
    ]


def test_cosigners__opening__distinct_attesters_in_first_seen_order() -> None:
    assert cosigners(_results()) == [A.address, B.address]


def test_attester_terms__opening__mask_of_its_leaves_and_hash_of_their_results() -> None:
    assert attester_terms(_results(), A.address) == (0b0011, keccak(GOOD + OTHER))
    assert attester_terms(_results(), B.address.lower()) == (0b1010, keccak(OTHER + GOOD))
    assert attester_terms(_results(), GATEWAY) == (0, keccak(b""))


def test_sign_cosignature__attester_key__recovers_to_it_over_its_terms_only() -> None:
    sig = sign_cosignature(A.key, CHAIN, COORDINATOR, 7, GATEWAY, ROOT, _results())
    digest = cosign_digest(CHAIN, COORDINATOR, 7, GATEWAY, ROOT, _results(), A.address)
    assert recover_digest(digest, sig) == A.address
    mask, results_hash = attester_terms(_results(), A.address)
    assert digest == batch_attestation_digest(
        CHAIN, COORDINATOR, 7, GATEWAY, ROOT, mask, results_hash
    )
    # another batch, root or gateway is another digest
    for other in (
        cosign_digest(CHAIN, COORDINATOR, 8, GATEWAY, ROOT, _results(), A.address),
        cosign_digest(CHAIN, COORDINATOR, 7, COORDINATOR, ROOT, _results(), A.address),
        cosign_digest(CHAIN, COORDINATOR, 7, GATEWAY, keccak(b"x"), _results(), A.address),
        cosign_digest(CHAIN + 1, COORDINATOR, 7, GATEWAY, ROOT, _results(), A.address),
    ):
        assert recover_digest(other, sig) != A.address


def test_open_cosignatures__some_attesters_signed__65_bytes_each_zero_for_the_missing() -> None:
    sig = sign_cosignature(B.key, CHAIN, COORDINATOR, 7, GATEWAY, ROOT, _results())
    out = open_cosignatures(_results(), {B.address.lower(): sig})
    assert out == bytes(65) + sig


def test_open_cosignatures__malformed_signature__raises() -> None:
    with pytest.raises(ValueError, match="65 bytes"):
        open_cosignatures(_results(), {A.address: bytes(64)})


def test_cosign_messages__round_trip__same_fields() -> None:
    request = CosignRequest(7, ROOT, b"\x01" * 103, 0b101, (GOOD, OTHER))
    assert decode_message(encode_message(request)) == request
    reply = Cosignature(7, b"\x02" * 65)
    assert decode_message(encode_message(reply)) == reply


def test_cosign_request__results_do_not_match_mask__refused() -> None:
    doc = CosignRequest(7, ROOT, b"\x01" * 103, 0b111, (GOOD, OTHER)).to_doc()
    with pytest.raises(FeedMessageError, match="one hash per bit"):
        decode_message(str(doc).replace("'", '"'))


def test_results_opening__attesters_listed_once__indexes_per_leaf_and_round_trip() -> None:
    opening = results_opening(_results())
    listed = bytes([2]) + bytes.fromhex(A.address[2:]) + bytes.fromhex(B.address[2:])
    entries = GOOD + b"\x01\x00" + OTHER + b"\x02\x01\x00" + GOOD + b"\x00" + GOOD + b"\x01\x01"
    assert opening == listed + entries
    assert decode_results(opening) == _results()
    assert decode_results(b"") == []


@pytest.mark.parametrize(
    "opening",
    [
        b"\x02" + b"\x11" * 20,  # two listed, one present
        b"\x01" + b"\x11" * 20 + GOOD + b"\x01\x01",  # index past the list
        b"\x01" + b"\x11" * 20 + GOOD + b"\x02\x00",  # two announced, one present
        b"\x01" + b"\x11" * 20 + GOOD[:10],  # entry cut short
    ],
)
def test_decode_results__malformed_opening__value_error(opening: bytes) -> None:
    with pytest.raises(ValueError, match="opening"):
        decode_results(opening)


def test_results_opening__five_attesters_on_a_leaf__value_error() -> None:
    with pytest.raises(ValueError, match="At most 4"):
        results_opening([AttestedResult(GOOD, (A.address,) * 5)])
