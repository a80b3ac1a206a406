"""Batch co-signatures between the gateway's poster and an attester's cosigner: the poster asks each
attester its opening lists (once the batch's challenge window passed: test_gateway_cosign.py), the
worker checks the request against its own attested ledger before it signs, and the poster keeps only
co-signatures that recover to that attester over its own terms."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak

from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import SettlementView
from peerhost.gateway.batcher import BatchSender
from peerhost.gateway.poster import BatchPoster, cosign_requests
from peerhost.gateway.ticketbook import TicketBook
from peerhost.wire.batch import (
    AttestedResult,
    Leaf,
    batch_root,
    cosign_digest,
    decode_results,
    open_cosignatures,
    results_opening,
)
from peerhost.wire.feed import Cosignature, CosignRequest, recover_digest, sign_digest
from peerhost.wire.ticket import Ticket
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.cosign import Cosigner

CHAIN = 31337
GATEWAY = Account.create()
HONEST, OTHER = Account.create(), Account.create()
GOOD, LIE = keccak(b"good"), keccak(b"lie")
CONFIG = ChainConfig(
    "http://127.0.0.1:9",
    "ws://127.0.0.1:9",
    CHAIN,
    "0x" + "01" * 20,
    "0x" + "02" * 20,
    "0x" + "03" * 20,
    stakes="0x" + "04" * 20,
    gateways="0x" + "05" * 20,
    settlement="0x" + "06" * 20,
)
BATCH = 9


def _ticket(seq: int) -> Ticket:
    return Ticket(GATEWAY.address, seq, keccak(b"f"), 1, keccak(bytes([seq])), 10**15, 10, 700, 1)


class Stack:
    """A gateway's poster with a posted batch of three tickets (leaf 1 attested by OTHER with
    another result), and an honest attester's cosigner over its own ledger."""

    def __init__(self, tmp: Path) -> None:
        rpc = RpcClient(CONFIG.rpc_url)
        self.book = TicketBook(tmp / "tickets.sqlite3")
        self.asked: list[tuple[str, CosignRequest]] = []
        self.poster = BatchPoster(
            SettlementView(CONFIG, rpc),
            self.book,
            BatchSender(rpc, GATEWAY.key, CHAIN),
            max_tickets=10,
            interval=1.0,
            waiting=lambda rid: False,
            drawn=lambda project, amount: None,
            settled=lambda rid, value, final: None,
            ask=self._ask,
        )
        self.tickets = [_ticket(seq) for seq in range(3)]
        self.results = [
            AttestedResult(GOOD, (HONEST.address,)),
            AttestedResult(LIE, (OTHER.address,)),
            AttestedResult(GOOD, (HONEST.address, OTHER.address)),
        ]
        for t in self.tickets:
            self.book.save(t, keccak(bytes([t.seq])), b"\x01" * 32, b"sig", b"input")
        seqs = [t.seq for t in self.tickets]
        self.book.mark_posting(seqs, b"tx", b"\x07" * 32, results_opening(self.results))
        self.book.mark_posted(seqs, BATCH)
        self.book.batch_posted(b"tx", BATCH)
        self.poster._followed[BATCH] = b"tx"  # as a round of following finds it on the chain
        self.ledger = AttestedLedger(str(tmp / "attested.sqlite3"))
        for t in (self.tickets[0], self.tickets[2]):
            self.ledger.claim(t, keccak(bytes([t.seq])), b"\x01" * 32, b"sig")
            self.ledger.attest(t, GOOD, b"attestation")
        self.cosigner = Cosigner(self.ledger, bytes(HONEST.key), CHAIN, CONFIG.settlement)

    async def _ask(self, worker: str, request: CosignRequest) -> bool:
        self.asked.append((worker, request))
        return True

    def request_for(self, worker: str) -> CosignRequest:
        return cosign_requests(BATCH, self.book.in_batch(BATCH), results_opening(self.results))[
            worker
        ]

    def digest(self, worker: str) -> bytes:
        root = batch_root([Leaf.of(t) for t in self.tickets])
        return cosign_digest(
            CHAIN, CONFIG.settlement, BATCH, GATEWAY.address, root, self.results, worker
        )


@pytest.fixture
def stack(tmp_path: Path) -> Stack:
    return Stack(tmp_path)


def test_ask_cosignatures__window_passed__each_attester_asked_for_its_leaves_and_every_result(
    stack: Stack,
) -> None:
    asyncio.run(stack.poster.ask_cosignatures(BATCH))
    asked = dict(stack.asked)
    assert set(asked) == {HONEST.address, OTHER.address}
    every = (GOOD, LIE, GOOD)  # the co-signature names the batch's results hash, over every leaf
    assert (asked[HONEST.address].mask, asked[HONEST.address].results) == (0b101, every)
    assert (asked[OTHER.address].mask, asked[OTHER.address].results) == (0b110, every)
    assert asked[HONEST.address].root == batch_root([Leaf.of(t) for t in stack.tickets])


def test_cosign__request_matches_the_ledger__signed_kept_and_opened(stack: Stack) -> None:
    reply = stack.cosigner.handle(stack.request_for(HONEST.address), GATEWAY.address)
    assert reply is not None and reply.batch_id == BATCH
    assert recover_digest(stack.digest(HONEST.address), reply.signature) == HONEST.address
    assert stack.poster.cosigned(HONEST.address, reply)
    kept = stack.book.cosignatures(BATCH)
    assert kept == {HONEST.address.lower(): reply.signature}
    # openResults' argument: the honest attester's co-signature, zero bytes for the silent one
    opening = decode_results(stack.book.batch(BATCH).opening)  # type: ignore[union-attr]
    assert open_cosignatures(opening, kept) == reply.signature + bytes(65)
    # once it has co-signed, only the missing attester is asked again
    asyncio.run(stack.poster.ask_cosignatures(BATCH))
    assert [w for w, _ in stack.asked] == [OTHER.address]


@pytest.mark.parametrize(
    "tamper, reason",
    [
        (lambda r: dataclasses.replace(r, results=(GOOD, LIE, LIE)), "another result"),
        (lambda r: dataclasses.replace(r, mask=0b111), "no ticket"),
        (lambda r: dataclasses.replace(r, results=(GOOD, GOOD)), "not one per leaf"),
        (lambda r: dataclasses.replace(r, root=keccak(b"other")), "root"),
        (
            lambda r: dataclasses.replace(
                r, leaves=r.leaves[:103] + bytes([r.leaves[103] ^ 1]) + r.leaves[104:]
            ),
            "root",
        ),
        (lambda r: dataclasses.replace(r, mask=0b1000), "past the batch"),
    ],
    ids=[
        "other-result",
        "unattested-leaf",
        "results-not-one-per-leaf",
        "wrong-root",
        "tampered-leaf",
        "mask-past-batch",
    ],
)
def test_cosign__request_not_what_the_worker_attested__refused(
    stack: Stack, tamper: object, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    request = tamper(stack.request_for(HONEST.address))  # type: ignore[operator]
    assert stack.cosigner.handle(request, GATEWAY.address) is None
    assert reason in caplog.text


def test_cosign__leaf_differs_from_the_attested_ticket__refused(stack: Stack) -> None:
    """A batch whose leaf carries the worker's seq but another input is not co-signed."""
    forged = dataclasses.replace(stack.tickets[0], input_hash=keccak(b"other input"))
    tickets = [forged, *stack.tickets[1:]]
    leaves = [Leaf.of(t) for t in tickets]
    request = CosignRequest(
        BATCH, batch_root(leaves), b"".join(x.encode() for x in leaves), 0b101, (GOOD, LIE, GOOD)
    )
    assert stack.cosigner.handle(request, GATEWAY.address) is None


def test_cosigned__batch_not_followed_now__not_kept(stack: Stack) -> None:
    """A co-signature for a batch id the poster does not follow now (its post found stale, or
    not read yet since a restart) may be a stale post's, checked against that post's leaves: it
    would pass for the next post under the same id, whose attester would then go unpaid."""
    reply = stack.cosigner.handle(stack.request_for(HONEST.address), GATEWAY.address)
    assert reply is not None
    del stack.poster._followed[BATCH]
    assert not stack.poster.cosigned(HONEST.address, reply)
    assert stack.book.cosignatures(BATCH) == {}
    stack.poster._followed[BATCH] = b"tx"
    assert stack.poster.cosigned(HONEST.address, reply)


def test_cosign__request_from_another_gateway__refused(stack: Stack) -> None:
    assert stack.cosigner.handle(stack.request_for(HONEST.address), OTHER.address) is None


def test_cosigned__forged_replayed_or_foreign__not_kept(stack: Stack) -> None:
    honest = stack.cosigner.handle(stack.request_for(HONEST.address), GATEWAY.address)
    assert honest is not None
    forged = Cosignature(BATCH, sign_digest(bytes(OTHER.key), stack.digest(HONEST.address)))
    assert not stack.poster.cosigned(HONEST.address, forged)  # signed by another key
    assert not stack.poster.cosigned(OTHER.address, honest)  # HONEST's terms, not OTHER's
    assert not stack.poster.cosigned(HONEST.address, Cosignature(BATCH + 1, honest.signature))
    stranger = Account.create()
    own = Cosignature(BATCH, sign_digest(bytes(stranger.key), stack.digest(stranger.address)))
    assert not stack.poster.cosigned(stranger.address, own)  # not an attester of the batch
    assert stack.book.cosignatures(BATCH) == {}
