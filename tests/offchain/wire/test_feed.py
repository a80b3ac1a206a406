"""The job feed's message formats and digest signatures (peerhost.wire.feed)."""

from __future__ import annotations

import dataclasses

import pytest
from eth_utils import keccak, to_checksum_address

from peerhost.wire.feed import (
    ENGINE_PROFILE,
    ENGINE_PROFILE_NAME,
    RUNTIME_ENGINE_SHA256,
    Answer,
    Challenge,
    DigestSigner,
    FeedMessageError,
    Hello,
    JobOffer,
    Refusal,
    address_of,
    attestations_header,
    decode_message,
    encode_message,
    hello_digest,
    parse_attestations_header,
    recover_digest,
    sign_digest,
    ticket_from_doc,
    ticket_to_doc,
)
from peerhost.wire.ids import checksummed
from peerhost.wire.ticket import (
    Ticket,
    recover_attester,
    recover_ticket_signer,
    sign_ticket,
    ticket_digest,
)

KEY = bytes.fromhex("42" * 32)
OTHER = bytes.fromhex("43" * 32)
COORDINATOR = "0x" + "11" * 20
TICKET = Ticket(
    gateway=address_of(KEY),
    seq=7,
    function_id=keccak(b"fn"),
    version=2,
    input_hash=keccak(b"input"),
    reward=10**15,
    issued_at=1_700_000_000,
    deadline=1_700_000_600,
    mode=1,
    engine_profile=ENGINE_PROFILE,
    issued_total=3 * 10**15,
)


def test_sign_digest__ticket__same_signature_as_the_eip712_signer() -> None:
    digest = ticket_digest(31337, COORDINATOR, TICKET)
    assert sign_digest(KEY, digest) == sign_ticket(KEY, 31337, COORDINATOR, TICKET)
    assert (
        recover_ticket_signer(31337, COORDINATOR, TICKET, sign_digest(KEY, digest))
        == TICKET.gateway
    )


def test_recover_digest__attestation__matches_recover_attester() -> None:
    from peerhost.wire.ticket import attestation_digest, ticket_hash

    th, result = ticket_hash(TICKET), keccak(b"out")
    sig = sign_digest(OTHER, attestation_digest(31337, COORDINATOR, th, result))
    assert recover_attester(31337, COORDINATOR, th, result, sig) == address_of(OTHER)
    assert recover_digest(attestation_digest(31337, COORDINATOR, th, result), sig) == address_of(
        OTHER
    )


def test_digest_signer__many_digests__same_signatures_as_sign_digest() -> None:
    signer = DigestSigner(KEY)
    for n in range(3):
        digest = keccak(bytes([n]))
        assert signer.sign(digest) == sign_digest(KEY, digest)
        assert recover_digest(digest, signer.sign(digest)) == address_of(KEY)


def test_digest_signer__repr__never_shows_the_key() -> None:
    assert KEY.hex() not in repr(DigestSigner(KEY))
    assert "42424242" not in repr(DigestSigner(KEY))


def test_recover_digest__two_keys_alternating__each_its_own_address() -> None:
    # recovered addresses are remembered per public key: one key's never answers for another's
    digest = keccak(b"d")
    for _ in range(2):
        assert recover_digest(digest, sign_digest(KEY, digest)) == address_of(KEY)
        assert recover_digest(digest, sign_digest(OTHER, digest)) == address_of(OTHER)


def test_checksummed__text_and_bytes__same_as_to_checksum_address() -> None:
    address = address_of(KEY)
    raw = bytes.fromhex(address[2:])
    for value in (address, address.lower(), raw, address.lower()):  # twice: once remembered
        assert checksummed(value) == to_checksum_address(value)


@pytest.mark.parametrize("junk", ["0x1234", "not an address", b"\x01" * 19])
def test_checksummed__not_an_address__value_error_every_time(junk: str | bytes) -> None:
    for _ in range(2):
        with pytest.raises(ValueError):
            checksummed(junk)


def test_job_offer__encoded__round_trips_with_a_checksummed_gateway() -> None:
    lowered = dataclasses.replace(TICKET, gateway=TICKET.gateway.lower())
    text = encode_message(JobOffer(lowered, b"\x01" * 65, b"in"))
    decoded = decode_message(text)
    assert isinstance(decoded, JobOffer)
    assert decoded.ticket == TICKET and decoded.ticket.gateway == to_checksum_address(
        TICKET.gateway
    )


@pytest.mark.parametrize(
    "message",
    [
        Challenge(address_of(KEY), 31337, b"\x01" * 32),
        Hello(
            address_of(KEY),
            b"\x01" * 32,
            sign_digest(KEY, hello_digest(address_of(KEY), b"\x01" * 32)),
        ),
        JobOffer(TICKET, b"\x02" * 65, b'{"method":"GET"}'),
        Answer(b"\x03" * 32, keccak(b"x"), b"x", b"\x04" * 65, b"a log line"),
        Refusal(b"\x03" * 32, "the ticket expired"),
    ],
)
def test_decode_message__encoded__round_trips(message: object) -> None:
    assert decode_message(encode_message(message)) == message  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"type":"nope"}', "unknown type"),
        ('{"type":"refusal","request_id":"0x00","reason":"x"}', "32 bytes"),
        ('{"type":"answer","request_id":"0x' + "00" * 32 + '","result_hash":"zz"}', "0x-hex"),
    ],
)
def test_decode_message__malformed__names_the_problem(text: str, why: str) -> None:
    with pytest.raises(FeedMessageError, match=why):
        decode_message(text)


def test_ticket_from_doc__extra_or_missing_field__refused() -> None:
    doc = ticket_to_doc(TICKET)
    assert ticket_from_doc(doc) == TICKET
    with pytest.raises(FeedMessageError):
        ticket_from_doc({**doc, "extra": 1})
    with pytest.raises(FeedMessageError):
        ticket_from_doc({k: v for k, v in doc.items() if k != "seq"})
    with pytest.raises(FeedMessageError, match="64 bits"):
        ticket_from_doc({**doc, "seq": 1 << 64})


def test_attestations_header__round_trip_and_bad_signature_length() -> None:
    pairs = [(address_of(KEY), b"\x05" * 65), (address_of(OTHER), b"\x06" * 65)]
    assert parse_attestations_header(attestations_header(pairs)) == pairs
    with pytest.raises(FeedMessageError):
        parse_attestations_header(f"{address_of(KEY)}:0x1234")


def test_recover_digest__malformed_signature__refused() -> None:
    with pytest.raises(FeedMessageError):
        recover_digest(keccak(b"d"), b"\x00" * 10)
    changed = dataclasses.replace(TICKET, seq=8)
    sig = sign_digest(KEY, ticket_digest(31337, COORDINATOR, TICKET))
    assert recover_digest(ticket_digest(31337, COORDINATOR, changed), sig) != TICKET.gateway


def test_engine_profile__names_each_runtime_engine_by_its_sha256() -> None:
    # A rebuilt engine changes what a call spends, so it must be a different profile: workers
    # running different engines then refuse each other's tickets instead of contradicting them.
    for runtime, sha in RUNTIME_ENGINE_SHA256.items():
        assert f" {runtime}:{sha}" in ENGINE_PROFILE_NAME
    assert keccak(text=ENGINE_PROFILE_NAME) == ENGINE_PROFILE


def test_engine_profile__sandbox_checks_the_same_engine_pins() -> None:
    from peerhost.sandbox import js_engine, python_engine

    assert RUNTIME_ENGINE_SHA256["js"] == js_engine.ENGINE_SHA256
    assert RUNTIME_ENGINE_SHA256["python"] == python_engine.ENGINE_SHA256


def test_ticket_to_doc__copy_changed__the_next_doc_unchanged_and_a_replaced_ticket_its_own() -> (
    None
):
    doc = ticket_to_doc(TICKET)
    doc["seq"] = 999
    doc["inputHash"] = "0x00"
    assert ticket_to_doc(TICKET)["seq"] == TICKET.seq
    assert ticket_from_doc(ticket_to_doc(TICKET)) == TICKET
    other = dataclasses.replace(TICKET, seq=TICKET.seq + 1, input_hash=b"\x07" * 32)
    assert ticket_to_doc(other)["seq"] == TICKET.seq + 1
    assert ticket_to_doc(other)["inputHash"] == "0x" + "07" * 32
    assert ticket_from_doc(ticket_to_doc(other)) == other
