"""``open_attestations``: what ``openResults`` needs to check every paid attester's signature."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import keccak

from peerhost.wire.batch import (
    AttestedResult,
    Leaf,
    decode_leaves,
    encode_leaves,
    open_attestations,
    results_opening,
)
from peerhost.wire.ticket import Ticket, recover_attester, sign_attestation, ticket_hash

COORDINATOR = "0x" + "cc" * 20
CHAIN = 31337
RESULT = keccak(b"result")


def _tickets(n: int) -> list[Ticket]:
    return [
        Ticket("0x" + "aa" * 20, seq, keccak(b"f"), 1, keccak(bytes([seq])), 10**15, 100, 700,
               engine_profile=keccak(b"profile"), issued_total=(seq + 1) * 10**15)
        for seq in range(n)
    ]  # fmt: skip


def test_open_attestations__signed_results__leaves_profile_totals_and_signatures_in_order() -> None:
    keys = [Account.create().key for _ in range(2)]
    tickets = _tickets(2)
    results = [
        AttestedResult(
            RESULT,
            tuple(Account.from_key(k).address for k in keys),
            tuple(sign_attestation(k, CHAIN, COORDINATOR, ticket_hash(t), RESULT) for k in keys),
        )
        for t in tickets
    ]
    leaves, profile, totals, signatures = open_attestations(tickets, results)
    assert decode_leaves(leaves) == [Leaf.of(t) for t in tickets]
    assert profile == keccak(b"profile") and totals == [10**15, 2 * 10**15]
    assert len(signatures) == 4 * 65
    for i, t in enumerate(tickets):
        for j, key in enumerate(keys):
            sig = signatures[(2 * i + j) * 65 : (2 * i + j + 1) * 65]
            signer = recover_attester(CHAIN, COORDINATOR, ticket_hash(t), RESULT, sig)
            assert signer == Account.from_key(key).address
    # the signatures are not part of the opening (nor of its commitment)
    bare = [AttestedResult(r.result_hash, r.attesters) for r in results]
    assert results_opening(results) == results_opening(bare)


@pytest.mark.parametrize(
    "signatures", [(), (bytes(65), bytes(65)), (bytes(64),)], ids=["none", "extra", "short"]
)
def test_open_attestations__signature_per_attester_missing_or_malformed__raises(
    signatures: tuple[bytes, ...],
) -> None:
    tickets = _tickets(1)
    results = [AttestedResult(RESULT, ("0x" + "bb" * 20,), signatures)]
    with pytest.raises(ValueError, match="one 65-byte signature per attester"):
        open_attestations(tickets, results)


def test_open_attestations__tickets_and_results_differ_in_number__raises() -> None:
    with pytest.raises(ValueError, match="2 tickets but 1 attested results"):
        open_attestations(_tickets(2), [AttestedResult(RESULT)])


def test_open_attestations__unattested_leaves__need_no_signature() -> None:
    tickets = _tickets(2)
    leaves, _, totals, signatures = open_attestations(tickets, [AttestedResult(RESULT)] * 2)
    assert leaves == encode_leaves([Leaf.of(t) for t in tickets]) and signatures == b""
    assert len(totals) == 2
