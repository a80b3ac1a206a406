"""A worker refuses tickets that fail its checks, with a reason, and runs nothing for them.

The worker's ticket runner is driven in-process against the stack's real chain, store and sandbox;
the test plays a gateway that forges, replays, overspends or is not bonded.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from ticket_stack import TicketStack

from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import SettlementView
from peerhost.devnet.accounts import GATEWAY, REQUESTER, derive, worker_key
from peerhost.storage import open_store
from peerhost.wire.envelope import result_hash
from peerhost.wire.feed import ENGINE_PROFILE, Answer, JobOffer, Refusal, sign_digest
from peerhost.wire.ids import function_id_of
from peerhost.wire.request import canonical_request
from peerhost.wire.ticket import MODE_FAST, Ticket, input_hash_of, request_id, ticket_digest
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.execution import JobExecutor, SandboxRunner
from peerhost.worker.tickets import TicketRunner

Scenario = Callable[[TicketRunner, Callable[..., JobOffer]], Awaitable[Any]]


def run_scenario(stack: TicketStack, tmp_path: Path, scenario: Scenario) -> Any:
    devnet = stack.devnet
    chain = devnet.chain_config
    assert chain is not None
    gateway_key = bytes.fromhex(derive(GATEWAY).private_key.removeprefix("0x"))

    async def main() -> Any:
        rpc = RpcClient(chain.rpc_url)
        sandbox = SandboxRunner(devnet.sandbox_cache, 0)
        ledger = AttestedLedger(str(tmp_path / "attested.sqlite3"))
        try:
            view = SettlementView(chain, rpc)
            executor = JobExecutor(open_store(devnet.store_spec), sandbox.run, 10.0)
            key = bytes.fromhex(worker_key(0).private_key.removeprefix("0x"))
            runner = TicketRunner(view, executor, ledger, key, worker_key(0).address)
            fid = function_id_of(stack.owner, stack.examples, "hello")
            now = await runner.now()
            params = await view.params()
            seq_base = 10**9 + int.from_bytes(tmp_path.name.encode()[-4:], "big")

            def offer(
                *,
                seq: int = 0,
                signer: bytes = gateway_key,
                gateway: str = derive(GATEWAY).address,
                **changes: Any,
            ) -> JobOffer:
                rid = request_id(chain.chain_id, chain.settlement, gateway, seq_base + seq)
                data = canonical_request(
                    "GET",
                    "/",
                    {},
                    {},
                    b"",
                    request_id=rid,
                    block_timestamp=0,
                    wallet=stack.owner,
                    project=stack.examples,
                    function="hello",
                )
                ticket = Ticket(
                    gateway=gateway,
                    seq=seq_base + seq,
                    function_id=fid,
                    version=1,
                    input_hash=input_hash_of(data),
                    reward=int(params["minReward"]),
                    issued_at=now,
                    deadline=now + 300,
                    mode=MODE_FAST,
                    engine_profile=ENGINE_PROFILE,
                )
                ticket = dataclasses.replace(ticket, **changes)
                sig = sign_digest(signer, ticket_digest(chain.chain_id, chain.settlement, ticket))
                return JobOffer(ticket, sig, data)

            return await scenario(runner, offer)
        finally:
            ledger.close()
            await sandbox.close()
            await rpc.aclose()

    return asyncio.run(main())


def refusal(reply: Answer | Refusal) -> str:
    assert isinstance(reply, Refusal), f"expected a refusal, got an answer {reply}"
    return reply.reason


GW = derive(GATEWAY).address


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("forged", "not signed by the gateway"),
        ("expired", "expired"),
        ("skewed", "more than 30 s"),
        ("profile", "engine profile"),
        ("overspent", "does not cover this ticket"),
        ("unbonded", "bond"),
        ("other_feed", "not this feed"),
        ("bad_input", "inputHash"),
    ],
)
def test_ticket__failing_a_check__is_refused_with_the_reason(
    tickets_stack: TicketStack, tmp_path: Path, case: str, expected: str
) -> None:
    async def scenario(runner: TicketRunner, offer: Callable[..., JobOffer]) -> str:
        now = await runner.now()
        feed = GW
        if case == "forged":
            made = offer(signer=bytes.fromhex(derive(REQUESTER).private_key.removeprefix("0x")))
        elif case == "expired":
            made = offer(issued_at=now - 20, deadline=now - 10)
        elif case == "skewed":
            made = offer(issued_at=now + 120, deadline=now + 400)
        elif case == "profile":
            made = offer(engine_profile=keccak(b"another engine"))
        elif case == "overspent":
            made = offer(reward=10**27)
        elif case == "unbonded":
            requester = derive(REQUESTER)
            made = offer(
                signer=bytes.fromhex(requester.private_key.removeprefix("0x")),
                gateway=requester.address,
            )
            feed = requester.address
        elif case == "other_feed":
            made = offer()
            feed = derive(REQUESTER).address
        else:
            good = offer()
            made = dataclasses.replace(good, input=good.input + b" ")
        reason = refusal(await runner.handle(made, feed))
        assert runner.attested == 0
        return reason

    assert expected in run_scenario(tickets_stack, tmp_path, scenario)


def test_ticket__pushed_twice__is_run_once_then_refused_as_a_replay(
    tickets_stack: TicketStack, tmp_path: Path
) -> None:
    async def scenario(runner: TicketRunner, offer: Callable[..., JobOffer]) -> tuple[Any, Any]:
        made = offer(seq=1)
        return await runner.handle(made, GW), await runner.handle(made, GW)

    first, second = run_scenario(tickets_stack, tmp_path, scenario)
    assert isinstance(first, Answer)
    assert result_hash(first.output) == first.result_hash
    assert "replay" in refusal(second)
