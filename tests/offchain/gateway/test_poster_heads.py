"""The poster's batches: one per project, engine profile and batch head (function version, reward,
secrets version), since ``postBatch`` carries the head once and 51-byte leaves."""

from __future__ import annotations

import dataclasses

from eth_utils import keccak

from peerhost.gateway.poster import batches_of
from peerhost.gateway.ticketbook import ISSUED, StoredTicket
from peerhost.wire.batch import Leaf, decode_posted, encode_posted
from peerhost.wire.ticket import Ticket

GATEWAY = "0x" + "aa" * 20
PROJECT, OTHER_PROJECT = keccak(b"project"), keccak(b"other project")


def _stored(seq: int, project: bytes = PROJECT, **change: object) -> StoredTicket:
    ticket = Ticket(GATEWAY, seq, keccak(b"f"), 1, keccak(bytes([seq])), 10**15, 10, 700, 1)
    ticket = dataclasses.replace(ticket, **change)  # type: ignore[arg-type]
    return StoredTicket(
        ticket,
        keccak(bytes([seq])),
        project,
        b"\x01" * 65,
        b"in",
        ISSUED,
        (),
        None,
        None,
        None,
        None,
    )


def test_batches_of__mixed_heads__one_batch_per_head_each_postable() -> None:
    tickets = [
        _stored(0),
        _stored(1, version=2),
        _stored(2),
        _stored(3, reward=2 * 10**15),
        _stored(4, secrets_version=5),
        _stored(5, function_id=keccak(b"g")),
        _stored(6, engine_profile=keccak(b"other engine")),
        _stored(7, OTHER_PROJECT),
        _stored(8, version=2),
    ]
    batches = batches_of(tickets, 16)
    assert [[t.ticket.seq for t in b] for _, _, b in batches] == [
        [0, 2],
        [1, 8],
        [3],
        [4],
        [5],
        [6],
        [7],
    ]
    assert batches[5][1] == keccak(b"other engine") and batches[6][0] == OTHER_PROJECT
    for _, _, batch in batches:  # every batch encodes: its leaves share a head
        leaves = [Leaf.of(t.ticket) for t in batch]
        head, blob = encode_posted(leaves)
        assert decode_posted(head, blob) == leaves


def test_batches_of__more_than_size__split_in_order() -> None:
    batches = batches_of([_stored(seq) for seq in range(5)], 2)
    assert [[t.ticket.seq for t in b] for _, _, b in batches] == [[0, 1], [2, 3], [4]]
