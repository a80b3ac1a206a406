"""Contracts as callers: PeerHostConsumer, PeerHostRouter and the settlement coordinator's single requests.

Every delivery is checked against what settlement finalized; relayers are anyone, so each rule has a
relayer that tries to break it: a wrong output, a tampered or foreign envelope, a replay, a result that
is not settled yet, a refunded leaf, too little gas for the callback.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak

from peerhost.chain.config import ChainConfig
from peerhost.chain.consumers import SingleRequest, single_request
from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import SettlementView
from peerhost.wire.envelope import Envelope, ErrorKind, failure

from .conftest import L_FINAL, L_REFUNDED, PROFILE, abstain

CALLBACK_GAS = 200_000
ST_PENDING, ST_DELIVERED, ST_FAILED, ST_NO_RESULT = 1, 2, 3, 4


def binary(output: bytes, fuel: int = 4321) -> bytes:
    """The canonical envelope of a run whose response body is ``output`` (base64 on the wire)."""
    return Envelope(
        ok=True,
        status=200,
        headers={"content-type": "application/octet-stream"},
        body=base64.b64encode(output).decode(),
        body_encoding="base64",
        fuel_used=fuel,
    ).encode()


@pytest.fixture
def k(ready):
    return ready


@pytest.fixture
def by(accounts_by_address):
    return lambda address: accounts_by_address[str(address)]


@pytest.fixture
def router(project, owner, k):
    return project.PeerHostRouter.deploy(
        k.coordinator, PROFILE, 600, 4096, 500_000, 8192, sender=owner
    )


@pytest.fixture
def consumer(project, developer, router):
    return project.ExampleConsumer.deploy(router, sender=developer)


class Flow:
    """Drives one consumer request through settlement."""

    def __init__(self, k: Any, by: Any, router: Any, consumer: Any, sender: Any) -> None:
        self.k, self.by, self.router, self.consumer, self.sender = k, by, router, consumer, sender

    def ask(self, data: bytes = b"input", gas: int = CALLBACK_GAS) -> tuple[bytes, int]:
        reward = 2 * self.k.params.min_reward
        tx = self.consumer.ask(self.k.function_id, data, gas, value=reward, sender=self.sender)
        event = tx.events.filter(self.router.Requested)[0]
        return bytes(event.requestId), int(event.batchId)

    def settle(
        self, batch_id: int, votes: dict[str, bytes] | bytes, *, window: bool = True
    ) -> list[str]:
        """Seats the committee; each holder commits and reveals its one-leaf vector."""
        holders = self.k.seat(batch_id)
        value = (lambda h: votes[h]) if isinstance(votes, dict) else (lambda h: votes)
        for h in holders:
            self.k.commit(batch_id, self.by(h), [value(h)])
        for h in holders:
            self.k.reveal(batch_id, self.by(h), [value(h)])
        if window:
            self.k.wait_challenge_window(batch_id)
        return holders


@pytest.fixture
def flow(k, by, router, consumer, requester):
    return Flow(k, by, router, consumer, requester)


# ------------------------------------------------------------------------------------------ delivery


@pytest.mark.parametrize(
    "output",
    [
        b"",
        b"\x01",
        encode(["uint256"], [2**256 - 1]),
        encode(["int256"], [-5]),
        "Chainlink-style string ✓".encode(),
        bytes(range(256)) + bytes(range(128)),
    ],
    ids=["empty", "one-byte", "uint256", "int256", "string", "384-bytes"],
)
def test_fulfill__settled_binary_body__consumer_receives_exact_bytes(
    flow, router, consumer, stranger, output
):
    rid, b = flow.ask(gas=500_000)  # the example stores what it gets: about 22k gas a word
    envelope = binary(output)
    flow.settle(b, keccak(envelope))
    tx = router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger)
    assert tx.events.filter(router.CallbackDelivered)[0].resultHash == keccak(envelope)
    got, error = consumer.answerOf(rid)
    assert bytes(got) == output
    assert bytes(error) == b""
    assert router.requestOf(rid).status == ST_DELIVERED


def test_fulfill__failed_run__error_is_the_settled_envelope(flow, router, consumer, stranger):
    rid, b = flow.ask()
    envelope = failure(ErrorKind.OUT_OF_FUEL, "fuel exhausted", 1000).encode()
    flow.settle(b, keccak(envelope))
    router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger)
    got, error = consumer.answerOf(rid)
    assert (bytes(got), bytes(error)) == (b"", envelope)


def test_fulfill__text_body__delivered_whole_as_error(flow, router, consumer, stranger):
    rid, b = flow.ask()
    envelope = Envelope(ok=True, status=200, headers={}, body="plain", fuel_used=7).encode()
    flow.settle(b, keccak(envelope))
    router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger)
    assert [bytes(x) for x in consumer.answerOf(rid)] == [b"", envelope]


@pytest.mark.parametrize(
    "body",
    [b"AB-_", "Aé=".encode(), b"ABC", b'AB\\"x', b"AAA\x01"],
    ids=["url-safe", "non-ascii", "not-a-multiple-of-4", "escaped-quote", "control"],
)
def test_fulfill__body_marked_base64_but_not_base64__delivered_whole_as_error(
    flow, router, consumer, stranger, body
):
    """Envelopes a worker never produces (its wire rejects them), settled anyway: the router does
    not decode what is not base64, it hands the consumer the settled envelope."""
    envelope = (
        b'{"fuel_used":9,"ok":true,"response":{"body":"'
        + body
        + b'","body_encoding":"base64","headers":{},"status":200},"v":1}'
    )
    rid, b = flow.ask()
    flow.settle(b, keccak(envelope))
    router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger)
    assert [bytes(x) for x in consumer.answerOf(rid)] == [b"", envelope]


def test_fulfill__envelope_over_size_cap__error_says_so(
    project, owner, k, by, developer, requester, stranger
):
    router = project.PeerHostRouter.deploy(
        k.coordinator, PROFILE, 600, 4096, 500_000, 64, sender=owner
    )
    consumer = project.ExampleConsumer.deploy(router, sender=developer)
    flow = Flow(k, by, router, consumer, requester)
    rid, b = flow.ask()
    envelope = binary(b"x" * 100)
    flow.settle(b, keccak(envelope))
    router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger)
    got, error = consumer.answerOf(rid)
    assert bytes(got) == b"" and b"size cap" in bytes(error)


# ------------------------------------------------------------------------------------------ relayers


def test_fulfill__wrong_output_or_tampered_envelope__reverts_not_settled(
    flow, router, stranger, reverts_with
):
    rid, b = flow.ask()
    envelope = binary(b"\x00" * 31 + b"\x07")
    flow.settle(b, keccak(envelope))
    for forged in (
        binary(b"\x00" * 31 + b"\x08"),  # another output
        binary(b"\x00" * 31 + b"\x07", fuel=1),  # same output, another envelope
        envelope[:-1],  # truncated
        envelope + b" ",
        b"",
    ):
        with reverts_with(router.ResultNotSettled):
            router.fulfill(rid, forged, flow.k.hl(b), sender=stranger)
    assert router.requestOf(rid).status == ST_PENDING
    router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger)


def test_fulfill__before_final_or_inside_challenge_window__reverts_not_settled(
    flow, router, k, stranger, reverts_with
):
    rid, b = flow.ask()
    envelope = binary(b"early")
    with reverts_with(router.ResultNotSettled):
        router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger)  # posted, not seated
    flow.settle(b, keccak(envelope), window=False)
    assert k.coordinator.leafState(b, 0) == L_FINAL
    with reverts_with(router.ResultNotSettled):
        router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger)  # final, still challengeable
    k.wait_challenge_window(b)
    router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger)


def test_fulfill__minority_value__reverts_and_majority_value_delivers(
    flow, router, consumer, k, stranger, reverts_with
):
    good, lie = binary(b"right"), binary(b"wrong")
    for _ in range(30):
        rid, b = flow.ask()
        holders = k.seat(b)
        seats = dict(zip(holders, (int(s) for s in k.holders_of(b)[1]), strict=True))
        liar = next((h for h in holders if seats[h] < k.params.quorum), None)
        if len(holders) > 1 and liar is not None:
            break
        for h in holders:  # no usable split in this draw: finish it honestly and try again
            k.commit(b, flow.by(h), [keccak(good)])
        for h in holders:
            k.reveal(b, flow.by(h), [keccak(good)])
    else:
        raise AssertionError("no draw gave a minority seat holder")
    votes = {h: keccak(lie) if h == liar else keccak(good) for h in holders}
    for h in holders:
        k.commit(b, flow.by(h), [votes[h]])
    for h in holders:
        k.reveal(b, flow.by(h), [votes[h]])
    if int(k.coordinator.phaseOf(b)) == 4:  # Settle: vectors differ, anyone finalizes
        k.coordinator.finalize(b, [[keccak(good)], [keccak(lie)]], k.hl(b), sender=stranger)
    k.wait_challenge_window(b)
    assert k.coordinator.leafState(b, 0) == L_FINAL
    with reverts_with(router.ResultNotSettled):
        router.fulfill(rid, lie, flow.k.hl(b), sender=stranger)
    router.fulfill(rid, good, flow.k.hl(b), sender=stranger)
    assert bytes(consumer.answerOf(rid)[0]) == b"right"


def test_fulfill__replayed__reverts_not_pending(flow, router, stranger, reverts_with):
    rid, b = flow.ask()
    envelope = binary(b"once")
    flow.settle(b, keccak(envelope))
    router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger)
    with reverts_with(router.NotPending):
        router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger)
    with reverts_with(router.UnknownRequest):
        router.fulfill(keccak(b"never registered"), envelope, flow.k.hl(b), sender=stranger)


def test_fulfill__too_little_gas_for_the_callback__reverts_and_stays_pending(
    project, owner, k, by, developer, requester, stranger, reverts_with
):
    router = project.PeerHostRouter.deploy(
        k.coordinator, PROFILE, 600, 4096, 5_000_000, 8192, sender=owner
    )
    consumer = project.ExampleConsumer.deploy(router, sender=developer)
    flow = Flow(k, by, router, consumer, requester)
    rid, b = flow.ask(gas=3_000_000)
    envelope = binary(b"gas")
    flow.settle(b, keccak(envelope))
    with reverts_with(router.InsufficientGas):
        router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger, gas=1_500_000)
    assert router.requestOf(rid).status == ST_PENDING
    router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger, gas=4_000_000)
    assert router.requestOf(rid).status == ST_DELIVERED


# ------------------------------------------------------------------------------------------ failing callbacks


@pytest.mark.parametrize(
    "revert_next,burn_gas", [(True, False), (False, True)], ids=["reverts", "out-of-gas"]
)
def test_fulfill__callback_fails__recorded_and_settlement_paid(
    flow, router, consumer, k, requester, stranger, revert_next, burn_gas
):
    consumer.misbehave(revert_next, burn_gas, sender=requester)
    rid, b = flow.ask()
    envelope = binary(b"unread")
    holders = flow.settle(b, keccak(envelope))
    owed = sum(int(k.coordinator.seatPayOf(b, h, k.hl(b))) for h in holders)
    assert owed > 0  # the committee's pay was set aside at finalization, before any delivery
    tx = router.fulfill(rid, envelope, flow.k.hl(b), sender=stranger)
    assert tx.events.filter(router.CallbackFailed)[0].requestId == rid
    assert router.requestOf(rid).status == ST_FAILED
    assert [bytes(x) for x in consumer.answerOf(rid)] == [b"", b""]
    assert k.coordinator.leafState(b, 0) == L_FINAL
    assert sum(int(k.coordinator.seatPayOf(b, h, k.hl(b))) for h in holders) == owed


# ------------------------------------------------------------------------------------------ no result


def test_expired_request__refund_reaches_consumer_and_no_result_reported(
    flow, router, consumer, k, chain, stranger, reverts_with
):
    rid, b = flow.ask()
    reward = int(k.coordinator.getBatch(b).reward)
    with reverts_with(router.ResultMayExist):
        router.reportNoResult(rid, sender=stranger)
    chain.mine(deltatime=k.params.seat_window + 1)
    k.coordinator.expire(b, sender=stranger)
    assert k.coordinator.leafState(b, 0) == L_REFUNDED
    with reverts_with(router.ResultNotSettled):
        router.fulfill(rid, binary(b"late"), flow.k.hl(b), sender=stranger)
    router.reportNoResult(rid, sender=stranger)
    assert router.requestOf(rid).status == ST_NO_RESULT
    assert b"no result" in bytes(consumer.answerOf(rid)[1])
    before = consumer.balance
    consumer.withdrawRefunds(sender=stranger)
    assert consumer.balance - before == reward
    with reverts_with(router.NotPending):
        router.reportNoResult(rid, sender=stranger)


def test_all_abstain__refunded_to_consumer_and_final_leaf_cannot_be_reported(
    flow, router, consumer, k, stranger, reverts_with
):
    rid, b = flow.ask()
    reward = int(k.coordinator.getBatch(b).reward)
    flow.settle(b, abstain(1)[0], window=False)
    assert k.coordinator.leafState(b, 0) == L_REFUNDED
    assert int(k.coordinator.pendingWithdrawal(consumer)) == reward
    router.reportNoResult(rid, sender=stranger)
    rid2, b2 = flow.ask()
    flow.settle(b2, keccak(binary(b"fine")))
    with reverts_with(router.ResultMayExist):
        router.reportNoResult(rid2, sender=stranger)


# ------------------------------------------------------------------------------------------ registration


def test_register__foreign_or_mismatched_batch__reverts(
    router, k, requester, stranger, reverts_with
):
    """The router publishes only a leaf its batch's root proves, and only for the batch's own payer."""
    version, deadline, mode, profile = router.terms(k.function_id)
    data = b"the input"
    tx = k.coordinator.requestExecution(
        k.function_id,
        version,
        keccak(data),
        mode,
        deadline,
        0,
        profile,
        value=k.params.min_reward,
        sender=requester,
    )
    b = int(tx.events.filter(k.coordinator.SingleRequested)[0].batchId)
    seq = (1 << 63) | b  # a single request's seq: 2^63 + its batch id
    with reverts_with(router.NotYourRequest):
        router.register(b, seq, k.function_id, version, deadline, data, 1, sender=stranger)
    for bad in (
        (seq + 1, version, deadline, data),
        (seq, version, deadline, b"another input"),
        (seq, version, deadline + 1, data),
    ):
        with reverts_with(router.LeafMismatch):
            router.register(b, bad[0], k.function_id, bad[1], bad[2], bad[3], 1, sender=requester)
    with reverts_with(router.CallbackGasTooHigh):
        router.register(b, seq, k.function_id, version, deadline, data, 10**7, sender=requester)
    tx = router.register(b, seq, k.function_id, version, deadline, data, 1, sender=requester)
    assert bytes(tx.events.filter(router.Requested)[0].input) == data
    with reverts_with(router.AlreadyRegistered):
        router.register(b, seq, k.function_id, version, deadline, data, 1, sender=requester)


def test_on_peerhost_result__not_the_router__reverts(consumer, stranger, reverts_with):
    with reverts_with(consumer.OnlyRouter):
        consumer.onPeerHostResult(bytes(32), b"forged", b"", sender=stranger)


# ------------------------------------------------------------------------------------------ workers' view


def _single(
    k: Any, chain: Any, deployment: Any, batch_id: int, blocks: tuple[Any, ...] = (0,)
) -> SingleRequest | None:
    """What a worker's committee reads for ``batch_id`` (peerhost.chain.consumers), its log
    searched in ``blocks`` (from, to)."""
    s = k.s
    config = ChainConfig(
        rpc_url=chain.provider.uri,
        ws_url=chain.provider.uri,
        chain_id=int(chain.chain_id),
        registry=str(deployment.registry.address),
        workers=str(deployment.workers.address),
        coordinator=str(deployment.coordinator.address),
        stakes=str(s.stakes.address),
        gateways=str(s.gateways.address),
        settlement=str(s.coordinator.address),
    )

    async def main() -> SingleRequest | None:
        rpc = RpcClient(config.rpc_url)
        try:
            return await single_request(SettlementView(config, rpc), batch_id, *blocks)
        finally:
            await rpc.aclose()

    return asyncio.run(main())


def test_single_request__registered_in_its_own_transaction__worker_reads_leaf_and_input(
    flow, router, consumer, k, chain, deployment
):
    rid, b = flow.ask(b'{"query":{"n":"3"}}')
    single = _single(k, chain, deployment, b)
    assert single is not None
    # what a committee asks: the post's block alone (a provider refuses long ranges)
    post = int(k.coordinator.SingleRequested.query("*", start_block=0).block_number.iloc[-1])
    assert _single(k, chain, deployment, b, (post, post)) == single
    assert _single(k, chain, deployment, b, (0, post - 1)) is None  # the bound is kept
    assert single.request_id == rid and single.input == b'{"query":{"n":"3"}}'
    assert single.router == router.address and single.consumer == consumer.address
    assert keccak(single.leaf.encode()) == bytes(k.coordinator.getBatch(b).root)


def test_single_request__registered_in_another_transaction__ignored_by_workers(
    router, k, chain, deployment, requester
):
    """Only the request's own transaction speaks for its input: a Requested event emitted later
    (by this router or any contract) is never taken as the committee's input."""
    version, deadline, mode, profile = router.terms(k.function_id)
    data = b"input"
    tx = k.coordinator.requestExecution(
        k.function_id, version, keccak(data), mode, deadline, 0, profile,
        value=k.params.min_reward, sender=requester,
    )  # fmt: skip
    b = int(tx.events.filter(k.coordinator.SingleRequested)[0].batchId)
    router.register(b, (1 << 63) | b, k.function_id, version, deadline, data, 1, sender=requester)
    assert _single(k, chain, deployment, b) is None


@pytest.mark.parametrize("name", ["PeerHostRouter", "ExampleConsumer"])
def test_deployed_code__consumer_contracts__fit_eip170(project, name):
    build = json.loads((Path(project.path) / ".build" / "__local__.json").read_text())
    size = (len(build["contractTypes"][name]["runtimeBytecode"]["bytecode"]) - 2) // 2
    assert 0 < size < 24_576, f"{name} is {size} bytes"
