"""The strategies that coordinate an owner's identities, and the worker hooks they act through:
the committee's ``ballot`` (what a seat commits, whether it reveals) and the courts' ``challenge``,
``present`` and ``tier_vote`` (peerhost.worker.strategies, docs/economics.md)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from worker_jobs import local_job

from peerhost.chain.settlement import holder_words
from peerhost.wire.batch import ABSTAIN, Leaf, seat_commitment, vector_hash
from peerhost.wire.envelope import Envelope, result_hash
from peerhost.worker.accountability import Accountability
from peerhost.worker.attested import AttestedLedger
from peerhost.worker.committee import Committee, SeatBallot, SeatContext
from peerhost.worker.duties import DutyLog, seat_key
from peerhost.worker.errors import InvalidWorkerSettings
from peerhost.worker.execution import Execution
from peerhost.worker.strategies import (
    CARTEL_STRATEGIES,
    cartel_lie,
    check_strategy,
    worker_strategy,
)

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
CAROL = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
CARTEL = f"{ALICE},{BOB}"
TRUTH = b"\x11" * 32
OTHER = b"\x22" * 32
HONEST = Envelope(ok=True, status=200, headers={}, body="42", fuel_used=7).encode()
SETTLEMENT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def _ctx(seats: dict[str, int], vector: tuple[bytes, ...] = (TRUTH, ABSTAIN, TRUTH)) -> SeatContext:
    rids = tuple(bytes([i + 1]) * 32 for i in range(len(vector)))
    return SeatContext(7, rids, vector, {k.lower(): v for k, v in seats.items()}, 2)


def _ballot(name: str, ctx: SeatContext, identity: str = ALICE) -> SeatBallot:
    hook = worker_strategy(name, identity, CARTEL).ballot_hook()
    assert hook is not None
    return asyncio.run(hook(ctx))


# ---- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["withholder", "captured-committee", "self-dealing"])
def test_cartel_strategy__no_cartel__refused_with_what_to_give(name: str):
    assert name in CARTEL_STRATEGIES
    with pytest.raises(InvalidWorkerSettings, match="give --cartel 0xA,0xB"):
        worker_strategy(name, ALICE)


def test_cartel__not_an_address__refused_naming_it():
    with pytest.raises(InvalidWorkerSettings, match="0xnope is not an address"):
        check_strategy("withholder", f"{ALICE},0xnope")


def test_spam_challenger__no_cartel__accepted():
    assert check_strategy("spam-challenger", "") == "spam-challenger"


def test_cartel_lie__two_identities_of_one_owner__derive_the_same_lie():
    mine = worker_strategy("captured-committee", ALICE, CARTEL)
    theirs = worker_strategy("captured-committee", BOB, BOB.lower() + "," + ALICE)
    stranger = worker_strategy("captured-committee", CAROL, CAROL)
    assert mine.owner_tag == theirs.owner_tag != stranger.owner_tag
    assert cartel_lie(mine.owner_tag, 7, 0) != cartel_lie(mine.owner_tag, 7, 1)
    assert cartel_lie(mine.owner_tag, 7, 0) not in (ABSTAIN, TRUTH)


def test_honest_and_execution_strategies__install_no_committee_or_court_hook():
    for name in ("honest", "lazy", "forger", "griefer", "random-liar", "no-show"):
        s = worker_strategy(name, ALICE)
        hooks = (s.ballot_hook(), s.challenge_hook(), s.present_hook(), s.tier_vote_hook())
        assert hooks == (None, None, None, None), name
    assert worker_strategy("honest", ALICE).execution_hook() is None
    assert worker_strategy("withholder", ALICE, CARTEL).execution_hook() is None  # attests truly


# ---- ballot hook ----------------------------------------------------------------------------


def test_withholder__owner_short_of_quorum__commits_its_lie_and_withholds_the_reveal():
    ballot = _ballot("withholder", _ctx({ALICE: 1, CAROL: 2}))
    tag = worker_strategy("withholder", ALICE, CARTEL).owner_tag
    assert ballot.vector == (cartel_lie(tag, 7, 0), ABSTAIN, cartel_lie(tag, 7, 2))
    assert ballot.reveal is False


def test_withholder__owner_holds_quorum_across_identities__reveals_its_lie():
    ballot = _ballot("withholder", _ctx({ALICE: 1, BOB: 1, CAROL: 1}))
    assert ballot.reveal is True
    assert TRUTH not in ballot.vector


def test_captured_committee__owner_short_of_quorum__votes_its_results():
    assert _ballot("captured-committee", _ctx({ALICE: 1, CAROL: 2})) == SeatBallot(
        (TRUTH, ABSTAIN, TRUTH)
    )


def test_captured_committee__owner_holds_quorum__both_identities_reveal_one_lie():
    ctx = _ctx({ALICE: 1, BOB: 1, CAROL: 1})
    mine, theirs = _ballot("captured-committee", ctx), _ballot("captured-committee", ctx, BOB)
    assert mine == theirs
    assert mine.reveal and mine.vector[1] == ABSTAIN and TRUTH not in mine.vector


def test_self_dealing__leaf_it_lied_on__votes_the_honest_result_it_ran():
    s = worker_strategy("self-dealing", ALICE, CARTEL)
    hook = s.execution_hook()
    assert hook is not None
    job = local_job(1)

    async def run() -> Execution:
        return Execution(HONEST, True, 7, 0.0, 0.0)

    attested = asyncio.run(hook(job, run)).envelope
    assert attested != HONEST  # its attestation is its owner's lie
    ctx = SeatContext(7, (job.request_id, b"\x09" * 32), (result_hash(attested), OTHER), {}, 2)
    ballot = _ballot_of(s, ctx)
    assert ballot == SeatBallot((result_hash(HONEST), OTHER))


def _ballot_of(s: Any, ctx: SeatContext) -> SeatBallot:
    hook = s.ballot_hook()
    assert hook is not None
    result: SeatBallot = asyncio.run(hook(ctx))
    return result


# ---- court hooks ----------------------------------------------------------------------------


def _court(**hooks: Any) -> Accountability:
    return Accountability(
        None,  # type: ignore[arg-type]  # the rules below read no chain
        ALICE,
        leaves_of=None,  # type: ignore[arg-type]
        leaf_result=None,  # type: ignore[arg-type]
        attested=lambda gateway, seq: None,
        gateway_urls=dict,
        duties=DutyLog(":memory:"),
        **hooks,
    )


def test_challenge_rule__no_hook__challenges_only_what_contradicts_it():
    court = _court()
    assert court._challenges(7, 0, TRUTH, OTHER)
    assert not court._challenges(7, 0, TRUTH, TRUTH)
    assert not court._challenges(7, 0, ABSTAIN, OTHER)


def test_spam_challenger__challenge_hook__challenges_only_values_it_agrees_with():
    court = _court(challenge=worker_strategy("spam-challenger", ALICE).challenge_hook())
    assert court._challenges(7, 0, TRUTH, TRUTH)
    assert not court._challenges(7, 0, TRUTH, OTHER)
    assert not court._challenges(7, 0, ABSTAIN, ABSTAIN)


def test_present_rule__no_hook__seats_present_others_never_themselves():
    court = _court()
    assert court._presents(BOB, seat=True)
    assert not court._presents(ALICE, seat=True)
    assert not court._presents(BOB, seat=False)


def test_self_dealing__present_hook__presents_its_owners_attestations_even_without_a_seat():
    court = _court(present=worker_strategy("self-dealing", ALICE, CARTEL).present_hook())
    assert court._presents(ALICE, seat=False) and court._presents(BOB.lower(), seat=False)
    assert not court._presents(CAROL, seat=False)
    assert court._presents(CAROL, seat=True)  # as a seat it also presents as honest seats do


def test_tier_votes__captured_committee_stands_by_its_lie_only_where_it_stands():
    s = worker_strategy("captured-committee", ALICE, CARTEL)
    vote = s.tier_vote_hook()
    assert vote is not None
    lie = cartel_lie(s.owner_tag, 7, 0)
    assert vote(7, 0, b"\x01" * 32, TRUTH, lie) == lie
    assert vote(7, 0, b"\x01" * 32, TRUTH, OTHER) == TRUTH


def test_tier_votes__withholder_votes_its_lie_self_dealer_the_truth_it_ran():
    w = worker_strategy("withholder", ALICE, CARTEL)
    hook = w.tier_vote_hook()
    assert hook is not None and hook(7, 0, b"\x01" * 32, TRUTH, TRUTH) == cartel_lie(
        w.owner_tag, 7, 0
    )
    d = worker_strategy("self-dealing", ALICE, CARTEL)
    d.honest[b"\x01" * 32] = TRUTH  # type: ignore[attr-defined]
    vote = d.tier_vote_hook()
    assert vote is not None and vote(7, 0, b"\x01" * 32, OTHER, OTHER) == TRUTH


# ---- the ballot hook in a seat's duty ----------------------------------------------------------

_COMMIT, _REVEAL, _FINALIZED = 2, 3, 5
LEAVES = [
    Leaf(s, b"\x02" * 32, 1, b"\x03" * 32, 10**15, 1_700_000_000, 1_700_000_600, 1) for s in (1, 2)
]


class _Chain:
    """The settlement calls a seat's duty makes, recorded (phases move on each transaction)."""

    def __init__(self) -> None:
        self.config = type("Config", (), {"chain_id": 31337, "settlement": SETTLEMENT})()
        self.phase = _COMMIT
        self.sent: list[tuple[str, tuple[Any, ...]]] = []
        self.polls = 0
        self.vote = bytes(32)
        self.blocks = 0

    async def phase_of(self, batch_id: int) -> int:
        if self.phase == _REVEAL:
            self.polls += 1
            if self.polls > 3:  # the reveal window ends
                self.phase = _FINALIZED
        return self.phase

    async def holders_of(
        self, batch_id: int, *, fresh: bool = False
    ) -> tuple[list[str], list[int]]:
        return [ALICE, CAROL], [1, 2]

    async def holder_list(self, batch_id: int) -> list[int]:
        return holder_words(*await self.holders_of(batch_id))

    async def get_batch(self, batch_id: int) -> dict[str, Any]:
        phase = await self.phase_of(batch_id)  # the record of a batch in that phase
        return {
            "auditMask": 0b11,
            "gateway": CAROL,
            "state": 3 if phase == _FINALIZED else 2,  # BatchState Finalized, Seated
            "holderCount": 2,
            "committedBits": 0b11 if phase == _REVEAL else 0,
            "revealedBits": 0,
            "commitDeadline": 2**40,
            "revealDeadline": 2**41,
        }

    async def head_info(self) -> tuple[int, str, int]:
        self.blocks += 1  # a block per read: the duty reads the batch again each time
        return self.blocks, hex(self.blocks), 1_700_000_000

    async def head(self) -> tuple[int, int]:
        return self.blocks, 1_700_000_000  # the clock rule reads the head before the pending block

    @property
    def rpc(self) -> Any:
        return self  # the node's own calls: no pending block (the head's clock is used)

    async def call(self, method: str, params: list[Any]) -> Any:
        assert (method, params) == ("eth_getBlockByNumber", ["pending", False]), method
        return None

    async def vote_of(self, batch_id: int, holder: str) -> bytes:
        return self.vote  # the seat's commitment once committed, its vector hash once revealed

    async def params(self) -> dict[str, int]:
        return {"quorum": 2, "commitWindow": 120}

    async def send(self, name: str, *args: Any) -> str:
        self.sent.append((name, args))
        if name == "commit":
            self.phase, self.vote = _REVEAL, args[1]
        elif name == "reveal":
            self.vote = args[1]
        return "0x"

    async def confirm(self, tx: str, name: str) -> dict[str, Any]:
        return {}


def _duty(ballot: Any) -> tuple[_Chain, list[Any], tuple[bytes, bytes]]:
    chain = _Chain()
    seen: list[Any] = []
    saved: list[tuple[bytes, bytes]] = []

    async def main() -> None:
        committee = Committee(
            chain,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]  # results come from _result below
            AttestedLedger(":memory:"),
            b"\x01" * 32,
            ALICE,
            dict,
            poll=0.0,
            ballot=ballot,
        )
        committee._batches[7] = (CAROL, LEAVES)

        async def result(*args: Any) -> bytes:
            return TRUTH

        async def on_batch(batch_id: int, vector: Any) -> None:
            seen.append(vector)

        committee._result = result  # type: ignore[method-assign]
        committee.accountability.on_batch = on_batch  # type: ignore[method-assign]
        try:
            await committee.duty(7, {})
            opening = committee.duties.get(seat_key(7))
            assert opening is not None
            saved.append(opening)
        finally:
            await committee.close()

    asyncio.run(main())
    return chain, seen, saved[0]


def test_seat_duty__no_ballot_hook__commits_and_reveals_its_results():
    chain, seen, _ = _duty(None)
    assert [name for name, _ in chain.sent] == ["commit", "reveal"]
    assert chain.sent[1][1][3] == [TRUTH, TRUTH]
    assert seen == [[TRUTH, TRUTH]]


def test_seat_duty__withholding_ballot__commits_the_hooks_vector_and_never_reveals():
    withholder = worker_strategy("withholder", ALICE, CARTEL)
    chain, seen, (packed, salt) = _duty(withholder.ballot_hook())
    assert [name for name, _ in chain.sent] == ["commit"]  # ALICE's owner holds 1 of 3 seats
    lie = [cartel_lie(withholder.owner_tag, 7, i) for i in range(2)]
    assert packed == b"".join(lie)
    (_, commitment, _) = chain.sent[0][1]
    assert commitment == seat_commitment(31337, SETTLEMENT, 7, ALICE, vector_hash(lie), salt)
    assert seen == [None]  # nothing revealed: no court duty as a seat


# ---- the command line ---------------------------------------------------------------------------


def _main(tmp_path: Any, *flags: str) -> int:
    from peerhost.chain import ChainConfig
    from peerhost.worker.cli import main

    path = tmp_path / "chain.json"
    ChainConfig("http://127.0.0.1:1", "ws://127.0.0.1:1", 31337, ALICE, ALICE, ALICE).save(path)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # the command sends logs to (captured) stderr
    try:
        return main(
            ["--chain-config", str(path), *flags], {"PEERHOST_WORKER_KEY": "0x" + "01" * 32}
        )
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_worker_command__cartel_strategy_without_cartel__exits_2_saying_what_to_give(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
):
    assert _main(tmp_path, "--strategy", "captured-committee") == 2
    assert "give --cartel 0xA,0xB" in capsys.readouterr().err


def test_worker_command__unknown_strategy__exits_2_naming_the_known_ones(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
):
    assert _main(tmp_path, "--strategy", "cartel") == 2
    assert "spam-challenger" in capsys.readouterr().err


def test_devnet_workers__cartel_strategies__each_strategy_one_owner_of_its_workers():
    from peerhost.devnet.accounts import worker_key
    from peerhost.devnet.stack import DevnetConfig, parse_workers

    count, names = parse_workers("honest,captured-committee,spam-challenger,captured-committee")
    config = DevnetConfig(workers=count, strategies=names)
    pair = f"{worker_key(1).address},{worker_key(3).address}"
    assert [config.cartel_of(n) for n in range(count)] == ["", pair, "", pair]
