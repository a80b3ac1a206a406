"""Worker strategies: the one hook a deviating worker process puts between a job and its result."""

from __future__ import annotations

import asyncio

import pytest
from worker_jobs import local_job

from peerhost.devnet.stack import DevnetConfig, parse_workers
from peerhost.wire.envelope import Envelope, decode_envelope
from peerhost.worker.errors import InvalidWorkerSettings, JobSkipped
from peerhost.worker.execution import Execution, JobExecutor
from peerhost.worker.job import Job
from peerhost.worker.strategies import WORKER_STRATEGIES, worker_strategy

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
HONEST = Envelope(ok=True, status=200, headers={}, body="42", fuel_used=7).encode()


class Counted:
    """The honest run, counting how often a strategy ran it."""

    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self) -> Execution:
        self.runs += 1
        return Execution(HONEST, True, 7, 0.0, 0.0)


def _decide(name: str, identity: str, job: Job) -> tuple[bytes, int]:
    run = Counted()
    execution = asyncio.run(worker_strategy(name, identity).execute(job, run))
    return execution.envelope, run.runs


def test_honest__any_job__stands_behind_the_run():
    assert _decide("honest", ALICE, local_job(1)) == (HONEST, 1)


def test_lazy__any_job__answers_a_guess_without_running():
    envelope, runs = _decide("lazy", ALICE, local_job(1))
    assert runs == 0
    assert envelope != HONEST
    assert decode_envelope(envelope).ok  # well-formed: a guess, not garbage


def test_forger__two_identities__tell_the_same_wrong_result():
    mine, runs = _decide("forger", ALICE, local_job(1))
    theirs, _ = _decide("forger", BOB, local_job(1))
    assert runs == 1
    assert mine == theirs != HONEST


def test_griefer__two_identities__tell_two_different_lies():
    mine, _ = _decide("griefer", ALICE, local_job(1))
    theirs, _ = _decide("griefer", BOB, local_job(1))
    assert len({mine, theirs, HONEST}) == 3


def test_random_liar__many_jobs__lies_on_some_and_not_all():
    answers = [_decide("random-liar", ALICE, local_job(n))[0] for n in range(40)]
    lies = sum(1 for a in answers if a != HONEST)
    assert 5 < lies < 35
    assert answers == [_decide("random-liar", ALICE, local_job(n))[0] for n in range(40)]


def test_no_show__any_job__skipped_so_never_attested_nor_committed():
    with pytest.raises(JobSkipped):
        _decide("no-show", ALICE, local_job(1))


def test_only_honest__challenges_a_contradicting_leaf():
    assert [n for n, s in WORKER_STRATEGIES.items() if s.challenges] == ["honest"]


def test_unknown_strategy__refused_with_the_known_names():
    with pytest.raises(InvalidWorkerSettings, match="lazy"):
        worker_strategy("cheater", ALICE)


def test_executor_hook__installed__decides_what_execute_returns():
    executor = JobExecutor(store=None, run=None, wall_clock_seconds=1.0)  # type: ignore[arg-type]
    executor.hook = worker_strategy("lazy", ALICE).execute
    execution = asyncio.run(
        executor.execute(local_job(1))
    )  # never reaches the store or the sandbox
    assert execution.envelope == WORKER_STRATEGIES["lazy"].GUESS  # type: ignore[attr-defined]


def test_devnet_workers__strategy_list__one_worker_each_rest_honest():
    count, names = parse_workers("honest,lazy,forger")
    config = DevnetConfig(workers=4, strategies=names)
    assert count == 3
    assert [config.strategy_of(n) for n in range(4)] == ["honest", "lazy", "forger", "honest"]
    assert parse_workers("5") == (5, ())


@pytest.mark.parametrize("spec", ["honest,cheater", "0", "33", ""])
def test_devnet_workers__bad_spec__refused_with_what_to_give(spec: str):
    with pytest.raises(ValueError, match="give a worker count"):
        parse_workers(spec)
