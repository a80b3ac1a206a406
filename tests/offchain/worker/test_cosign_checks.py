"""The co-signer's cheap checks come before it hashes a batch: a request whose leaves and results
do not pair up, or whose batch is larger than a batch can be, is refused with that reason (its
root is never worked out: each request here also has a wrong root), and nothing is signed."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from peerhost.wire.batch import LEAF_BYTES, MAX_LEAVES
from peerhost.wire.feed import CosignRequest
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.cosign import Cosigner
from peerhost.worker.errors import CosignRefused

GATEWAY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
COORDINATOR = "0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6"
WRONG_ROOT = b"\x5a" * 32
RESULT = b"\x11" * 32


@pytest.fixture
def cosigner(tmp_path: Path) -> Cosigner:
    ledger = AttestedLedger(str(tmp_path / "attested.sqlite3"))
    return Cosigner(ledger, bytes(Account.create().key), 31337, COORDINATOR)


def _refused(cosigner: Cosigner, request: CosignRequest) -> str:
    with pytest.raises(CosignRefused) as refused:
        cosigner.check(request, GATEWAY)
    assert cosigner.handle(request, GATEWAY) is None
    assert cosigner.signed == 0
    return refused.value.reason


def test_check__a_mib_of_leaves_one_result__refused_for_the_count_before_hashing(
    cosigner: Cosigner,
) -> None:
    leaves = bytes(LEAF_BYTES) * (2**20 // LEAF_BYTES)  # about 10,000 leaves, one result
    request = CosignRequest(1, WRONG_ROOT, leaves, 1, (RESULT,))
    assert _refused(cosigner, request) == "the results are not one per leaf"


def test_check__more_leaves_than_a_batch_holds__refused_for_the_size_before_hashing(
    cosigner: Cosigner,
) -> None:
    count = MAX_LEAVES + 1
    request = CosignRequest(1, WRONG_ROOT, bytes(LEAF_BYTES) * count, 1, (RESULT,) * count)
    assert _refused(cosigner, request) == f"the batch has {count} leaves, more than {MAX_LEAVES}"


def test_check__mask_past_the_batch__refused_for_the_mask_before_hashing(
    cosigner: Cosigner,
) -> None:
    request = CosignRequest(1, WRONG_ROOT, bytes(LEAF_BYTES) * 2, 0b100, (RESULT,) * 2)
    assert _refused(cosigner, request) == "the mask names no leaf, or a leaf past the batch"


def test_check__pairs_up_but_wrong_root__refused_for_the_root(cosigner: Cosigner) -> None:
    request = CosignRequest(1, WRONG_ROOT, bytes(LEAF_BYTES) * MAX_LEAVES, 1, (RESULT,) * 256)
    assert _refused(cosigner, request) == "the leaves do not hash to the root"
