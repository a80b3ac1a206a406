"""Stopping a campaign (``bench/faults.py``, SIGTERM): the run it interrupts is not recorded as a
run of its scenario, whatever the scenario's clean-up raises in its place, and its job ends.
Runs that end on their own are recorded as before. A run that failed, or a stack short of a
process, gets a new stack before the next run. No stack: the scenarios here are functions, the
stacks plain objects with the processes' ``alive()``."""

from __future__ import annotations

import importlib.util
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest
from fault_scenarios import ScenarioFailed

ROOT = Path(__file__).resolve().parents[3]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("faults_campaign", ROOT / "bench" / "faults.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


faults = _load()


@pytest.fixture
def said() -> Iterator[list[str]]:
    lines: list[str] = []
    previous = signal.signal(signal.SIGTERM, faults.stop)
    try:
        yield lines
    finally:
        signal.signal(signal.SIGTERM, previous)
        faults.STOPPED.clear()


def test_attempt__sigterm_and_the_cleanup_raises_its_own_error__not_recorded(
    said: list[str],
) -> None:
    """As seen stopping six stacks: the interruption hit a gateway's start, and the scenario's
    ``finally`` started it again on a port still held (``PortInUse``)."""

    def scenario() -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)  # (the handler has run by now: its SystemExit ends the wait)
            raise AssertionError("the stop did not interrupt the scenario")
        finally:
            raise RuntimeError("Port 52041 for the gateway is in use (another devnet?)")

    assert faults.attempt(scenario, said.append, "gateway-killed-down seed=3906") is None
    assert faults.STOPPED.is_set()
    assert said == [
        "stopped: gateway-killed-down seed=3906 was interrupted, and is not recorded (it ended:"
        " RuntimeError('Port 52041 for the gateway is in use (another devnet?)'))"
    ]


def test_attempt__stopped_while_a_scenario_fails__not_recorded(said: list[str]) -> None:
    def scenario() -> None:
        faults.STOPPED.set()  # (the handler ran in a wait the scenario's code caught and ended)
        raise ScenarioFailed("calls after the crash: not within 120 s")

    assert faults.attempt(scenario, said.append, "worker-killed-commit-down seed=7") is None
    assert said == [
        "stopped: worker-killed-commit-down seed=7 was interrupted, and is not recorded"
        " (it ended: calls after the crash: not within 120 s)"
    ]


def test_stop__a_second_sigterm_during_the_clean_up__does_not_cut_it_short(
    said: list[str],
) -> None:
    """The parent terminates each job after the process group's SIGTERM: the second one used to
    raise again inside the stack's clean-up (its processes left holding their ports)."""
    cleaned: list[str] = []

    def scenario() -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # the second, while cleaning up
            time.sleep(0.2)
            cleaned.append("stack stopped")

    with pytest.raises(SystemExit) as exited:
        faults.attempt(scenario, said.append, "node-restarted seed=7")
    assert exited.value.code == 143
    assert cleaned == ["stack stopped"]


def test_attempt__stopped_while_a_scenario_passes__not_recorded(said: list[str]) -> None:
    """A run the stop reached may have skipped part of its check: it is not a pass either."""

    def scenario() -> str:
        faults.STOPPED.set()
        return "outcome"

    assert faults.attempt(scenario, said.append, "node-restarted seed=7") is None


def test_attempt__no_stop__pass_failure_and_broken_stack_recorded_as_before(
    said: list[str],
) -> None:
    def passes() -> str:
        return "outcome"

    def fails() -> None:
        raise ScenarioFailed("2 call(s) failed beside a skewed worker")

    def breaks() -> None:
        raise ConnectionError("the node refused")

    assert faults.attempt(passes, said.append, "a seed=1") == ("", "outcome")
    assert faults.attempt(fails, said.append, "b seed=2") == (
        "2 call(s) failed beside a skewed worker",
        None,
    )
    assert faults.attempt(breaks, said.append, "c seed=3") == (
        "ConnectionError('the node refused')",
        None,
    )
    assert said == ["FAIL b seed=2: 2 call(s) failed beside a skewed worker", "ERROR c seed=3:"]
    assert not faults.STOPPED.is_set()


@dataclass
class Process:
    up: bool = True

    def alive(self) -> bool:
        return self.up


@dataclass
class Config:
    workers: int = 3


@dataclass
class Devnet:
    gateway: Process = field(default_factory=Process)
    workers: list[Process] = field(default_factory=lambda: [Process(), Process(), Process()])
    config: Config = field(default_factory=Config)

    def gateway_alive(self) -> bool:
        return self.gateway.alive()


@pytest.fixture
def stake(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What ``drained_workers`` answers (its first item), in place of reading the chain."""
    drained = [""]
    monkeypatch.setattr(faults, "drained_workers", lambda stack: drained[0])
    return drained


def test_unfit__a_run_failed__a_new_stack_even_with_every_process_up(stake: list[str]) -> None:
    """As seen at load 19: ``ipfs-down``'s clean-up could not start the gateway again, and the
    job's next three runs failed on a stack without one."""
    assert faults.unfit(Devnet(), None, "GatewayStartTimeout(...)") == "the last run failed"


def test_unfit__a_process_down__a_new_stack(stake: list[str]) -> None:
    devnet = Devnet()
    devnet.gateway.up = False
    devnet.workers[1].up = False
    assert faults.unfit(devnet, None, "") == "the gateway, worker-2 not running"
    devnet.gateway.up = True
    assert faults.unfit(devnet, None, "") == "worker-2 not running"
    devnet.workers[1].up = True
    devnet.workers.pop()  # a relaunch that never came back
    assert faults.unfit(devnet, None, "") == "worker-3 not running"


def test_unfit__stake_drained_or_unreadable__a_new_stack(
    stake: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stake[0] = "0x9965507D=0.35"
    assert faults.unfit(Devnet(), None, "") == "worker stake below 1 ETH (0x9965507D=0.35)"

    def unreadable(stack: object) -> str:
        raise ConnectionError("the node refused")

    monkeypatch.setattr(faults, "drained_workers", unreadable)
    assert faults.unfit(Devnet(), None, "") == (
        "its workers' stake unreadable (ConnectionError('the node refused'))"
    )


def test_unfit__a_passed_run_on_a_whole_stack__the_same_stack(stake: list[str]) -> None:
    assert faults.unfit(Devnet(), None, "") == ""


def test_replace_stack__a_start_that_fails__tried_again_then_given_up(said: list[str]) -> None:
    tries: list[int] = []

    def opens_on_the_second_try() -> tuple[str, str]:
        tries.append(1)
        if len(tries) == 1:
            raise TimeoutError("3 worker(s) did not join the job feed in 60.0 s")
        return "devnet", "stack"

    assert faults.replace_stack(opens_on_the_second_try, said.append) == ("devnet", "stack")
    assert said == [
        "the new stack did not start (TimeoutError('3 worker(s) did not join the job feed in"
        " 60.0 s')): again"
    ]

    def never_opens() -> tuple[str, str]:
        tries.append(1)
        raise TimeoutError("the gateway did not start")

    tries.clear()
    with pytest.raises(TimeoutError, match="the gateway did not start"):
        faults.replace_stack(never_opens, said.append)
    assert len(tries) == faults.STACK_TRIES
