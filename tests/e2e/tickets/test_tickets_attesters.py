"""Attesters that misbehave on the feed: the gateway drops their answers and asks another worker.

The test holds its own feed connection as a worker (a raw WebSocket client signing with a test
key) that is staked into the epoch, so the gateway pushes it tickets; it then answers with output
bytes that do not hash to what it attested, with another key's attestation, or disconnects
mid-ticket. An unstaked worker's unsolicited answers are ignored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from eth_utils import keccak
from ticket_stack import TicketStack
from websockets.sync.client import connect

from peerhost.deploy import ETHER
from peerhost.devnet.accounts import derive
from peerhost.wire.envelope import result_hash
from peerhost.wire.feed import (
    Answer,
    Challenge,
    Hello,
    JobOffer,
    decode_message,
    encode_message,
    hello_digest,
    parse_attestations_header,
    sign_digest,
)
from peerhost.wire.ticket import attestation_digest, request_id, ticket_hash

OUTSIDER = 8
#: One staked rogue key per misbehaviour (indices past anvil's funded ten): the gateway offers a
#: ticket to the cheapest workers by latency over reputation, so a key another case already made
#: a bad name for would have to out-cost workers that answer in a few milliseconds.
ROGUES = {"mismatched_output": 10, "foreign_signature": 11, "disconnects": 12}

pytestmark = pytest.mark.usefixtures("automine")


class RawWorker:
    """A feed connection the test controls; ``behaviour(offer, socket)`` answers each job."""

    def __init__(self, stack: TicketStack, index: int, behaviour: Callable[[JobOffer, Any], None]):
        self.key = derive(index)
        self.stack = stack
        self.behaviour = behaviour
        self.jobs: list[JobOffer] = []
        self.socket: Any = None
        url = stack.gateway_url.replace("http://", "ws://") + "/_feed"
        self.socket = connect(url)
        challenge = decode_message(self.socket.recv(timeout=10))
        assert isinstance(challenge, Challenge)
        private = bytes.fromhex(self.key.private_key.removeprefix("0x"))
        sig = sign_digest(private, hello_digest(challenge.gateway, challenge.nonce))
        self.socket.send(encode_message(Hello(self.key.address, challenge.nonce, sig)))
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        try:
            for text in self.socket:
                message = decode_message(text)
                if isinstance(message, JobOffer):
                    self.jobs.append(message)
                    self.behaviour(message, self.socket)
        except Exception:  # closed by the test or the gateway
            return

    def close(self) -> None:
        self.socket.close()
        self.thread.join(timeout=5)


def attest(stack: TicketStack, index: int, offer: JobOffer, result: bytes) -> bytes:
    chain = stack.devnet.chain_config
    assert chain is not None
    key = bytes.fromhex(derive(index).private_key.removeprefix("0x"))
    digest = attestation_digest(chain.chain_id, chain.settlement, ticket_hash(offer.ticket), result)
    return sign_digest(key, digest)


def rid_of(stack: TicketStack, offer: JobOffer) -> bytes:
    chain = stack.devnet.chain_config
    assert chain is not None
    return request_id(chain.chain_id, chain.settlement, offer.ticket.gateway, offer.ticket.seq)


def advance_epoch(stack: TicketStack) -> None:
    settlement = stack.devnet.settlement
    assert settlement is not None
    time.sleep(1.1)
    settlement.stakes.advanceEpoch(sender=stack.developer)
    time.sleep(2.5)  # the gateway re-reads the active set every 2 s


@pytest.fixture(scope="module")
def rogues_staked(tickets_stack: TicketStack, accounts: Any) -> Iterator[None]:
    """The rogue keys are funded and staked into the current epoch for this module, and leave
    afterwards."""
    settlement = tickets_stack.devnet.settlement
    assert settlement is not None
    with tickets_stack.ape():
        rogues = []
        for index in ROGUES.values():
            key = derive(index)
            rogue = accounts.init_test_account(index, key.address, key.private_key)
            if rogue.balance < 3 * ETHER:
                accounts[0].transfer(rogue, 3 * ETHER)
            if not settlement.stakes.getStaker(rogue).registered:
                settlement.stakes.register(b"\x11" * 32, value=2 * ETHER, sender=rogue)
            rogues.append(rogue)
        advance_epoch(tickets_stack)
    yield
    with tickets_stack.ape():
        for rogue in rogues:
            settlement.stakes.leave(sender=rogue)
        advance_epoch(tickets_stack)


def call_fast(stack: TicketStack, http: httpx.Client, mode: str = "fast") -> httpx.Response:
    response = http.get(stack.example("hello"), headers={"x-peerhost-mode": mode})
    assert response.status_code == 200, response.text
    assert response.text == "Hello from PeerHost!"
    return response


def attesters_of(response: httpx.Response) -> set[str]:
    return {w for w, _ in parse_attestations_header(response.headers["x-peerhost-attestations"])}


def mismatched(stack: TicketStack) -> Callable[[JobOffer, Any], None]:
    def answer(offer: JobOffer, socket: Any) -> None:
        claimed = keccak(b"what I attest")
        sig = attest(stack, ROGUES["mismatched_output"], offer, claimed)
        socket.send(encode_message(Answer(rid_of(stack, offer), claimed, b"other bytes", sig)))

    return answer


def foreign_signature(stack: TicketStack) -> Callable[[JobOffer, Any], None]:
    def answer(offer: JobOffer, socket: Any) -> None:
        output = b'{"fuel_used":0,"ok":true,"response":{"body":"forged","headers":{},"status":200},"v":1}'
        sig = attest(stack, OUTSIDER, offer, result_hash(output))  # not the rogue's own key
        socket.send(encode_message(Answer(rid_of(stack, offer), result_hash(output), output, sig)))

    return answer


def disconnect(offer: JobOffer, socket: Any) -> None:
    socket.close()


@pytest.mark.parametrize("case", ["mismatched_output", "foreign_signature", "disconnects"])
def test_attester__misbehaving__is_replaced_and_the_answer_is_honest(
    tickets_stack: TicketStack, http: httpx.Client, rogues_staked: None, case: str
) -> None:
    behaviour = {
        "mismatched_output": mismatched(tickets_stack),
        "foreign_signature": foreign_signature(tickets_stack),
        "disconnects": disconnect,
    }[case]
    index = ROGUES[case]
    rogue = RawWorker(tickets_stack, index, behaviour)
    try:
        deadline = time.monotonic() + 30
        while not rogue.jobs and time.monotonic() < deadline:
            response = call_fast(tickets_stack, http, "attested")
            assert derive(index).address not in attesters_of(response)
        assert rogue.jobs, "the gateway never pushed a ticket to the staked rogue"
        response = call_fast(tickets_stack, http, "attested")
        assert derive(index).address not in attesters_of(response)
        assert len(attesters_of(response)) == 2
    finally:
        rogue.close()


def test_outsider__unstaked__gets_no_tickets_and_its_answers_are_ignored(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    outsider = RawWorker(tickets_stack, OUTSIDER, lambda offer, socket: None)
    try:
        response = call_fast(tickets_stack, http)
        rid = bytes.fromhex(response.headers["x-peerhost-request-id"][2:])
        output = b"unsolicited"
        outsider.socket.send(encode_message(Answer(rid, result_hash(output), output, b"\x01" * 65)))
        for _ in range(5):
            response = call_fast(tickets_stack, http)
            assert derive(OUTSIDER).address not in attesters_of(response)
        assert outsider.jobs == []
    finally:
        outsider.close()
