"""A call waiting for its attestation resumes one event-loop turn after the answer is read:
no task or callback between the feed's reader and the waiting handler."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, cast

from eth_account import Account
from test_feed_dropped import desk_with, pending_call

from peerhost.chain.settlement import ActiveSet
from peerhost.gateway.feed import WorkerLink
from peerhost.wire.envelope import result_hash
from peerhost.wire.feed import Answer, Refusal, sign_digest
from peerhost.wire.ticket import attestation_digest


def test_answer__fast_attestation_read__caller_resumes_in_one_loop_turn(tmp_path: Path) -> None:
    worker = Account.create()
    desk = desk_with(tmp_path, {worker.address: 0.01})
    rid = pending_call(desk, worker.address, 0)
    call = desk.calls[rid]
    output = b'{"ok":true}'
    result = result_hash(output)
    digest = attestation_digest(desk.chain_id, desk.settlement, call.ticket_hash, result)
    answer = Answer(rid, result, output, sign_digest(worker.key, digest))

    async def scenario() -> int:
        waiting = asyncio.create_task(desk.answer(call, 5.0, "http://status"))
        for _ in range(3):
            await asyncio.sleep(0)  # the handler is parked on the call's event
        assert not waiting.done()
        desk._on_answer(desk.hub.links[worker.address], answer)
        turns = 0
        while not waiting.done():
            await asyncio.sleep(0)
            turns += 1
        assert (await waiting).attestations == [(worker.address, answer.attestation)]
        return turns

    assert asyncio.run(scenario()) == 1


def _two_asked(tmp_path: Path, first: str, second: str) -> tuple[Any, bytes, Any]:
    """A desk whose fast call asked ``first`` and then ``second``, its ticket in the book."""
    desk = desk_with(tmp_path, {first: 0.01, second: 0.02})
    rid = pending_call(desk, first, 0)
    call = desk.calls[rid]
    call.tried.add(second)
    call.outstanding.add(second)
    desk.book.save(call.ticket, rid, b"p" * 32, b"sig", b"in")
    return desk, rid, call


def test_answer__fast_both_attestations_in_one_read__caller_first_second_recorded_after(
    tmp_path: Path,
) -> None:
    first, second = Account.create(), Account.create()
    desk, rid, call = _two_asked(tmp_path, first.address, second.address)
    output = b'{"ok":true}'
    result = result_hash(output)
    digest = attestation_digest(desk.chain_id, desk.settlement, call.ticket_hash, result)
    answers = [
        (w, Answer(rid, result, output, sign_digest(w.key, digest))) for w in (first, second)
    ]

    async def scenario() -> tuple[int, int, int]:
        async def caller() -> tuple[int, int]:
            await desk.answer(call, 5.0, "http://status")
            stored = desk.book.get(rid)
            assert stored is not None
            # what the caller is answered from is in the book; the other is not checked yet
            return len(call.answers), len(stored.attestations)

        waiting = asyncio.create_task(caller())
        await asyncio.sleep(0)
        for worker, answer in answers:  # one read brings both frames
            desk._on_answer(desk.hub.links[worker.address], answer)
        in_memory, in_book = await waiting
        await asyncio.sleep(0)
        stored = desk.book.get(rid)
        assert stored is not None
        return in_memory, in_book, len(stored.attestations)

    assert asyncio.run(scenario()) == (1, 1, 2)


def _second_in_the_same_read(tmp_path: Path, lie: str) -> tuple[int, list[str], int]:
    """Both attesters' frames in one read, the second ``lie``: "forged" (signed by a key not its
    own) or "other-result" (its own signature over another result). Returns the caller's
    attestation count, the result hashes in the book a turn later, and the second's bad count."""
    first, second, stranger = Account.create(), Account.create(), Account.create()
    desk, rid, call = _two_asked(tmp_path, first.address, second.address)
    honest, other = b'{"ok":true}', b'{"ok":false}'

    def answer(signer: Any, output: bytes) -> Answer:
        result = result_hash(output)
        digest = attestation_digest(desk.chain_id, desk.settlement, call.ticket_hash, result)
        return Answer(rid, result, output, sign_digest(signer.key, digest))

    frames = [(first, answer(first, honest))]
    if lie == "forged":
        frames.append((second, answer(stranger, honest)))
    else:
        frames.append((second, answer(second, other)))

    async def scenario() -> tuple[int, list[str]]:
        waiting = asyncio.create_task(desk.answer(call, 5.0, "http://status"))
        await asyncio.sleep(0)
        for worker, frame in frames:
            desk._on_answer(desk.hub.links[worker.address], frame)
        answered = await waiting
        for _ in range(3):
            await asyncio.sleep(0)  # the second is checked on a later turn
        stored = desk.book.get(rid)
        assert stored is not None
        return len(answered.attestations), [a[1] for a in stored.attestations]

    count, results = asyncio.run(scenario())
    return count, results, desk.hub.reputation(second.address).bad


def test_answer__forged_second_attestation_in_the_same_read__not_recorded_worker_marked_bad(
    tmp_path: Path,
) -> None:
    count, results, bad = _second_in_the_same_read(tmp_path, "forged")
    assert count == 1  # the caller is answered from the first, checked, attestation
    assert results == ["0x" + result_hash(b'{"ok":true}').hex()]  # the forgery: not in the book
    assert bad == 1


def test_answer__lying_second_attestation_in_the_same_read__recorded_for_the_challenge(
    tmp_path: Path,
) -> None:
    count, results, _ = _second_in_the_same_read(tmp_path, "other-result")
    assert count == 1
    # recorded with its own result: it can be presented against the final result
    assert results == ["0x" + result_hash(o).hex() for o in (b'{"ok":true}', b'{"ok":false}')]


def _attested(tmp_path: Path) -> tuple[Any, bytes, Any, Any, Any]:
    """An attested call asked of two attesters (A = 2), its ticket in the book."""
    first, second = Account.create(), Account.create()
    desk, rid, call = _two_asked(tmp_path, first.address, second.address)
    call.mode = "attested"
    return desk, rid, call, first, second


def _signed(desk: Any, call: Any, signer: Any, output: bytes) -> Answer:
    result = result_hash(output)
    digest = attestation_digest(desk.chain_id, desk.settlement, call.ticket_hash, result)
    return Answer(call.request_id, result, output, sign_digest(signer.key, digest))


def test_answer__attested_second_match__caller_first_then_recorded_poster_waits(
    tmp_path: Path,
) -> None:
    desk, rid, call, first, second = _attested(tmp_path)
    output = b'{"ok":true}'

    async def scenario() -> tuple[int, int, bool, int, bool]:
        async def caller() -> tuple[int, int, bool]:
            answered = await desk.answer(call, 5.0, "http://status")
            stored = desk.book.get(rid)
            assert stored is not None
            # the response is written now: the second attestation is not in the book yet and
            # its attester still counts as outstanding (the poster waits for it)
            return len(answered.attestations), len(stored.attestations), desk.waiting(rid)

        waiting = asyncio.create_task(caller())
        await asyncio.sleep(0)
        for worker in (first, second):
            desk._on_answer(desk.hub.links[worker.address], _signed(desk, call, worker, output))
        count, in_book, poster_waits = await waiting
        await asyncio.sleep(0)
        stored = desk.book.get(rid)
        assert stored is not None
        return count, in_book, poster_waits, len(stored.attestations), desk.waiting(rid)

    assert asyncio.run(scenario()) == (2, 1, True, 2, False)


def test_answer__attested_completing_answer_sent_twice__counted_and_recorded_once(
    tmp_path: Path,
) -> None:
    desk, rid, call, first, second = _attested(tmp_path)
    output = b'{"ok":true}'
    again = _signed(desk, call, second, output)

    async def scenario() -> tuple[list[str], list[str]]:
        waiting = asyncio.create_task(desk.answer(call, 5.0, "http://status"))
        await asyncio.sleep(0)
        desk._on_answer(desk.hub.links[first.address], _signed(desk, call, first, output))
        link = desk.hub.links[second.address]
        desk._on_answer(link, again)  # completes the pair: its record waits a turn
        desk._on_answer(link, again)  # the same frame again in that read
        answered = await waiting
        for _ in range(3):
            await asyncio.sleep(0)
        stored = desk.book.get(rid)
        assert stored is not None
        return [w for w, _ in answered.attestations], [a[0] for a in stored.attestations]

    in_reply, in_book = asyncio.run(scenario())
    assert in_reply == in_book == [first.address, second.address]


def test_answer__attested_forged_second_attestation__not_counted_worker_marked_bad(
    tmp_path: Path,
) -> None:
    desk, rid, call, first, second = _attested(tmp_path)
    stranger = Account.create()
    output = b'{"ok":true}'

    async def scenario() -> tuple[bool, list[str], int]:
        waiting = asyncio.create_task(desk.answer(call, 0.3, "http://status"))
        await asyncio.sleep(0)
        desk._on_answer(desk.hub.links[first.address], _signed(desk, call, first, output))
        forged = _signed(desk, call, stranger, output)  # the second's seat, another's key
        desk._on_answer(desk.hub.links[second.address], forged)
        for _ in range(3):
            await asyncio.sleep(0)
        done = waiting.done()
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        return done, [a.worker for a in call.answers], desk.hub.reputation(second.address).bad

    done, answered_by, bad = asyncio.run(scenario())
    assert not done  # the forgery never completes the pair
    assert answered_by == [first.address]
    assert bad == 1
    stored = desk.book.get(rid)
    assert stored is not None and [a[0] for a in stored.attestations] == [first.address]


def test_answer__attested_completing_answer_then_refusal_in_one_read__no_third_attester(
    tmp_path: Path,
) -> None:
    desk, rid, call, first, second = _attested(tmp_path)
    third = Account.create().address
    desk.hub.links[third] = WorkerLink(third, cast(Any, None), latency=0.03)
    desk._active = ActiveSet(1, (first.address, second.address, third), (1, 2, 3), 0.0)
    output = b'{"ok":true}'

    async def scenario() -> tuple[int, set[str], list[str]]:
        waiting = asyncio.create_task(desk.answer(call, 5.0, "http://status"))
        await asyncio.sleep(0)
        desk._on_answer(desk.hub.links[first.address], _signed(desk, call, first, output))
        link = desk.hub.links[second.address]
        desk._on_answer(link, _signed(desk, call, second, output))  # completes the pair
        desk._on_refusal(link, Refusal(rid, "busy"))  # then a refusal of the same ticket
        answered = await waiting
        for _ in range(3):
            await asyncio.sleep(0)
        return len(answered.attestations), set(call.tried), call.refusals

    count, tried, refusals = asyncio.run(scenario())
    assert (count, refusals) == (2, [])
    assert third not in tried  # nobody else is sent a ticket already answered
