"""TicketVerifier.scanPosted (a post's one pass over its leaves, in assembly) against a model of the
rules in Python: on random batches, good and bad, it returns the model's root, fast mask, issuedAt
range and seq runs, or reverts with the model's error for the first bad leaf."""

from __future__ import annotations

import random

import pytest
from eth_utils import keccak

from peerhost.wire.batch import BatchHead, Leaf, batch_root, encode_posted

SINGLE = 1 << 63


@pytest.fixture
def k(ready):
    return ready


def _model(leaves: list[Leaf], now: int, life: int, single: bool, full: bool) -> tuple:
    """("ok", root, fastMask, minIssuedAt, maxIssuedAt, runs) or (error name,)."""
    runs: list[int] = []
    word: int | None = None
    bits = fast = high = 0
    low = 2**256 - 1
    for i, leaf in enumerate(leaves):
        if leaf.deadline < now:
            return ("TicketExpired",)
        if leaf.issued_at > now or leaf.issued_at > leaf.deadline:
            return ("InvalidTicketTimes",)
        if leaf.deadline - leaf.issued_at > life:
            return ("InvalidTicketTimes",)
        if leaf.mode > 2:
            return ("InvalidMode",)
        if leaf.mode == 0 and not full:
            fast |= 1 << i
        low, high = min(low, leaf.issued_at), max(high, leaf.issued_at)
        if single:
            continue
        if leaf.seq >= SINGLE:
            return ("SeqReserved",)
        if word != leaf.seq >> 8:
            if word is not None:
                runs += [word, bits]
            word, bits = leaf.seq >> 8, 0
        if bits >> (leaf.seq & 255) & 1:
            return ("SeqAlreadyPosted",)
        bits |= 1 << (leaf.seq & 255)
    if word is not None:
        runs += [word, bits]
    return ("ok", batch_root(leaves), fast, low, high, runs)


def _batch(rng: random.Random, k, now: int, life: int) -> list[Leaf]:
    """Half the batches good, the other half with one bad leaf (a bad time, mode or seq) or a seq
    twice; seqs across bitmap words, up to 256 leaves, and leaves living exactly the longest life."""
    n = rng.choice([1, 2, 3, 7, 40, 100, 256])
    start = rng.choice([0, 200, 250, 255, 1 << 20, SINGLE - 3])
    seqs = [start + i + (rng.random() < 0.05) * 300 for i in range(n)]
    bad = rng.randrange(n) if rng.random() < 0.5 else None
    if bad is None and rng.random() < 0.2 and n > 1:  # a seq twice
        seqs[rng.randrange(1, n)] = seqs[0]
    leaves = []
    for i, seq in enumerate(seqs):
        issued = now - rng.randrange(1000, 1100)  # margins far beyond the view call's clock drift
        deadline = now + rng.randrange(1000, 1100)
        mode = rng.choice([0, 1, 2])
        if rng.random() < 0.1:
            deadline = issued + life  # the longest life allowed, to the second: good
        if i == bad:
            kind = rng.randrange(4)
            if kind == 0:
                issued, deadline = now - 2000, now - 1000  # expired
            elif kind == 1:
                issued, deadline = now + 1000, now + 1100  # issued in the future
            elif kind == 2:
                deadline = issued + life + 1  # lives a second too long
            else:
                mode = rng.choice([3, 255])
        leaves.append(
            Leaf(
                seq,
                k.function_id,
                1,
                keccak(seq.to_bytes(8, "big")),
                10**15,
                issued,
                deadline,
                mode,
                3,
            )
        )
    return leaves


@pytest.mark.parametrize("seed", range(4))
def test_scan_posted__random_batches__equals_the_model(k, seed, reverts_with):
    rng = random.Random(seed)
    tickets = k.s.tickets
    life = k.params.max_ticket_life
    seen = {"ok": 0, "error": 0}
    for _ in range(8):
        k.chain.mine()  # a view call runs at about the head's time: keep it close to the clock
        now = int(k.chain.blocks.head.timestamp)
        leaves = _batch(rng, k, now, life)
        single, full = rng.random() < 0.15, rng.random() < 0.3
        head, blob = encode_posted(leaves)
        terms = (str(k.gateway.address), life, single, full)
        want = _model(leaves, now, life, single, full)
        if want[0] != "ok":
            seen["error"] += 1
            with reverts_with(getattr(tickets, want[0])):
                tickets.scanPosted(head.as_tuple(), blob, terms)
            continue
        seen["ok"] += 1
        got = tickets.scanPosted(head.as_tuple(), blob, terms)
        assert bytes(got.root) == want[1]
        assert (int(got.fastMask), int(got.minIssuedAt), int(got.maxIssuedAt)) == want[2:5]
        assert [int(x) for x in got.seqRuns] == want[5]
    assert seen["ok"] and seen["error"]  # both paths were taken


def test_scan_posted__second_bad_leaf__names_the_first(k, reverts_with):
    """Two bad leaves: the error is the first one's (its seq), whatever the second's kind."""
    k.chain.mine()
    now = int(k.chain.blocks.head.timestamp)
    good = Leaf(5, k.function_id, 1, keccak(b"i"), 10**15, now - 100, now + 1000, 1, 0)
    expired = Leaf(6, k.function_id, 1, keccak(b"i"), 10**15, now - 2000, now - 1000, 1, 0)
    bad_mode = Leaf(7, k.function_id, 1, keccak(b"i"), 10**15, now - 100, now + 1000, 9, 0)
    terms = (str(k.gateway.address), k.params.max_ticket_life, False, False)
    head, blob = encode_posted([good, bad_mode, expired])
    with reverts_with(k.s.tickets.InvalidMode):
        k.s.tickets.scanPosted(head.as_tuple(), blob, terms)
    head, blob = encode_posted([good, expired, bad_mode])
    with reverts_with(k.s.tickets.TicketExpired):
        k.s.tickets.scanPosted(head.as_tuple(), blob, terms)
    assert BatchHead.of(good) == head
