"""The fast call's own CPU, step by step, in one process: what the gateway and an attester do
per ticket, without the processes, sockets and chain between them.

    . bin/env && python bench/call_steps.py                 # 3,000 rounds, medians in µs
    . bin/env && python bench/call_steps.py --rounds 10000 --json

Each step is the package's own code on real objects (a ticket book and an attested ledger in
SQLite files of a temporary directory, real keys, the js ``hello`` envelope's bytes), run back to
back for ``--rounds`` rounds; a round runs every step once, in the order a fast call passes them,
so the caches are as warm as in a busy process (a real process, woken per call, is slower in
every step: ``bench/e2e_bench.py --trace`` times the steps there). Prints the median of each
step and the sums for the gateway and the attester, with the load average.

Gateway: the call's path and status URL read from the request (``urls``), the URL resolved to a
function id (``resolve``), admission control's backlog of unposted
tickets read (``admit``: the book's tickets are posted every :data:`POSTED_EVERY` rounds, as a
poster posting once a second at 100 calls/s would), a linked active worker found and two of the
three linked picked (``pick``), the canonical request built and the ticket signed (``ticket``), the ticket written to the book (``persist``), the offer encoded
(``offer``), each of two answers decoded and verified (``answer``: result hash, attestation
recovered) and recorded (``record``), the HTTP response's headers built (``respond``).
Attester: the offer decoded (``decode``), the ticket checked (``check``: the gateway's signature
recovered, input hash, request id), claimed in the ledger (``claim``), the attestation signed
(``sign``), written (``attest``) and the answer encoded (``send``). Apart from the per-ticket sum:
the attester's co-signature of a posted batch holding that one ticket (``cosign``: the batch of
one block on automine, where the poster posts at every block), its leaf checked against the ledger.

Run it on two checkouts to compare (``PYTHONPATH=<other checkout> python bench/call_steps.py``):
the bench only calls functions both have.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from peerhost.gateway.feed import FeedHub, WorkerLink
from peerhost.gateway.ticketbook import TicketBook
from peerhost.wire.batch import Leaf, batch_root
from peerhost.wire.credentials import seal
from peerhost.wire.envelope import Envelope, decode_envelope, result_hash
from peerhost.wire.feed import (
    ENGINE_PROFILE,
    Answer,
    CosignRequest,
    DigestSigner,
    JobOffer,
    address_of,
    attestations_header,
    decode_message,
    encode_message,
    recover_digest,
)
from peerhost.wire.headers import (
    ATTESTATIONS_HEADER,
    MODE_HEADER,
    REQUEST_ID_HEADER,
    RESULT_HASH_HEADER,
    TICKET_HASH_HEADER,
    WORKER_HEADER,
)
from peerhost.wire.ids import checksummed, function_id_of, project_id_of
from peerhost.wire.request import canonical_request
from peerhost.wire.ticket import (
    Ticket,
    attestation_digest,
    input_hash_of,
    request_id,
    ticket_digest,
    ticket_hash,
)
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.cosign import Cosigner

try:
    from peerhost.gateway.calls import answer_response
except ImportError:  # an older checkout (module docstring)
    answer_response = None  # type: ignore[assignment]
try:
    from peerhost.gateway.calls import path_of
except ImportError:  # an older checkout: what Call.serve read there

    def path_of(request: Request) -> str:
        return request.url.path


from peerhost.gateway.calls import status_url

CHAIN_ID = 31337
SETTLEMENT = checksummed("0x2279b7a0a67db372996a5fab50d91eaa73d2eb6e")
WALLET = checksummed("0x70997970c51812dc3a010c7d01b50e0d17dc79c8")
#: What the js hello answers (its envelope's bytes as a worker sends them).
ENVELOPE = Envelope(
    ok=True,
    status=200,
    headers={"content-type": "text/plain"},
    body="Hello from PeerHost!",
    fuel_used=2141263,
).encode()
#: Rounds between two batch posts of the book's tickets (module docstring).
POSTED_EVERY = 100
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"connection", b"keep-alive"),
    (b"user-agent", b"python-httpx/0.28.1"),
]


class Steps:
    """Times named steps; each step's samples in ns."""

    def __init__(self) -> None:
        self.samples: dict[str, list[int]] = {}

    def run(self, name: str, step: Callable[[], Any]) -> Any:
        start = time.perf_counter_ns()
        out = step()
        self.samples.setdefault(name, []).append(time.perf_counter_ns() - start)
        return out

    def medians(self) -> dict[str, float]:
        return {k: round(statistics.median(v) / 1000, 1) for k, v in self.samples.items()}


def rounds(count: int, workdir: Path) -> Steps:
    gateway_key, worker_keys = os.urandom(32), [os.urandom(32), os.urandom(32)]
    gateway = address_of(gateway_key)
    workers = [address_of(k) for k in worker_keys]
    gw_signer = DigestSigner(gateway_key)
    w_signers = [DigestSigner(k) for k in worker_keys]
    book = TicketBook(workdir / "tickets.sqlite3")
    ledgers = [AttestedLedger(str(workdir / f"attested-{i}.sqlite3")) for i in range(2)]
    cosigners = [
        Cosigner(ledger, key, CHAIN_ID, SETTLEMENT)
        for ledger, key in zip(ledgers, worker_keys, strict=True)
    ]
    hub = FeedHub(gateway, CHAIN_ID, seed=1)
    for i, worker in enumerate([*workers, address_of(os.urandom(32))]):
        hub.links[worker] = WorkerLink(worker, None, latency=0.001 * (i + 1))  # type: ignore[arg-type]
    steps = Steps()
    for n in range(count):
        one_round(steps, book, hub, ledgers, gateway, gw_signer, workers, w_signers, cosigners)
        if n % POSTED_EVERY == POSTED_EVERY - 1:  # the poster's tick: not timed
            seqs = [t.ticket.seq for t in book.in_state("issued")]
            book.mark_posting(seqs, n.to_bytes(32, "big"), b"salt", b"opening")
            book.mark_posted(seqs, n)
    book.close()
    for ledger in ledgers:
        ledger.close()
    return steps


def one_round(
    steps: Steps,
    book: TicketBook,
    hub: FeedHub,
    ledgers: list[AttestedLedger],
    gateway: str,
    gw_signer: DigestSigner,
    workers: list[str],
    w_signers: list[DigestSigner],
    cosigners: list[Cosigner],
) -> None:
    """One fast ticket: the gateway's steps and two attesters' (module docstring)."""
    # ---- gateway: the call in ----
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": f"/{WALLET}/bench/hello",
            "query_string": b"",
            "headers": HEADERS,
            "scheme": "http",
            "server": ("127.0.0.1", 8000),
            "root_path": "",
        }
    )
    steps.run(
        "g.urls",
        lambda: (path_of(request), status_url(request, bytes(32))),
    )
    fid = steps.run("g.resolve", lambda: function_id_of(WALLET, "bench", "hello"))
    pid = project_id_of(WALLET, "bench")
    steps.run("g.admit", book.backlog)
    lowered = {w.lower() for w in hub.links}

    def active(worker: str) -> bool:
        return worker.lower() in lowered

    def pick() -> list[WorkerLink]:
        # before anything is signed: is any active worker linked (pick(…, 1) on older checkouts)
        any_linked = getattr(hub, "any_linked", None)
        assert any_linked(active) if any_linked is not None else hub.pick(active, 1, set())
        return hub.offer(active, 2, set())

    steps.run("g.pick", pick)
    seq, total = book.allocate(10**15)

    def sign() -> tuple[Ticket, bytes, bytes, bytes]:
        call_headers, _ = seal(
            {k.decode("latin-1"): v.decode("latin-1") for k, v in HEADERS}, frozenset()
        )
        rid = request_id(CHAIN_ID, SETTLEMENT, gateway, seq)
        data = canonical_request(
            "GET",
            "/",
            {},
            call_headers,
            b"",
            request_id=rid,
            block_timestamp=0,
            wallet=WALLET,
            project="bench",
            function="hello",
        )
        now = int(time.time())
        ticket = Ticket(
            gateway=gateway,
            seq=seq,
            function_id=fid,
            version=1,
            input_hash=input_hash_of(data),
            reward=10**15,
            issued_at=now,
            deadline=now + 600,
            mode=0,
            secrets_version=12,
            engine_profile=ENGINE_PROFILE,
            issued_total=total,
        )
        signature = gw_signer.sign(ticket_digest(CHAIN_ID, SETTLEMENT, ticket))
        return ticket, rid, signature, data

    ticket, rid, signature, data = steps.run("g.ticket", sign)
    steps.run("g.persist", lambda: book.save(ticket, rid, pid, signature, data))
    text = steps.run("g.offer", lambda: encode_message(JobOffer(ticket, signature, data)))
    answers = []
    for i, (ledger, signer) in enumerate(zip(ledgers, w_signers, strict=True)):
        # ---- attester ----
        offer = steps.run("w.decode", lambda: decode_message(text))
        assert isinstance(offer, JobOffer)

        def check(offer: JobOffer = offer) -> bytes:
            t = offer.ticket
            signer_ = recover_digest(ticket_digest(CHAIN_ID, SETTLEMENT, t), offer.signature)
            assert signer_ == t.gateway
            assert input_hash_of(offer.input) == t.input_hash
            return request_id(CHAIN_ID, SETTLEMENT, t.gateway, t.seq)

        wrid = steps.run("w.check", check)
        steps.run(
            "w.claim",
            lambda ledger=ledger, offer=offer, wrid=wrid: ledger.claim(
                offer.ticket, wrid, pid, offer.signature
            ),
        )

        def attest(offer: JobOffer = offer, signer: DigestSigner = signer) -> Any:
            result = result_hash(ENVELOPE)
            digest = attestation_digest(CHAIN_ID, SETTLEMENT, ticket_hash(offer.ticket), result)
            return result, signer.sign(digest)

        result, attestation = steps.run("w.sign", attest)
        steps.run(
            "w.attest",
            lambda ledger=ledger, offer=offer, result=result, attestation=attestation: (
                ledger.attest(offer.ticket, result, attestation)
            ),
        )
        reply = steps.run(
            "w.send",
            lambda wrid=wrid, result=result, attestation=attestation: encode_message(
                Answer(wrid, result, ENVELOPE, attestation, b"")
            ),
        )

        # ---- gateway: the answer in ----
        def verify(reply: str = reply, worker: str = workers[i]) -> Answer:
            answer = decode_message(reply)
            assert isinstance(answer, Answer)
            assert result_hash(answer.output) == answer.result_hash
            digest = attestation_digest(
                CHAIN_ID, SETTLEMENT, ticket_hash(ticket), answer.result_hash
            )
            assert recover_digest(digest, answer.attestation) == worker
            return answer

        leaf = Leaf.of(offer.ticket)
        batch = CosignRequest(seq + 1, batch_root([leaf]), leaf.encode(), 1, (result,))
        cosigned = steps.run(
            "w.cosign",
            lambda batch=batch, cosigner=cosigners[i]: cosigner.handle(batch, gateway),
        )
        assert cosigned is not None

        answer = steps.run("g.answer", verify)
        answers.append((workers[i], answer.result_hash, answer.attestation))
        steps.run(
            "g.record",
            lambda: book.record_attestations(rid, list(answers), answers[0][1]),
        )

    # ---- gateway: the response out ----
    def respond() -> Response:
        extra = {
            RESULT_HASH_HEADER: "0x" + answers[0][1].hex(),
            WORKER_HEADER: answers[0][0],
            ATTESTATIONS_HEADER: attestations_header([answers[0][::2]]),
            TICKET_HASH_HEADER: "0x" + ticket_hash(ticket).hex(),
            REQUEST_ID_HEADER: "0x" + rid.hex(),
            MODE_HEADER: "fast",
        }
        if answer_response is not None:
            return answer_response(ENVELOPE, extra)[0]
        # a checkout before answer_response: what Call._respond did there
        status, fn_headers, content = decode_envelope(ENVELOPE).to_http()
        response = Response(content, status_code=status)
        for name, value in [*fn_headers.items(), *extra.items()]:
            response.headers[name] = value
        return response

    steps.run("g.respond", respond)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="call-steps-") as tmp:
        rounds(200, Path(tmp) / "warm")  # imports, caches, the first pages of the files
        steps = rounds(args.rounds, Path(tmp) / "run")
    medians = steps.medians()
    # the gateway handles two answers per fast ticket (its second attester's too)
    gateway = sum(
        v * (2 if k in ("g.answer", "g.record") else 1)
        for k, v in medians.items()
        if k.startswith("g.")
    )
    attester = sum(v for k, v in medians.items() if k.startswith("w.") and k != "w.cosign")
    report = {
        "rounds": args.rounds,
        "median_us": medians,
        "gateway_us_per_ticket": round(gateway, 1),
        "attester_us_per_ticket": round(attester, 1),
        "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "package": str(Path(sys.modules["peerhost"].__file__ or "").parent),
    }
    if args.json:
        print(json.dumps(report))
        return
    for name, value in medians.items():
        print(f"{value:>8.1f} µs  {name}")
    print(f"{report['gateway_us_per_ticket']:>8.1f} µs  gateway per fast ticket (two answers)")
    print(f"{report['attester_us_per_ticket']:>8.1f} µs  attester per ticket")
    print(f"load {report['load'][0]}-{report['load'][1]}; package {report['package']}")


if __name__ == "__main__":
    main()
