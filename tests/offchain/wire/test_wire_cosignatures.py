"""Batch co-signatures: what each attester signs once per batch, and ``openResults``' argument."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import keccak

from peerhost.wire.batch import (
    ABSTAIN,
    AttestedResult,
    attester_part,
    attester_terms,
    batch_attestation_digest,
    compact_opening,
    cosign_digest,
    cosigners,
    decode_results,
    open_args,
    open_cosignatures,
    results_commitment,
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


def test_attester_terms__opening__mask_of_its_leaves_and_the_batch_results_hash() -> None:
    every = keccak(GOOD + OTHER + GOOD + GOOD)  # every leaf's, its own and the others'
    assert attester_terms(_results(), A.address) == (0b0011, every)
    assert attester_terms(_results(), B.address.lower()) == (0b1010, every)
    assert attester_terms(_results(), GATEWAY) == (0, every)


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
    request = CosignRequest(7, ROOT, b"\x01" * 103, 0b101, (GOOD, OTHER, GOOD))
    assert decode_message(encode_message(request)) == request
    reply = Cosignature(7, b"\x02" * 65)
    assert decode_message(encode_message(reply)) == reply


def test_cosign_request__mask_past_the_results__refused() -> None:
    doc = CosignRequest(7, ROOT, b"\x01" * 103, 0b111, (GOOD, OTHER)).to_doc()
    with pytest.raises(FeedMessageError, match="one hash per leaf"):
        decode_message(str(doc).replace("'", '"'))


def test_results_opening__attesters_listed_once__indexes_per_leaf_then_results_round_trip() -> None:
    opening = results_opening(_results())
    listed = bytes([2]) + bytes.fromhex(A.address[2:]) + bytes.fromhex(B.address[2:])
    entries = b"\x01\x00" + b"\x02\x01\x00" + b"\x00" + b"\x01\x01"
    assert opening == b"\x01" + listed + entries + GOOD + OTHER + GOOD + GOOD
    assert attester_part(_results()) == listed + entries
    assert decode_results(opening) == _results()
    assert decode_results(b"") == []
    compact = compact_opening(_results())
    assert compact == b"\x00" + listed + entries
    assert decode_results(compact, [r.result_hash for r in _results()]) == _results()
    with pytest.raises(ValueError, match="final vector"):
        decode_results(compact)


def test_results_commitment__salted_hash_of_results_hash_and_attester_part() -> None:
    salt = b"\x07" * 32
    every = keccak(GOOD + OTHER + GOOD + GOOD)
    assert results_commitment(_results(), salt) == keccak(salt + every + attester_part(_results()))
    assert results_commitment(_results(), b"\x08" * 32) != results_commitment(_results(), salt)


def test_open_args__results_equal_final_vector__compact_without_vector_else_full_with_it() -> None:
    results = [AttestedResult(GOOD, (A.address,)), AttestedResult(OTHER, (B.address,))]
    assert open_args(results, [GOOD, OTHER]) == (compact_opening(results), [])
    # a leaf not Final (ABSTAIN in the vector) or overturned: the results are sent
    for vector in ([GOOD, ABSTAIN], [GOOD, GOOD]):
        assert open_args(results, vector) == (results_opening(results), vector)


@pytest.mark.parametrize(
    "opening",
    [
        b"\x01\x02" + b"\x11" * 20,  # two listed, one present
        b"\x01\x01" + b"\x11" * 20 + b"\x01\x01" + GOOD,  # index past the list
        b"\x01\x01" + b"\x11" * 20 + b"\x02\x00" + GOOD,  # two announced, one present
        b"\x01\x01" + b"\x11" * 20 + b"\x01\x00" + GOOD[:10],  # results cut short
        b"\x02\x01" + b"\x11" * 20 + b"\x01\x00",  # an unknown form
    ],
)
def test_decode_results__malformed_opening__value_error(opening: bytes) -> None:
    with pytest.raises(ValueError, match="opening"):
        decode_results(opening)


def test_results_opening__five_attesters_on_a_leaf__value_error() -> None:
    with pytest.raises(ValueError, match="At most 4"):
        results_opening([AttestedResult(GOOD, (A.address,) * 5)])
