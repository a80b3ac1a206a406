"""The worker's end of a hostile job feed (``worker_feed_corpus.json``): a real worker process is
linked to the devnet's gateway and to a hostile feed server holding that gateway's key (an
insider: its tickets carry a bonded, authorized gateway's signature). Each case is refused with a
reason (or dropped unanswered, or the link closed and opened again); no hostile ticket is
answered or attested; the worker keeps serving the real gateway."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from edge_ledger import assert_no_cost, ledger
from eth_utils import keccak
from hostile_gateway import HostileGateway
from ticket_stack import TicketStack

from peerhost.devnet.accounts import GATEWAY, derive, worker_key
from peerhost.publishing import Publisher, load_project
from peerhost.storage import open_store
from peerhost.wire.feed import ENGINE_PROFILE, Answer, JobOffer, Refusal, address_of, sign_digest
from peerhost.wire.headers import ATTESTATIONS_HEADER
from peerhost.wire.ids import function_id_of
from peerhost.wire.request import canonical_request
from peerhost.wire.ticket import MODE_FAST, Ticket, input_hash_of, request_id, ticket_digest

CORPUS = json.loads((Path(__file__).parent / "worker_feed_corpus.json").read_text())
CASES: list[dict[str, Any]] = CORPUS["cases"]
#: The stack's worker linked to the hostile gateway too.
VICTIM = 1
#: Hostile tickets use seqs from here (the real gateway's are far below).
SEQ_BASE = 10**12
LONELY_WAT = '(module (memory (export "memory") 1) (func (export "_start")))'


@dataclasses.dataclass
class Hostile:
    stack: TicketStack
    server: HostileGateway
    insider: bytes  # the devnet gateway's key
    stranger: bytes
    chain_id: int
    settlement: str
    lonely: bytes  # function id in a project that never authorized the gateway
    replayed: int  # a seq of the real gateway the worker already ran
    min_reward: int
    seq: int = SEQ_BASE
    now: int = 0  # the worker's clock: the later of this machine's and the chain's

    def tick(self) -> None:
        chain_now = int(self.stack.view(lambda view: view.block_timestamp()))
        self.now = max(int(time.time()), chain_now)

    def offer(self, spec: dict[str, Any]) -> str:
        """One job offer (encoded) per the corpus's ``offer`` keys."""
        stack = self.stack
        gateway_key = self.stranger if spec.get("names") == "stranger" else self.insider
        gateway = address_of(gateway_key)
        self.seq += 1
        seq = self.replayed if spec.get("seq") == "replayed" else self.seq
        rid = request_id(self.chain_id, self.settlement, gateway, seq)
        data = canonical_request(
            "GET",
            "/",
            {"pad": "x" * int(spec.get("input_bytes", 0))},
            {},
            b"",
            request_id=rid,
            block_timestamp=0,
            wallet=stack.owner,
            project=stack.examples,
            function="hello",
        )
        fid = function_id_of(stack.owner, stack.examples, "hello")
        if spec.get("function") == "unknown":
            fid = keccak(b"no such function")
        elif spec.get("function") == "unauthorized":
            fid = self.lonely
        now = self.now
        ticket = Ticket(
            gateway=gateway,
            seq=seq,
            function_id=fid,
            version=int(spec.get("version", 1)),
            input_hash=input_hash_of(data),
            reward=int(spec.get("reward", self.min_reward)),
            issued_at=now + int(spec.get("issued_at", 0)),
            deadline=now + int(spec.get("deadline", 300)),
            mode=int(spec.get("mode", MODE_FAST)),
            engine_profile=keccak(b"another engine")
            if spec.get("engine_profile") == "other"
            else ENGINE_PROFILE,
        )
        signer = self.stranger if spec.get("signer") == "stranger" else self.insider
        signature = sign_digest(signer, ticket_digest(self.chain_id, self.settlement, ticket))
        if spec.get("signature") == "garbage":
            signature = os.urandom(64) + b"\x1b"
        elif spec.get("signature") == "short":
            signature = os.urandom(10)
        if spec.get("input") == "mismatch":
            data += b" "
        doc = JobOffer(ticket, signature, data).to_doc()
        if "raw_input" in spec:
            doc["input"] = spec["raw_input"]
        return json.dumps(doc)


def attested_hostile(stack: TicketStack) -> list[tuple[int, bytes | None]]:
    """Hostile tickets the victim attested (a result hash recorded), or still holds claimed."""
    path = stack.devnet.worker_dir(VICTIM) / "attested.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT seq, result_hash FROM attested WHERE seq >= ? AND result_hash IS NOT NULL",
            (SEQ_BASE,),
        ).fetchall()
    return [(int(seq), result) for seq, result in rows]


def answered_by_victim(stack: TicketStack) -> bool:
    """A call through the real gateway in ``attested`` mode carries the victim's attestation."""
    victim = worker_key(VICTIM).address.lower()
    with httpx.Client(timeout=60.0) as http:
        behind = 0
        tries = 0
        while tries < 3:  # the gateway may have picked before the victim linked again
            response = http.get(
                stack.example("hello"),
                params={"name": "after"},
                headers={"x-peerhost-mode": "attested"},
            )
            if response.status_code == 503 and behind < 5:
                # admission control: the ticket of a case whose attester was away waited out the
                # attest grace before it could be posted; the call is refused for a moment (on a
                # loaded machine), with the wait it names
                assert response.json()["error"] == "PosterBehind", response.text[:300]
                behind += 1
                time.sleep(float(response.headers.get("retry-after", "3")))
                continue
            tries += 1
            if response.status_code == 504:  # no worker linked yet: the ticket timed out
                continue
            assert response.status_code == 200, response.text[:300]
            if victim in response.headers.get(ATTESTATIONS_HEADER, "").lower():
                return True
    return False


@pytest.fixture(scope="module")
def hostile(edge_stack: TicketStack, accounts: Any) -> Iterator[Hostile]:
    stack = edge_stack
    devnet = stack.devnet
    chain = devnet.chain_config
    assert chain is not None and chain.settlement is not None and devnet.deployment is not None
    insider = bytes.fromhex(derive(GATEWAY).private_key.removeprefix("0x"))
    server = HostileGateway(insider, chain.chain_id)
    url = server.start()
    devnet.wait_for_feeds(devnet.config.workers)
    assert answered_by_victim(stack)  # the victim has run tickets of the real gateway
    path = devnet.worker_dir(VICTIM) / "attested.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        (replayed,) = db.execute(
            "SELECT MIN(seq) FROM attested WHERE result_hash IS NOT NULL AND seq < ?",
            (SEQ_BASE,),
        ).fetchone()
    folder = devnet.state_dir / "lonely"
    (folder / "functions").mkdir(parents=True, exist_ok=True)
    (folder / "functions" / "lonely.wat").write_text(LONELY_WAT)
    with stack.ape():
        Publisher(
            devnet.deployment.registry, stack.developer, open_store(devnet.store_spec)
        ).publish(load_project(folder, "lonely"))
        min_reward = int(stack.view(lambda view: view.params())["minReward"])
    devnet.workers[VICTIM].stop(timeout=30.0)
    settings = devnet.worker_settings(VICTIM)
    devnet.workers[VICTIM] = devnet.launch_worker(VICTIM, gateways=f"{settings.gateways},{url}")
    try:
        server.wait_session(1)
        devnet.wait_for_feeds(devnet.config.workers)
        yield Hostile(
            stack=stack,
            server=server,
            insider=insider,
            stranger=os.urandom(32),
            chain_id=chain.chain_id,
            settlement=chain.settlement,
            lonely=function_id_of(stack.owner, "lonely", "lonely"),
            replayed=int(replayed),
            min_reward=min_reward,
        )
    finally:
        devnet.workers[VICTIM].stop(timeout=30.0)
        devnet.workers[VICTIM] = devnet.launch_worker(VICTIM)
        devnet.wait_for_feeds(devnet.config.workers)
        server.stop()


def _probe(h: Hostile) -> None:
    """The link still runs offers: an expired one gets its refusal."""
    h.server.send(h.offer({"issued_at": -20, "deadline": -10}))
    replies = h.server.collect(1, 30.0)
    assert replies and isinstance(replies[0], Refusal), replies
    assert "expired" in replies[0].reason, replies[0]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_worker_feed__hostile_gateway_case__refused_nothing_attested_keeps_serving(
    hostile: Hostile, case: dict[str, Any]
) -> None:
    h, server = hostile, hostile.server
    before = ledger(h.stack)
    h.tick()
    server.drain()
    sessions = server.sessions
    for step in case["send"]:
        if "offer" in step and "flood" not in step:
            server.send(h.offer(step["offer"]))
        elif "text" in step:
            server.send(step["text"])
        elif "binary_hex" in step:
            server.send(bytes.fromhex(step["binary_hex"]))
        elif "oversized" in step:
            server.send("x" * int(step["oversized"]))
        elif "flood" in step:
            offers = [h.offer(step["offer"]) for _ in range(int(step["flood"]))]
            for text in offers:
                server.send(text)
        elif "first_then_drop" in step:
            server.first = h.offer(step["first_then_drop"])
            server.drop()
    expect = case["expect"]
    if "refusal" in expect:
        count = int(expect.get("refusals", 1))
        replies = server.collect(count, 30.0 + count * 0.2)
        assert len(replies) == count, (case["why"], replies[:3])
        for reply in replies:
            assert isinstance(reply, Refusal), (case["why"], reply)
            assert expect["refusal"] in reply.reason, (case["why"], reply.reason)
    elif expect.get("ignored"):
        assert server.collect(1, 2.0) == [], case["why"]
        _probe(h)
    else:
        server.wait_session(sessions + int(expect.get("sessions", 2)) - 1)
        if expect["reconnect"] is not None:
            assert expect["reconnect"] in server.closes, server.closes
        assert not any(isinstance(r, Answer) for r in server.drain())
        _probe(h)
    assert not any(isinstance(r, Answer) for r in server.drain())
    assert attested_hostile(h.stack) == []
    assert_no_cost(before, ledger(h.stack))
    assert answered_by_victim(h.stack), "the worker no longer answers the real gateway"
