"""Protocol invariants as a Hypothesis state machine over the real contracts on the local chain.

Random requesters pay with the call or through a project's prepaid balance (an authorized
gateway, or an unauthorized one that must be refused); honest workers commit and reveal the true
hash, lying workers another one (two different lies, so liars can also agree and win), copying
workers commit a copy of another worker's commitment and try to reveal its opening, absent
workers commit and never reveal; time jumps to, just before and across every deadline; anyone
finalizes; workers, requesters and the owner withdraw; workers register, add stake, unbond and
withdraw their stake. A Python model predicts every outcome: which calls succeed, which custom
error the others raise, and every balance to the wei.

After every step, :meth:`ProtocolMachine.check` reads everything in one JSON-RPC batch and asserts:

- each contract's ETH balance equals everything it owes: coordinator = escrows of pending
  requests + pending withdrawals + project balances + treasury; worker registry = stakes +
  unbonding (summed from the contracts' own views, and equal to the model);
- every stored request, phase, commitment, pending withdrawal, project balance, treasury, stake,
  lock, reputation counter and account balance equals the model;
- statuses only move forward (Pending -> Finalized | Refunded, and never again);
- a request pays or refunds exactly once, exactly its escrow (terminal events counted);
- a reveal only matches the same sender's commitment (copied openings, wrong salts, strangers
  and replays revert with the named error; a recorded reveal holds the sender's own hash);
- slashes never exceed the stake locked for the commitment, and locked stake is exactly
  commitLock per open commitment;
- rewards reach only revealers of the winning hash.

Transactions are plain JSON-RPC ``eth_sendTransaction`` from anvil's unlocked test accounts, free
(base fee, gas price and tip are 0), so balances are exact to the wei; a call the model says must
revert is checked with ``eth_call`` on the pending block (same sender, value and timestamp) and its
custom error decoded. Every block is mined at the model's clock (``evm_setNextBlockTimestamp``),
and the machine resets the chain itself: a snapshot in ``__init__``, restored in ``teardown``.
Rules that mostly exercise refusals are budgeted per sequence, and a few rules drive whole phases
(``commit_round``, ``reveal_round``, ``run_to_settlement``), so sequences reach settlement often.

CI runs 200 sequences with the default parameters (``PEERHOST_STATEFUL_EXAMPLES``) and a quarter
as many on a deployment with edge parameters (K=5, quorum 3, the whole reward as speed bonus, 1-wei
rewards, no wrong-reveal slash, 20 s and 5 s windows), without the shrink phase so a failure fails
fast. A longer run is one command away::

    PEERHOST_STATEFUL_EXAMPLES=2000 ape test tests/contracts/test_stateful.py -s

Also: ``PEERHOST_STATEFUL_STEPS`` (steps per sequence, default 30) and
``PEERHOST_STATEFUL_SHRINK=1`` (shrink a failure to a minimal sequence; can take minutes). A failure
prints its steps and a ``@reproduce_failure(...)`` line: put it on ``ProtocolMachine`` to replay it.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from eth_utils.abi import get_abi_input_types, get_abi_output_types
from hypothesis import Phase as HPhase
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from web3 import HTTPProvider, Web3
from web3.contract.contract import Contract, ContractFunction
from web3.logs import DISCARD

from peerhost.deploy import DeployParams, deploy
from peerhost.wire import commitment, request_id_of

EXAMPLES = int(os.environ.get("PEERHOST_STATEFUL_EXAMPLES", "200"))
STEPS = int(os.environ.get("PEERHOST_STATEFUL_STEPS", "30"))
SHRINK = os.environ.get("PEERHOST_STATEFUL_SHRINK", "") not in ("", "0")

_phases = [HPhase.explicit, HPhase.reuse, HPhase.generate, HPhase.target]
settings.register_profile(
    "peerhost-stateful",
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    phases=[*_phases, HPhase.shrink] if SHRINK else _phases,
    print_blob=True,
)
PROFILE = settings.get_profile("peerhost-stateful")
EDGE_EXAMPLES = max(1, EXAMPLES // 4)
EDGE_PARAMS = DeployParams(
    min_reward=1,
    max_commits=5,
    quorum=3,
    commit_window=20,
    reveal_window=5,
    speed_bonus_bps=10_000,
    wrong_reveal_slash=0,
    missed_reveal_slash=DeployParams().commit_lock,
    unbonding_delay=3600,
)

PROJECT = "shop"
FUNCTION = "orders-create"
CODE_CID = bytes.fromhex("01551220") + keccak(b"stateful")
KEY = bytes.fromhex("33" * 32)
INPUT = b'{"method":"GET","path":"/"}'
INPUT_CID = bytes.fromhex("01551220") + keccak(INPUT)
GAS = 3_000_000  # fixed gas limit: no estimation round trip (finalize with K=3 takes ~0.3M)
MAX_REQUESTS = 3  # per sequence, so the invariant read stays one small batch
# Rules that mostly exercise refusals run at most this often per sequence, so the steps go to
# whole request lifecycles (Hypothesis picks among enabled rules uniformly-ish).
BUDGET = 2

# IExecutionCoordinator.Status / Phase
PENDING, FINALIZED, REFUNDED = 1, 2, 3
P_COMMIT, P_REVEAL, P_SETTLE, P_FINALIZED, P_REFUNDED = 1, 2, 3, 4, 5
HONEST, LIAR_A, LIAR_B, ABSENT, COPIER = "honest", "liar-a", "liar-b", "absent", "copier"

# What the machine did, summed over sequences; reported and asserted by the test.
RUNS: dict[str, int] = {"sequences": 0, "steps": 0, "finalized": 0, "refunded": 0, "reverts": 0}
CALLS: dict[str, int] = {}  # "<function> ok|reverted" -> count, for the summary


@dataclass
class Commit:
    worker: str
    commitment: bytes
    intent: str
    result: bytes | None  # the opening (None for a copier: it has none)
    salt: bytes | None
    revealed: bool = False


@dataclass
class Request:
    rid: bytes
    requester: str
    reward: int
    project_id: bytes  # zero when paid with the call
    requested_at: int
    commit_deadline: int
    reveal_deadline: int
    truth: bytes
    status: int = PENDING
    commits: list[Commit] = field(default_factory=list)
    result_hash: bytes = bytes(32)
    fastest: str = "0x" + "00" * 20
    settled_amount: int = 0  # rewards + refund announced by its terminal transaction's events
    terminal_events: int = 0

    def commit_of(self, worker: str) -> Commit | None:
        return next((c for c in self.commits if c.worker == worker), None)

    def revealed(self) -> int:
        return sum(c.revealed for c in self.commits)


@dataclass
class Worker:
    registered: bool = False
    stake: int = 0
    locked: int = 0
    unbonding: int = 0
    ready_at: int = 0
    won: int = 0
    agreed: int = 0
    slashed: int = 0
    missed: int = 0


@dataclass(frozen=True)
class World:
    """What every sequence starts from: contracts (web3), roles (addresses) and parameters."""

    w3: Web3
    rpc: Rpc
    coord: Contract
    reg: Contract
    registry: Contract
    errors: dict[str, str]  # custom error selector -> name
    owner: str
    developer: str
    gateway: str
    stranger: str
    requesters: list[str]
    workers: list[str]
    actors: list[str]
    function_id: bytes
    project_id: bytes
    min_reward: int
    k: int
    quorum: int
    commit_window: int
    reveal_window: int
    bonus_bps: int
    commit_lock: int
    wrong_slash: int
    missed_slash: int
    min_stake: int
    unbonding_delay: int
    chain_id: int


def _error_selectors(*abis: list[dict[str, Any]]) -> dict[str, str]:
    """``{"0x<selector>": "ErrorName"}`` for every custom error in the ABIs."""
    out: dict[str, str] = {}
    for abi in abis:
        for item in abi:
            if item.get("type") == "error":
                sig = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
                out["0x" + keccak(text=sig)[:4].hex()] = item["name"]
    return out


class RpcError(Exception):
    """A JSON-RPC error response; ``data`` holds the revert data of a failed call."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", error))
        self.data = str(error.get("data") or "")


class Rpc:
    """Plain JSON-RPC over one keep-alive HTTP session: one round trip per call or per batch
    (web3.py adds several round trips and milliseconds of middleware to every call)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.session = requests.Session()
        self.ids = itertools.count()

    def __call__(self, method: str, *params: Any) -> Any:
        return self.batch([(method, list(params))])[0]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Sends all calls in one request; raises RpcError for the first that failed."""
        first = next(self.ids)
        payload = [
            {"jsonrpc": "2.0", "id": first + i, "method": m, "params": p}
            for i, (m, p) in enumerate(calls)
        ]
        for _ in range(len(calls) - 1):
            next(self.ids)
        body = self.session.post(self.uri, json=payload, timeout=60).json()
        by_id = {r["id"]: r for r in body}
        out = []
        for i in range(len(calls)):
            r = by_id[first + i]
            if "error" in r:
                raise RpcError(r["error"])
            out.append(r["result"])
        return out


def _calldata(fn: ContractFunction) -> str:
    types = get_abi_input_types(fn.abi)
    selector = keccak(text=f"{fn.abi['name']}({','.join(types)})")[:4]
    return "0x" + (selector + encode(types, list(fn.args))).hex()


def _decoder(fn: ContractFunction) -> Callable[[str], Any]:
    types = get_abi_output_types(fn.abi)

    def _decode(data: str) -> Any:
        values = decode(types, bytes.fromhex(data[2:]))
        return values[0] if len(values) == 1 else values

    return _decode


def _block_timestamp(block: Any) -> int:
    return int(block["timestamp"], 16)


class ProtocolMachine(RuleBasedStateMachine):
    world: World  # set by the test before the run

    # ------------------------------------------------------------------ set-up / teardown

    def __init__(self) -> None:
        super().__init__()
        w = self.world
        self.w3 = w.w3
        self.rpc = w.rpc
        self.snap = self.rpc("evm_snapshot")
        self.now: int = self.w3.eth.get_block("latest")["timestamp"]
        self.requests: list[Request] = []
        self.sequences: dict[str, int] = dict.fromkeys(w.actors, 0)
        self.pending: dict[str, int] = dict.fromkeys(w.actors, 0)
        reads: list[tuple[str, list[Any]]] = [("eth_getBalance", [a, "latest"]) for a in w.actors]
        calls = [
            f
            for a in w.workers
            for f in (w.reg.functions.getWorker(a), w.reg.functions.reputation(a))
        ]
        calls += [w.coord.functions.projectAccount(w.project_id), w.coord.functions.treasury()]
        reads += [("eth_call", [{"to": f.address, "data": _calldata(f)}, "latest"]) for f in calls]
        out = self.rpc.batch(reads)
        self.eth: dict[str, int] = {a: int(x, 16) for a, x in zip(w.actors, out, strict=False)}
        views = [_decoder(f)(x) for f, x in zip(calls, out[len(w.actors) :], strict=True)]
        self.workers: dict[str, Worker] = {}
        for i, a in enumerate(w.workers):
            info, rep = views[2 * i], views[2 * i + 1]
            self.workers[a] = Worker(info[0], info[2], info[3], info[4], info[5], *rep)
        self.project_balance: int = views[-2][0]
        self.treasury: int = views[-1]
        self.statuses_seen: dict[bytes, int] = {}
        self.price: int = views[-2][1]
        self.disabled = False
        self.steps = 0
        self.uses: Counter[str] = Counter()

    def teardown(self) -> None:
        assert self.rpc("evm_revert", self.snap) is True, "snapshot not restored"
        RUNS["sequences"] += 1
        RUNS["steps"] += self.steps

    # ------------------------------------------------------------------ chain access

    def _send(
        self, expected: set[str] | None, fn: ContractFunction, sender: str, value: int = 0
    ) -> Any:
        """Runs ``fn`` from ``sender`` at the model's clock.

        ``expected`` None: sends it (free) and returns the receipt, which must succeed. Otherwise
        the call must revert with one of the named custom errors; it is checked with ``eth_call``
        on the pending block (nothing is mined, as a reverted transaction changes no state).
        """
        self.steps += 1
        self.rpc("evm_setNextBlockTimestamp", self.now)
        tx = {
            "from": sender,
            "to": fn.address,
            "data": _calldata(fn),
            "value": hex(value),
            "gas": hex(GAS),
        }
        key = f"{fn.fn_name} {'reverted' if expected else 'ok'}"
        CALLS[key] = CALLS.get(key, 0) + 1
        if expected:
            RUNS["reverts"] += 1
            try:
                self.rpc("eth_call", tx, "pending")
            except RpcError as err:
                name = self.world.errors.get(err.data[:10], f"{err} {err.data}")
                assert name in expected, f"{fn.fn_name} reverted with {name}, expected {expected}"
                return None
            raise AssertionError(
                f"{fn.fn_name} succeeded, expected a revert with one of {expected}"
            )
        tx.update(maxFeePerGas="0x0", maxPriorityFeePerGas="0x0")
        tx_hash = self.rpc("eth_sendTransaction", tx)
        receipt = self.rpc("eth_getTransactionReceipt", tx_hash)
        deadline = time.monotonic() + 30
        while receipt is None:  # automine mines at once, but may answer a moment before the receipt
            assert time.monotonic() < deadline, f"{fn.fn_name}: no receipt for {tx_hash}"
            time.sleep(0.001)
            receipt = self.rpc("eth_getTransactionReceipt", tx_hash)
        if int(receipt["status"], 16) != 1:
            try:
                self.rpc("eth_call", tx, hex(int(receipt["blockNumber"], 16) - 1))
                reason = "?"
            except RpcError as err:
                reason = self.world.errors.get(err.data[:10], f"{err} {err.data}")
            raise AssertionError(
                f"{fn.fn_name} from {sender} reverted ({reason}), expected success"
            )
        assert int(receipt["effectiveGasPrice"], 16) == 0, (
            "transactions must be free for exact balances"
        )
        return tx_hash

    # ------------------------------------------------------------------ model helpers

    def _phase(self, r: Request) -> int:
        if r.status == FINALIZED:
            return P_FINALIZED
        if r.status == REFUNDED:
            return P_REFUNDED
        n = len(r.commits)
        if n < self.world.k and self.now < r.commit_deadline:
            return P_COMMIT
        if n == 0 or r.revealed() == n or self.now >= r.reveal_deadline:
            return P_SETTLE
        return P_REVEAL

    @staticmethod
    def _pick(items: list[Any], i: int) -> Any:
        return items[i % len(items)]

    def _open(self) -> list[Request]:
        return [r for r in self.requests if r.status == PENDING]

    def _in_phase(self, phase: int) -> list[Request]:
        return [r for r in self.requests if self._phase(r) == phase]

    def _active(self, addr: str) -> bool:
        w = self.workers[addr]
        return w.registered and w.stake >= self.world.min_stake

    def _commit_error(self, r: Request, addr: str) -> set[str] | None:
        """The error a commit by ``addr`` to ``r`` (in its commit phase) must raise, if any."""
        w = self.workers[addr]
        if r.commit_of(addr) is not None:
            return {"AlreadyCommitted"}
        if not self._active(addr):
            return {"WorkerNotActive"}
        if w.stake - w.locked < self.world.commit_lock:
            return {"InvalidAmount"}  # the registry's lock() refuses: free stake < commitLock
        return None

    def _commitment(self, rid: bytes, worker: str, result: bytes, salt: bytes) -> bytes:
        return commitment(self.world.chain_id, self.world.coord.address, rid, worker, result, salt)

    def _new_request(self, requester: str, reward: int, project_id: bytes) -> None:
        """Books a request whose id the model derived before sending (chainId, coordinator,
        requester, sequence): check() finds it on chain under that id or fails."""
        w = self.world
        seq = self.sequences[requester]
        self.sequences[requester] += 1
        rid = request_id_of(w.chain_id, w.coord.address, requester, seq)
        cd = self.now + w.commit_window
        self.requests.append(
            Request(
                rid=rid,
                requester=requester,
                reward=reward,
                project_id=project_id,
                requested_at=self.now,
                commit_deadline=cd,
                reveal_deadline=cd + w.reveal_window,
                truth=keccak(b"truth" + rid),
            )
        )

    # ------------------------------------------------------------------ requests

    def _request_fn(self, by_cid: bool) -> ContractFunction:
        """requestExecution with inline input, or requestExecutionByCid with a content-store CID."""
        w = self.world
        if by_cid:
            return w.coord.functions.requestExecutionByCid(
                w.function_id, INPUT_CID, keccak(INPUT), b""
            )
        return w.coord.functions.requestExecution(w.function_id, INPUT, b"")

    def _refusals(self, *errors: str) -> set[str]:
        """The errors a request may raise: ``errors``, and FunctionIsDisabled while it is."""
        return {*errors, "FunctionIsDisabled"} if self.disabled else set(errors)

    @initialize(who=st.integers(0, 9), units=st.integers(1, 4), dust=st.integers(0, 2))
    def first_request(self, who: int, units: int, dust: int) -> None:
        """Every sequence starts with one request paid with the call."""
        self.request_with_value(who, units, dust, False)

    @precondition(lambda self: self.uses["request_underpaid"] < 1)
    @rule(who=st.integers(0, 9), by_cid=st.booleans())
    def request_underpaid(self, who: int, by_cid: bool) -> None:
        """A reward one wei below the minimum is refused (with a 1-wei minimum that is no value at
        all, which asks for the project balance: refused to anyone but an authorized gateway)."""
        self.uses["request_underpaid"] += 1
        w = self.world
        value = w.min_reward - 1
        refusal = "RewardTooLow" if value else "GatewayNotAuthorized"
        self._send(
            self._refusals(refusal), self._request_fn(by_cid), self._pick(w.requesters, who), value
        )

    @precondition(lambda self: len(self.requests) < MAX_REQUESTS)
    @rule(
        who=st.integers(0, 9), units=st.integers(1, 4), dust=st.integers(0, 2), by_cid=st.booleans()
    )
    def request_with_value(self, who: int, units: int, dust: int, by_cid: bool) -> None:
        """A requester pays with the call (inline input or by CID); refused while disabled."""
        w = self.world
        requester = self._pick(w.requesters, who)
        reward = w.min_reward * units + dust
        if self.disabled:
            self._send({"FunctionIsDisabled"}, self._request_fn(by_cid), requester, reward)
            return
        self._send(None, self._request_fn(by_cid), requester, reward)
        self.eth[requester] -= reward
        self._new_request(requester, reward, bytes(32))

    @precondition(lambda self: self.uses["request_unauthorized"] < 1)
    @rule(by_cid=st.booleans())
    def request_unauthorized(self, by_cid: bool) -> None:
        """A caller the project owner did not authorize cannot spend the project balance."""
        self.uses["request_unauthorized"] += 1
        fn = self._request_fn(by_cid)
        self._send(self._refusals("GatewayNotAuthorized"), fn, self.world.stranger)

    @precondition(
        lambda self: len(self.requests) < MAX_REQUESTS and self.project_balance >= self.price
    )
    @rule(by_cid=st.booleans())
    def request_via_project(self, by_cid: bool) -> None:
        """The authorized gateway spends the project balance (the end user pays nothing)."""
        w = self.world
        if self.disabled:
            self._send({"FunctionIsDisabled"}, self._request_fn(by_cid), w.gateway)
            return
        self._send(None, self._request_fn(by_cid), w.gateway)
        self.project_balance -= self.price
        self._new_request(w.gateway, self.price, w.project_id)

    @precondition(lambda self: self.project_balance < self.price and self.uses["request_dry"] < 1)
    @rule()
    def request_dry(self) -> None:
        """A project balance below its price refuses the gateway."""
        self.uses["request_dry"] += 1
        fn = self._request_fn(False)
        self._send(self._refusals("InsufficientProjectBalance"), fn, self.world.gateway)

    @precondition(lambda self: self.uses["fund_project"] < 1)
    @rule(units=st.integers(1, 3))
    def fund_project(self, units: int) -> None:
        """Anyone tops up the project balance."""
        self.uses["fund_project"] += 1
        w = self.world
        amount = self.price * units
        self._send(None, w.coord.functions.fundProject(w.developer, PROJECT), w.stranger, amount)
        self.eth[w.stranger] -= amount
        self.project_balance += amount

    @precondition(lambda self: self.uses["withdraw_project"] < 1)
    @rule(how=st.sampled_from(["all", "one-wei", "too-much", "zero"]))
    def withdraw_project(self, how: str) -> None:
        """The project owner takes money back from the prepaid balance (never more than it holds)."""
        self.uses["withdraw_project"] += 1
        w = self.world
        amount = {
            "all": self.project_balance,
            "one-wei": 1,
            "too-much": self.project_balance + 1,
            "zero": 0,
        }[how]
        fn = w.coord.functions.withdrawProjectBalance(PROJECT, amount)
        if amount == 0 or amount > self.project_balance:
            self._send({"InvalidAmount"}, fn, w.developer)
            return
        self._send(None, fn, w.developer)
        self.project_balance -= amount
        self.eth[w.developer] += amount

    @precondition(lambda self: self.uses["set_price"] < 1)
    @rule(units=st.integers(0, 3))
    def set_price(self, units: int) -> None:
        """The owner changes the per-request price (below the minimum reward is refused); open
        requests keep the escrow they took."""
        self.uses["set_price"] += 1
        w = self.world
        price = w.min_reward * units + units if units else w.min_reward - 1  # odd prices: dust
        fn = w.coord.functions.setProjectPrice(PROJECT, price)
        if price < w.min_reward:
            self._send({"PriceTooLow"}, fn, w.developer)
            return
        self._send(None, fn, w.developer)
        self.price = price

    @precondition(lambda self: len(self.requests) >= 2 and self.uses["toggle_function"] < BUDGET)
    @rule()
    def toggle_function(self) -> None:
        """The owner disables (or re-enables) the function: new requests are refused meanwhile,
        open ones still settle."""
        self.uses["toggle_function"] += 1
        w = self.world
        self._send(
            None, w.registry.functions.setDisabled(w.function_id, not self.disabled), w.developer
        )
        self.disabled = not self.disabled

    # ------------------------------------------------------------------ commit / reveal

    def _committable(self) -> list[tuple[Request, str]]:
        """(request, worker) pairs whose commit must succeed now."""
        return [
            (r, a)
            for r in self._in_phase(P_COMMIT)
            for a in self.world.workers
            if self._commit_error(r, a) is None
        ]

    def _commit(
        self, r: Request, worker: str, intent: str, commitment: bytes | None = None
    ) -> None:
        """Sends a commit: the worker's own (for ``intent``) or a copied ``commitment``."""
        result = salt = None
        if commitment is None:
            result = r.truth if intent in (HONEST, ABSENT) else keccak(intent.encode() + r.rid)
            salt = keccak(b"salt" + r.rid + bytes.fromhex(worker[2:]))
            commitment = self._commitment(r.rid, worker, result, salt)
        error = self._commit_error(r, worker)
        self._send(error, self.world.coord.functions.commit(r.rid, commitment), worker)
        if error is None:
            r.commits.append(Commit(worker, commitment, intent, result, salt))
            self.workers[worker].locked += self.world.commit_lock

    @precondition(lambda self: bool(self._committable()))
    @rule(i=st.integers(0, 99), intent=st.sampled_from([HONEST, LIAR_A, LIAR_B, ABSENT]))
    def commit(self, i: int, intent: str) -> None:
        """An eligible worker commits in the commit phase: honest, lying, or absent (never reveals)."""
        r, worker = self._pick(self._committable(), i)
        self._commit(r, worker, intent)

    @precondition(lambda self: bool(self._committable()))
    @rule(i=st.integers(0, 99))
    def commit_honest(self, i: int) -> None:
        """An eligible honest worker commits (most workers are honest)."""
        r, worker = self._pick(self._committable(), i)
        self._commit(r, worker, HONEST)

    @precondition(lambda self: bool(self._committable()))
    @rule(
        i=st.integers(0, 99),
        intents=st.lists(
            st.sampled_from([HONEST, HONEST, HONEST, HONEST, LIAR_A, LIAR_B, ABSENT]),
            min_size=16,
            max_size=16,
        ),
    )
    def commit_round(self, i: int, intents: list[str]) -> None:
        """Eligible workers commit to one request until it has K commitments (or none is left),
        each honest, lying or absent: a whole commit phase in one step."""
        r, _ = self._pick(self._committable(), i)
        for intent in intents:
            eligible = [a for a in self.world.workers if self._commit_error(r, a) is None]
            if self._phase(r) != P_COMMIT or not eligible:
                break
            self._commit(r, self._pick(eligible, len(r.commits)), intent)

    @precondition(
        lambda self: bool(self._in_phase(P_COMMIT)) and self.uses["commit_refused"] < BUDGET
    )
    @rule(ri=st.integers(0, 9), wi=st.integers(0, 9))
    def commit_refused(self, ri: int, wi: int) -> None:
        """Commits that must be refused: twice, inactive (stake below minimum), no free stake."""
        self.uses["commit_refused"] += 1
        r = self._pick(self._in_phase(P_COMMIT), ri)
        refused = [a for a in self.world.workers if self._commit_error(r, a) is not None]
        if refused:
            self._commit(r, self._pick(refused, wi), HONEST)

    @precondition(lambda self: any(r.commits for r in self._in_phase(P_COMMIT)))
    @rule(ri=st.integers(0, 9), wi=st.integers(0, 9), vi=st.integers(0, 9))
    def copy_commit(self, ri: int, wi: int, vi: int) -> None:
        """A copier commits the exact commitment another worker sent (seen in the mempool); it is
        accepted (a commitment is opaque) but the copier holds no opening that matches it."""
        r = self._pick([r for r in self._in_phase(P_COMMIT) if r.commits], ri)
        victim = self._pick(r.commits, vi)
        worker = self._pick(self.world.workers, wi)
        self._commit(r, worker, COPIER, victim.commitment)

    def _revealable(self, r: Request) -> list[Commit]:
        return [c for c in r.commits if not c.revealed and c.intent not in (ABSENT, COPIER)]

    @precondition(lambda self: any(self._revealable(r) for r in self._in_phase(P_REVEAL)))
    @rule(ri=st.integers(0, 9), ci=st.integers(0, 9))
    def reveal(self, ri: int, ci: int) -> None:
        """An honest or lying committer reveals its own opening."""
        r = self._pick([r for r in self._in_phase(P_REVEAL) if self._revealable(r)], ri)
        cm = self._pick(self._revealable(r), ci)
        assert cm.result is not None and cm.salt is not None
        self._send(None, self.world.coord.functions.reveal(r.rid, cm.result, cm.salt), cm.worker)
        cm.revealed = True

    @precondition(lambda self: any(self._revealable(r) for r in self._in_phase(P_REVEAL)))
    @rule(ri=st.integers(0, 9))
    def reveal_round(self, ri: int) -> None:
        """Every honest and lying committer of one request reveals, in commit order."""
        r = self._pick([r for r in self._in_phase(P_REVEAL) if self._revealable(r)], ri)
        for cm in self._revealable(r):
            assert cm.result is not None and cm.salt is not None
            fn = self.world.coord.functions.reveal(r.rid, cm.result, cm.salt)
            self._send(None, fn, cm.worker)
            cm.revealed = True

    @precondition(
        lambda self: any(r.commits for r in self.requests) and self.uses["bad_reveal"] < 3
    )
    @rule(
        ri=st.integers(0, 9),
        ci=st.integers(0, 9),
        wi=st.integers(0, 9),
        kind=st.sampled_from(
            ["copied-opening", "wrong-salt", "switched-answer", "replay", "stranger", "early"]
        ),
    )
    def bad_reveal(self, ri: int, ci: int, wi: int, kind: str) -> None:
        """Reveals that must fail: someone else's opening (the copier's attack), a wrong salt, an
        answer switched after the commit, a replay, a non-committer, a reveal before the phase."""
        self.uses["bad_reveal"] += 1
        w = self.world
        r = self._pick([r for r in self.requests if r.commits], ri)
        victim = self._pick(r.commits, ci)
        if victim.result is None:  # a copier: use the opening of the commitment it copied
            victim = next(x for x in r.commits if x.commitment == victim.commitment and x.result)
        assert victim.result is not None and victim.salt is not None
        phase = self._phase(r)
        wrong_phase = {"WrongPhase"} if phase != P_REVEAL else None
        result, salt, sender = victim.result, victim.salt, victim.worker
        if kind == "copied-opening":  # anyone but its owner presents the victim's opening
            sender = self._pick([a for a in w.workers if a != victim.worker], wi)
            mine = r.commit_of(sender)
            if mine is None:
                expected = wrong_phase or {"NotCommitted"}
            else:
                expected = wrong_phase or (
                    {"AlreadyRevealed"} if mine.revealed else {"CommitmentMismatch"}
                )
        elif kind == "wrong-salt":
            salt = keccak(b"wrong" + salt)
            expected = wrong_phase or (
                {"AlreadyRevealed"} if victim.revealed else {"CommitmentMismatch"}
            )
        elif kind == "switched-answer":  # its own salt, another hash (seen in others' reveals)
            result = keccak(b"liar-a" + r.rid) if result == r.truth else r.truth
            expected = wrong_phase or (
                {"AlreadyRevealed"} if victim.revealed else {"CommitmentMismatch"}
            )
        elif kind == "replay":
            if not victim.revealed:
                return  # not a replay: it would be its first, valid reveal
            expected = wrong_phase or {"AlreadyRevealed"}
        elif kind == "stranger":
            sender = self._pick([w.owner, w.stranger, w.gateway], wi)
            expected = wrong_phase or {"NotCommitted"}
        else:  # early
            if phase != P_COMMIT:
                return
            expected = {"WrongPhase"}
        self._send(expected, w.coord.functions.reveal(r.rid, result, salt), sender)

    # ------------------------------------------------------------------ time

    @rule(
        ri=st.integers(0, 9),
        to=st.sampled_from(["+1", "+7", "cd-1", "cd", "rd-1", "rd", "ready-1", "ready"]),
    )
    def time_jump(self, ri: int, to: str) -> None:
        """Moves the clock to (or one second before) a deadline of an open request or the end of
        a worker's unbonding delay, or by a few seconds; mines a block there so views see it."""
        open_requests = self._open()
        unbonding = [w for w in self.workers.values() if w.unbonding]
        if to.startswith("ready"):
            ready = (
                self._pick(unbonding, ri).ready_at
                if unbonding
                else self.now + self.world.unbonding_delay
            )
            new = ready - 1 if to.endswith("-1") else ready
        elif to.startswith("+") or not open_requests:
            new = self.now + (int(to[1:]) if to.startswith("+") else 1)
        else:
            r = self._pick(open_requests, ri)
            base = r.commit_deadline if to.startswith("cd") else r.reveal_deadline
            new = base - 1 if to.endswith("-1") else base
        self._jump_to(new)

    # ------------------------------------------------------------------ settle

    @precondition(
        lambda self: (
            any(self._phase(r) != P_SETTLE for r in self.requests)
            and self.uses["finalize_out_of_phase"] < BUDGET
        )
    )
    @rule(ri=st.integers(0, 9), who=st.integers(0, 9))
    def finalize_out_of_phase(self, ri: int, who: int) -> None:
        """Finalizing before the Settle phase, or a second time, reverts."""
        self.uses["finalize_out_of_phase"] += 1
        r = self._pick([r for r in self.requests if self._phase(r) != P_SETTLE], ri)
        sender = self._pick(self.world.actors, who)
        self._send({"WrongPhase"}, self.world.coord.functions.finalize(r.rid), sender)

    @precondition(lambda self: bool(self._in_phase(P_SETTLE)))
    @rule(ri=st.integers(0, 9), who=st.integers(0, 9))
    def finalize(self, ri: int, who: int) -> None:
        """Anyone finalizes in the Settle phase: pays, slashes or refunds exactly as the model says."""
        r = self._pick(self._in_phase(P_SETTLE), ri)
        sender = self._pick(self.world.actors, who)
        locked_before = {a: w.locked for a, w in self.workers.items()}
        tx_hash = self._send(None, self.world.coord.functions.finalize(r.rid), sender)
        self._settle_model(r)
        self._check_finalize_events(r, self.w3.eth.get_transaction_receipt(tx_hash), locked_before)

    def _jump_to(self, t: int) -> None:
        self.now = max(self.now + 1, t)
        self.steps += 1
        self.rpc("evm_mine", self.now)

    @precondition(lambda self: bool(self._open()))
    @rule(
        ri=st.integers(0, 9),
        who=st.integers(0, 9),
        reveals=st.lists(st.sampled_from([True, True, True, False]), min_size=16, max_size=16),
    )
    def run_to_settlement(self, ri: int, who: int, reveals: list[bool]) -> None:
        """Drives an open request to its end: time runs to the commit deadline (if the commit
        phase is still open), each honest or lying committer reveals or not (as drawn), time runs
        to the reveal deadline (if still needed) and anyone finalizes."""
        quorate = [r for r in self._open() if len(r.commits) >= self.world.quorum]
        r = self._pick(quorate or self._open(), ri)  # prefer requests that can still reach quorum
        if self._phase(r) == P_COMMIT:
            self._jump_to(r.commit_deadline)
        if self._phase(r) == P_REVEAL:
            for cm, go in zip(self._revealable(r), reveals, strict=False):
                if go:
                    assert cm.result is not None and cm.salt is not None
                    fn = self.world.coord.functions.reveal(r.rid, cm.result, cm.salt)
                    self._send(None, fn, cm.worker)
                    cm.revealed = True
        if self._phase(r) != P_SETTLE:
            self._jump_to(r.reveal_deadline)
        self.finalize(self._in_phase(P_SETTLE).index(r), who)

    def _settle_model(self, r: Request) -> None:
        w = self.world
        counts: dict[bytes, int] = {}
        for cm in r.commits:
            if cm.revealed:
                assert cm.result is not None
                counts[cm.result] = counts.get(cm.result, 0) + 1
        winning = [h for h, n in counts.items() if n >= w.quorum]
        assert len(winning) <= 1, "quorum > K/2 lets at most one hash win"
        win = winning[0] if winning else None
        if win is not None:
            winners = [cm.worker for cm in r.commits if cm.revealed and cm.result == win]
            n = len(winners)  # in commit order: winners[0] is the fastest correct committer
            share = (r.reward - r.reward * w.bonus_bps // 10_000) // n
            top = r.reward - share * (n - 1)  # the speed bonus and the rounding dust
            r.status, r.result_hash, r.fastest = FINALIZED, win, winners[0]
            for i, worker in enumerate(winners):
                self.pending[worker] += top if i == 0 else share
            self.workers[winners[0]].won += 1
            RUNS["finalized"] += 1
        else:
            r.status = REFUNDED
            if r.project_id != bytes(32):
                self.project_balance += r.reward
            else:
                self.pending[r.requester] += r.reward
            RUNS["refunded"] += 1
        for cm in r.commits:
            m = self.workers[cm.worker]
            slash = 0
            if not cm.revealed:
                slash = min(w.missed_slash, m.locked)
                m.missed += 1
            elif win is not None and cm.result == win:
                m.agreed += 1
            elif win is not None:
                slash = min(w.wrong_slash, m.locked)
                m.slashed += 1
            m.locked -= w.commit_lock
            m.stake -= slash
            self.treasury += slash

    def _check_finalize_events(
        self, r: Request, receipt: Any, locked_before: dict[str, int]
    ) -> None:
        ev = self.world.coord.events
        winners = {cm.worker for cm in r.commits if cm.revealed and cm.result == r.result_hash}
        terminal = paid = 0
        for log in ev.RequestFinalized().process_receipt(receipt, errors=DISCARD):
            assert log.args.requestId == r.rid and log.args.resultHash == r.result_hash
            terminal += 1
        for log in ev.RequestRefunded().process_receipt(receipt, errors=DISCARD):
            assert log.args.requestId == r.rid
            terminal += 1
            paid += log.args.amount
        for log in ev.WorkerRewarded().process_receipt(receipt, errors=DISCARD):
            assert r.status == FINALIZED and log.args.worker in winners, (
                f"reward to a non-winner {log.args.worker}"
            )
            paid += log.args.amount
        for log in ev.WorkerSlashed().process_receipt(receipt, errors=DISCARD):
            assert log.args.worker not in winners, "a winner was slashed"
            assert log.args.amount <= self.world.commit_lock, (
                "slashed more than the commitment locked"
            )
            assert log.args.amount <= locked_before[log.args.worker], (
                "slashed more than the locked stake"
            )
        r.terminal_events += terminal
        r.settled_amount += paid
        assert r.terminal_events == 1, f"{r.terminal_events} terminal events for one request"
        assert r.settled_amount == r.reward, (
            f"paid out {r.settled_amount} of an escrow of {r.reward}"
        )

    @precondition(lambda self: any(self.pending.values()))
    @rule(who=st.integers(0, 9))
    def withdraw(self, who: int) -> None:
        """Someone owed a reward or refund pulls it."""
        account = self._pick([a for a, v in self.pending.items() if v], who)
        self._send(None, self.world.coord.functions.withdraw(), account)
        self.eth[account] += self.pending[account]
        self.pending[account] = 0

    @precondition(lambda self: self.uses["withdraw_nothing"] < 1)
    @rule(who=st.integers(0, 9))
    def withdraw_nothing(self, who: int) -> None:
        """Withdrawing with nothing pending reverts (and so does a second withdrawal)."""
        self.uses["withdraw_nothing"] += 1
        account = self._pick(self.world.actors, who)
        if self.pending[account] == 0:
            self._send({"NothingToWithdraw"}, self.world.coord.functions.withdraw(), account)

    @precondition(lambda self: self.treasury > 0)
    @rule()
    def withdraw_treasury(self) -> None:
        """The owner takes the treasury (slashed stake)."""
        w = self.world
        self._send(None, w.coord.functions.withdrawTreasury(w.owner), w.owner)
        self.eth[w.owner] += self.treasury
        self.treasury = 0

    @precondition(lambda self: self.uses["withdraw_treasury_refused"] < 1)
    @rule(by_owner=st.booleans())
    def withdraw_treasury_refused(self, by_owner: bool) -> None:
        """Anyone but the owner is refused the treasury; so is the owner when it is empty."""
        self.uses["withdraw_treasury_refused"] += 1
        w = self.world
        sender = w.owner if by_owner else w.stranger
        fn = w.coord.functions.withdrawTreasury(sender)
        if not by_owner:
            self._send({"NotOwner"}, fn, sender)
        elif self.treasury == 0:
            self._send({"NothingToWithdraw"}, fn, sender)

    # ------------------------------------------------------------------ stake

    @precondition(lambda self: self.uses["unbond"] < BUDGET)
    @rule(wi=st.integers(0, 9), how=st.sampled_from(["all-free", "one-lock", "too-much", "zero"]))
    def unbond(self, wi: int, how: str) -> None:
        """A worker moves free stake into unbonding; locked stake cannot move."""
        self.uses["unbond"] += 1
        worker = self._pick(self.world.workers, wi)
        w = self.workers[worker]
        free = w.stake - w.locked
        amount = {
            "all-free": free,
            "one-lock": self.world.commit_lock,
            "too-much": free + 1,
            "zero": 0,
        }[how]
        fn = self.world.reg.functions.requestUnbonding(amount)
        if not w.registered:
            self._send({"NotRegistered"}, fn, worker)
        elif amount == 0 or amount > free:
            self._send({"InvalidAmount"}, fn, worker)
        else:
            self._send(None, fn, worker)
            w.stake -= amount
            w.unbonding += amount
            w.ready_at = self.now + self.world.unbonding_delay

    def _withdrawable(self) -> list[str]:
        return [a for a, w in self.workers.items() if w.unbonding and self.now >= w.ready_at]

    @precondition(lambda self: bool(self._withdrawable()))
    @rule(wi=st.integers(0, 9))
    def withdraw_stake(self, wi: int) -> None:
        """A worker withdraws its unbonded stake once the delay has passed."""
        worker = self._pick(self._withdrawable(), wi)
        w = self.workers[worker]
        self._send(None, self.world.reg.functions.withdrawStake(), worker)
        self.eth[worker] += w.unbonding
        w.unbonding = 0
        w.ready_at = 0

    @precondition(lambda self: self.uses["withdraw_stake_refused"] < BUDGET)
    @rule(wi=st.integers(0, 9))
    def withdraw_stake_refused(self, wi: int) -> None:
        """Withdrawing stake before the delay, with nothing unbonding, or unregistered, reverts."""
        self.uses["withdraw_stake_refused"] += 1
        refused = [a for a in self.world.workers if a not in self._withdrawable()]
        worker = self._pick(refused, wi)
        w = self.workers[worker]
        if not w.registered:
            expected = {"NotRegistered"}
        elif w.unbonding == 0:
            expected = {"InvalidAmount"}
        else:
            expected = {"UnbondingNotReady"}
        self._send(expected, self.world.reg.functions.withdrawStake(), worker)

    @precondition(lambda self: self.uses["stake_more"] < BUDGET)
    @rule(wi=st.integers(0, 9), units=st.integers(1, 2))
    def stake_more(self, wi: int, units: int) -> None:
        """A worker registers (with units x minStake) or adds units x commitLock."""
        self.uses["stake_more"] += 1
        worker = self._pick(self.world.workers, wi)
        w = self.workers[worker]
        reg = self.world.reg.functions
        if w.registered:
            amount = self.world.commit_lock * units
            self._send(None, reg.addStake(), worker, amount)
        else:
            amount = self.world.min_stake * units
            self._send(None, reg.register(KEY), worker, amount)
            w.registered = True
        w.stake += amount
        self.eth[worker] -= amount

    # ------------------------------------------------------------------ invariants

    @invariant()
    def check(self) -> None:
        """Reads everything in one JSON-RPC batch and compares it with itself and the model."""
        w = self.world
        coord, reg = w.coord.functions, w.reg.functions
        calls: list[tuple[str, list[Any]]] = []
        decoders: list[Callable[[str], Any]] = []

        def view(fn: ContractFunction) -> None:
            calls.append(("eth_call", [{"to": fn.address, "data": _calldata(fn)}, "latest"]))
            decoders.append(self._decoders.setdefault(fn.fn_name, _decoder(fn)))

        def balance(address: str) -> None:
            calls.append(("eth_getBalance", [address, "latest"]))
            decoders.append(lambda x: int(x, 16))

        calls.append(("eth_getBlockByNumber", ["latest", False]))
        decoders.append(_block_timestamp)
        balance(w.coord.address)
        balance(w.reg.address)
        view(coord.treasury())
        view(coord.projectAccount(w.project_id))
        for a in w.actors:
            view(coord.pendingWithdrawal(a))
        for a in w.actors:
            balance(a)
        for a in w.workers:
            view(reg.getWorker(a))
            view(reg.reputation(a))
        for r in self.requests:
            view(coord.getRequest(r.rid))
            view(coord.phase(r.rid))
            for cm in r.commits:
                view(coord.getCommitment(r.rid, cm.worker))
        out = iter(d(x) for d, x in zip(decoders, self.rpc.batch(calls), strict=True))

        head_time, coord_balance, reg_balance, treasury, project = (next(out) for _ in range(5))
        pending = {a: next(out) for a in w.actors}
        eth = {a: next(out) for a in w.actors}
        stakes = {a: (next(out), next(out)) for a in w.workers}
        requests = [
            (r, next(out), next(out), [next(out) for _ in r.commits]) for r in self.requests
        ]
        assert head_time == self.now, f"chain time {head_time} != model time {self.now}"

        # Solvency, from the contracts' own views.
        escrows = sum(req[3] for _, req, _, _ in requests if req[10] == PENDING)
        owed = escrows + sum(pending.values()) + project[0] + treasury
        assert coord_balance == owed, f"coordinator holds {coord_balance}, owes {owed}"
        held = sum(info[2] + info[4] for info, _ in stakes.values())
        assert reg_balance == held, f"worker registry holds {reg_balance}, owes {held}"

        # The model.
        assert treasury == self.treasury, (treasury, self.treasury)
        assert project == (self.project_balance, self.price), (
            project,
            self.project_balance,
            self.price,
        )
        assert pending == self.pending, (pending, self.pending)
        assert eth == self.eth, {
            a: (eth[a], self.eth[a]) for a in w.actors if eth[a] != self.eth[a]
        }
        for a, (info, rep) in stakes.items():
            m = self.workers[a]
            got = (info[0], info[2], info[3], info[4], info[5], *rep)
            want = (
                m.registered,
                m.stake,
                m.locked,
                m.unbonding,
                m.ready_at,
                m.won,
                m.agreed,
                m.slashed,
                m.missed,
            )
            assert got == want, f"worker {a}: chain {got} != model {want}"
            open_commits = sum(1 for r in self._open() for cm in r.commits if cm.worker == a)
            assert info[3] == open_commits * w.commit_lock, f"worker {a} locks {info[3]}"
            assert info[3] <= info[2], f"worker {a} locks more than its stake"

        for r, req, phase, commitments in requests:
            assert (to_checksum_address(req[0]), req[3]) == (r.requester, r.reward)
            assert (req[5], req[6], req[7]) == (
                r.requested_at,
                r.commit_deadline,
                r.reveal_deadline,
            )
            assert (req[8], req[9]) == (len(r.commits), r.revealed())
            assert req[10] == r.status, f"status {req[10]} != model {r.status}"
            seen = self.statuses_seen.get(r.rid, PENDING)
            assert req[10] >= seen and (seen == PENDING or req[10] == seen), (
                "status moved backwards"
            )
            self.statuses_seen[r.rid] = req[10]
            if r.status == FINALIZED:
                assert (req[11], to_checksum_address(req[12])) == (r.result_hash, r.fastest)
            assert phase == self._phase(r), f"phase {phase} != model {self._phase(r)} at {self.now}"
            for i, (cm, got) in enumerate(zip(r.commits, commitments, strict=True)):
                assert (got[0], got[2], got[3]) == (cm.commitment, i, cm.revealed)
                if cm.revealed:
                    assert got[4] == cm.result, (
                        "a reveal recorded another hash than the sender's own"
                    )

    _decoders: dict[str, Callable[[str], Any]] = {}


def _world(deployment: Any, roles: dict[str, Any], workers: list[Any]) -> World:
    """Sets the starting point up once (publish, price, gateway, funds, stakes) through ape."""
    from ape import chain

    coordinator, registry, worker_registry = (
        deployment.coordinator,
        deployment.registry,
        deployment.workers,
    )
    developer, gateway = roles["developer"], roles["gateway"]
    p = coordinator.params()
    min_stake = worker_registry.minStake()
    registry.publish(PROJECT, FUNCTION, "wasi", CODE_CID, 1_000_000, 16 << 20, 0, sender=developer)
    price = 2 * p.minReward + 1  # odd, so reward splits leave dust
    coordinator.setProjectPrice(PROJECT, price, sender=developer)
    coordinator.setGatewayAuthorization(PROJECT, gateway, True, sender=developer)
    coordinator.fundProject(developer, PROJECT, value=2 * price + price // 2, sender=developer)
    # Stakes chosen so slashing and unbonding push workers below the minimum or out of free stake;
    # with K < 5 the fifth worker starts unregistered (stake_more registers it).
    stakes = [min_stake + 3 * p.commitLock, min_stake, 2 * min_stake, min_stake + p.commitLock]
    if p.maxCommits >= 5:
        stakes.append(min_stake + 2 * p.commitLock)
    for account, stake in zip(workers, stakes, strict=False):
        worker_registry.register(KEY, value=stake, sender=account)

    def abi(contract: Any) -> list[dict[str, Any]]:
        return [a.model_dump(mode="json", by_alias=True) for a in contract.contract_type.abi]

    w3 = Web3(HTTPProvider(chain.provider.uri))
    rpc = Rpc(chain.provider.uri)
    addr = {name: str(account.address) for name, account in roles.items()}
    return World(
        w3=w3,
        rpc=rpc,
        coord=w3.eth.contract(address=coordinator.address, abi=abi(coordinator)),
        reg=w3.eth.contract(address=worker_registry.address, abi=abi(worker_registry)),
        registry=w3.eth.contract(address=registry.address, abi=abi(registry)),
        errors=_error_selectors(abi(coordinator), abi(worker_registry), abi(registry)),
        owner=addr["owner"],
        developer=addr["developer"],
        gateway=addr["gateway"],
        stranger=addr["stranger"],
        requesters=[addr["requester"], addr["developer"], addr["stranger"]],
        workers=[str(a.address) for a in workers],
        actors=[*addr.values(), *(str(a.address) for a in workers)],
        function_id=registry.functionIdOf(developer, PROJECT, FUNCTION),
        project_id=registry.projectIdOf(developer, PROJECT),
        min_reward=p.minReward,
        k=p.maxCommits,
        quorum=p.quorum,
        commit_window=p.commitWindow,
        reveal_window=p.revealWindow,
        bonus_bps=p.speedBonusBps,
        commit_lock=p.commitLock,
        wrong_slash=p.wrongRevealSlash,
        missed_slash=p.missedRevealSlash,
        min_stake=min_stake,
        unbonding_delay=worker_registry.unbondingDelay(),
        chain_id=chain.chain_id,
    )


def _run(world: World, profile: settings, capsys: pytest.CaptureFixture[str]) -> None:
    """Runs the machine over ``world`` for ``profile.max_examples`` sequences and reports how many
    ran, and what they did, on the terminal (captured output or not)."""
    ProtocolMachine.world = world
    RUNS.update(dict.fromkeys(RUNS, 0))
    CALLS.clear()
    started = time.monotonic()
    try:
        run_state_machine_as_test(ProtocolMachine, settings=profile)
    finally:
        with capsys.disabled():
            print(
                f"\nstateful (K={world.k}, quorum={world.quorum}): {RUNS['sequences']} sequences "
                f"({profile.max_examples} required, up to {profile.stateful_step_count} steps each), "
                f"{RUNS['steps']} transactions and time jumps ({RUNS['reverts']} checked reverts), "
                f"{RUNS['finalized']} finalized, {RUNS['refunded']} refunded, "
                f"in {time.monotonic() - started:.1f} s\n  "
                + ", ".join(f"{k}: {v}" for k, v in sorted(CALLS.items()))
            )
    assert RUNS["sequences"] >= profile.max_examples, f"only {RUNS['sequences']} sequences ran"


@pytest.fixture
def roles(
    owner: Any, developer: Any, gateway: Any, requester: Any, stranger: Any
) -> dict[str, Any]:
    return {
        "owner": owner,
        "developer": developer,
        "gateway": gateway,
        "requester": requester,
        "stranger": stranger,
    }


@pytest.mark.slow
def test_protocol__random_sequences__invariants_hold(
    deployment: Any, roles: dict[str, Any], workers: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """The default parameters (K=3, quorum 2, 20% speed bonus): PEERHOST_STATEFUL_EXAMPLES sequences."""
    _run(_world(deployment, roles, workers), PROFILE, capsys)


@pytest.mark.slow
def test_protocol__edge_parameters__invariants_hold(
    project: Any, roles: dict[str, Any], workers: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Edge parameters on a deployment of their own: K=5, quorum 3, the whole reward as speed bonus,
    1-wei rewards, no slash for a wrong reveal, 20 s and 5 s windows. A quarter as many sequences."""
    deployment = deploy(project, roles["owner"], EDGE_PARAMS)
    _run(_world(deployment, roles, workers), settings(PROFILE, max_examples=EDGE_EXAMPLES), capsys)
