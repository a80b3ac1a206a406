"""A lean stand-in for ape's contract and chain objects, for the long stateful machines.

Through ape a view call costs about ten JSON-RPC requests (chain id, code check, estimates) and a
transaction about a dozen plus a trace on every revert; the accountability machine reads the chain
thousands of times per hundred steps. :class:`LeanContract` and :class:`LeanChain` answer the same
calls the machines and their kits make (``contract.method(*args)`` for views, ``contract.method(*args,
sender=account, value=wei)`` for transactions, ``receipt.events.filter(contract.Event)``,
``chain.mine(deltatime=...)``, ``chain.pending_timestamp``, ``chain.snapshot()``/``restore()``) with
one plain JSON-RPC request per view and three per transaction (a preflight ``eth_call`` that raises
ape's :class:`~ape.exceptions.ContractLogicError` on a revert, as ape's gas estimate does, then
``eth_sendTransaction`` from anvil's unlocked test accounts, then the receipt). The chain sees the
same transactions in the same order; only the client is thinner. Transactions carry no fee (the test
chain's base fee is zero), so contract balances are exact as before.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import requests
from ape.exceptions import ContractLogicError
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from eth_utils.abi import collapse_if_tuple

from peerhost.deploy import Settlement

if TYPE_CHECKING:
    from .conftest import Kit

READ_ONLY = frozenset({"eth_call", "eth_getBalance", "eth_blockNumber", "eth_getBlockByNumber"})
GAS = 15_000_000  # per transaction; the preflight already refused anything that reverts


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", error))
        self.data = str(error.get("data") or "")


class Rpc:
    """Plain JSON-RPC over one keep-alive session; ``batch`` is one round trip."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.session = requests.Session()
        self.ids = itertools.count()

    def __call__(self, method: str, *params: Any) -> Any:
        return self.batch([(method, list(params))])[0]

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        out = []
        for r in self.answers(calls):
            if "error" in r:
                raise RpcError(r["error"])
            out.append(r["result"])
        return out

    def answers(self, calls: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """The raw answers (``result`` or ``error``) of ``calls``, in order, in one round trip."""
        payload = [
            {"jsonrpc": "2.0", "id": next(self.ids), "method": m, "params": p} for m, p in calls
        ]
        body = self.session.post(self.uri, json=payload, timeout=120).json()
        by_id = {r["id"]: r for r in body}
        return [by_id[p["id"]] for p in payload]


class Struct(tuple):  # type: ignore[type-arg]
    """A decoded ABI tuple: indexable like ape's return values, and by component name."""

    names: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[self.names.index(name)]
        except ValueError:
            raise AttributeError(name) from None


def _struct(names: Sequence[str], values: Sequence[Any]) -> Struct:
    s = Struct(values)
    s.names = tuple(names)
    return s


def _shape(spec: dict[str, Any], value: Any) -> Any:
    """A decoded value shaped as ape gives it: checksum addresses, named structs, lists."""
    kind = spec["type"]
    if kind.endswith("]"):
        inner = dict(spec, type=kind[: kind.rindex("[")])
        return [_shape(inner, v) for v in value]
    if kind == "tuple":
        comps = spec["components"]
        return _struct(
            [c["name"] for c in comps], [_shape(c, v) for c, v in zip(comps, value, strict=True)]
        )
    if kind == "address":
        return to_checksum_address(value)
    return value


def _arg(value: Any) -> Any:
    """An argument as eth_abi takes it: accounts and contracts by address, tuples recursively."""
    if isinstance(value, (str, bytes, int)):
        return bytes(value) if isinstance(value, bytes) else value
    if hasattr(value, "address"):
        return str(value.address)
    if isinstance(value, (list, tuple)):
        return (
            [_arg(v) for v in value] if isinstance(value, list) else tuple(_arg(v) for v in value)
        )
    return value


def _key(method: str, arg: Any) -> tuple[str, str]:
    return (method, arg if isinstance(arg, str) else f"{arg['to']}{arg['data']}")


def _types(params: Sequence[dict[str, Any]]) -> list[str]:
    return [collapse_if_tuple(p) for p in params]


class LeanEvent:
    def __init__(self, contract: LeanContract, abi: dict[str, Any]) -> None:
        self.contract = contract.address
        self.abi = abi
        self.name = abi["name"]
        self.topic = keccak(text=f"{abi['name']}({','.join(_types(abi['inputs']))})")

    def decode(self, log: dict[str, Any]) -> Struct:
        inputs = self.abi["inputs"]
        topics = [bytes.fromhex(t[2:]) for t in log["topics"][1:]]
        plain = [p for p in inputs if not p.get("indexed")]
        data = iter(decode(_types(plain), bytes.fromhex(log["data"][2:])))
        values = []
        for p in inputs:
            if p.get("indexed"):
                raw = topics.pop(0)
                dynamic = p["type"] in ("bytes", "string") or p["type"].endswith("]")
                dynamic = dynamic or p["type"] == "tuple"
                values.append(raw if dynamic else _shape(p, decode([p["type"]], raw)[0]))
            else:
                values.append(_shape(p, next(data)))
        return _struct([p["name"] for p in inputs], values)


@dataclasses.dataclass
class LeanEvents:
    logs: list[dict[str, Any]]

    def filter(self, event: LeanEvent) -> list[Struct]:
        return [
            event.decode(log)
            for log in self.logs
            if log["topics"]
            and bytes.fromhex(log["topics"][0][2:]) == event.topic
            and to_checksum_address(log["address"]) == event.contract
        ]


@dataclasses.dataclass
class LeanReceipt:
    raw: dict[str, Any]

    @property
    def events(self) -> LeanEvents:
        return LeanEvents(self.raw["logs"])

    @property
    def txn_hash(self) -> str:
        return str(self.raw["transactionHash"])


class LeanMethod:
    def __init__(self, contract: LeanContract, overloads: list[dict[str, Any]]) -> None:
        self.contract = contract
        self.overloads = overloads

    def _abi(self, args: Sequence[Any]) -> dict[str, Any]:
        fits = [a for a in self.overloads if len(a["inputs"]) == len(args)]
        if len(fits) != 1:
            raise TypeError(f"{self.overloads[0]['name']}: no single overload takes {len(args)}")
        return fits[0]

    def calldata(self, *args: Any) -> tuple[dict[str, Any], str]:
        abi = self._abi(args)
        types = _types(abi["inputs"])
        selector = keccak(text=f"{abi['name']}({','.join(types)})")[:4]
        return abi, "0x" + (selector + encode(types, [_arg(a) for a in args])).hex()

    def __call__(self, *args: Any, sender: Any = None, value: int = 0) -> Any:
        abi, data = self.calldata(*args)
        view = abi.get("stateMutability") in ("view", "pure")
        if view and sender is None:
            return self.contract.chain.decode_call(abi, self.contract.address, data)
        return self.contract.chain.transact(self.contract, abi, data, sender, value)


class LeanContract:
    """Answers ape's ``contract.method(...)`` and ``contract.Event`` for one deployed contract."""

    def __init__(self, chain: LeanChain, address: str, abi: list[dict[str, Any]]) -> None:
        self.chain = chain
        self.address = to_checksum_address(address)
        self.abi = abi
        self._methods: dict[str, list[dict[str, Any]]] = {}
        self._events: dict[str, dict[str, Any]] = {}
        for item in abi:
            if item["type"] == "function":
                self._methods.setdefault(item["name"], []).append(item)
            elif item["type"] == "event":
                self._events[item["name"]] = item
        self.errors = {
            "0x" + keccak(text=f"{e['name']}({','.join(_types(e['inputs']))})")[:4].hex(): e["name"]
            for e in abi
            if e["type"] == "error"
        }

    @classmethod
    def of(cls, chain: LeanChain, contract: Any) -> LeanContract:
        """The lean twin of an ape ``ContractInstance``."""
        abi = [a.model_dump(mode="json", by_alias=True) for a in contract.contract_type.abi]
        return cls(chain, str(contract.address), abi)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._methods:
            return LeanMethod(self, self._methods[name])
        if name in self._events:
            return LeanEvent(self, self._events[name])
        raise AttributeError(f"{name} is neither a method nor an event of {self.address}")


class _Head:
    def __init__(self, chain: LeanChain) -> None:
        self.chain = chain

    @property
    def number(self) -> int:
        return int(self.chain.rpc("eth_blockNumber"), 16)


class _Blocks:
    def __init__(self, chain: LeanChain) -> None:
        self.head = _Head(chain)


class LeanChain:
    """Answers the ape ``chain`` (and ``chain.provider``) calls the kits make, over plain JSON-RPC."""

    def __init__(self, uri: str, chain_id: int) -> None:
        self.rpc = Rpc(uri)
        self.uri = uri
        self.chain_id = chain_id
        self.blocks = _Blocks(self)
        self.errors: dict[str, str] = {}
        # Reads of the latest state, until the next request that may change it: the invariants and
        # the honest challenger read the same cases, leaves and credits many times per step.
        self.reads: dict[tuple[str, str], Any] = {}
        self.generation = (
            0  # counts the state changes: a reader can tell whether it read this state
        )

    def changed(self) -> None:
        self.reads.clear()
        self.generation += 1

    def prefetch(
        self, calls: Sequence[tuple[Any, Sequence[Any]]], balances: Sequence[Any] = ()
    ) -> None:
        """Reads ``calls`` (``(contract.method, args)``) and ``balances`` in one round trip, for the
        reads that follow (the cache keeps them until the state changes)."""
        wanted: list[tuple[str, Any]] = []
        for method, args in calls:
            _, data = method.calldata(*args)
            wanted.append(("eth_call", {"to": method.contract.address, "data": data}))
        wanted += [("eth_getBalance", str(_arg(a))) for a in balances]
        keys = [_key(m, a) for m, a in wanted]
        todo = [
            (k, (m, [a, "latest"]))
            for k, (m, a) in zip(keys, wanted, strict=True)
            if k not in self.reads
        ]
        answers = self.rpc.answers([call for _, call in todo]) if todo else []
        for (k, _), r in zip(todo, answers, strict=True):
            if "result" in r:
                self.reads[k] = r["result"]

    @property
    def provider(self) -> LeanChain:
        return self

    def contract(self, contract: Any) -> LeanContract:
        lean = LeanContract.of(self, contract)
        self.errors.update(lean.errors)
        return lean

    # ---------------------------------------------------------------- ape's chain / provider calls

    def make_request(self, method: str, params: list[Any]) -> Any:
        if method not in READ_ONLY:
            self.changed()
        return self.rpc(method, *params)

    def get_balance(self, address: Any) -> int:
        return int(self._read("eth_getBalance", str(_arg(address))), 16)

    def _read(self, method: str, arg: Any) -> Any:
        key = _key(method, arg)
        if key in self.reads:
            return self.reads[key]
        out = self.reads[key] = self.rpc(method, arg, "latest")
        return out

    @property
    def pending_timestamp(self) -> int:
        return int(self.rpc("eth_getBlockByNumber", "pending", False)["timestamp"], 16)

    @pending_timestamp.setter
    def pending_timestamp(self, value: int) -> None:
        self.changed()
        self.rpc("evm_setNextBlockTimestamp", int(value))

    def mine(
        self, num_blocks: int = 1, timestamp: int | None = None, deltatime: int | None = None
    ) -> None:
        """As ape's ``chain.mine``: moves the pending timestamp, then ``anvil_mine``."""
        if timestamp and deltatime:
            raise ValueError("Cannot give both `timestamp` and `deltatime` arguments together.")
        if timestamp:
            self.pending_timestamp = timestamp
        elif deltatime:
            self.pending_timestamp = self.pending_timestamp + deltatime
        self.changed()
        self.rpc("anvil_mine", hex(num_blocks))

    def snapshot(self) -> str:
        return str(self.rpc("evm_snapshot"))

    def restore(self, snapshot_id: str) -> None:
        self.changed()
        if self.rpc("evm_revert", snapshot_id) is not True:
            raise AssertionError(f"snapshot {snapshot_id} not restored")

    # ---------------------------------------------------------------- calls and transactions

    def decode_call(self, abi: dict[str, Any], to: str, data: str) -> Any:
        try:
            out = self._read("eth_call", {"to": to, "data": data})
        except RpcError as err:
            raise ContractLogicError(self._reason(abi, err)) from err
        outputs = abi["outputs"]
        values = decode(_types(outputs), bytes.fromhex(out[2:]))
        shaped = [_shape(o, v) for o, v in zip(outputs, values, strict=True)]
        if len(shaped) == 1:
            return shaped[0]
        return _struct([o["name"] for o in outputs], shaped)

    def transact(
        self, contract: LeanContract, abi: dict[str, Any], data: str, sender: Any, value: int
    ) -> LeanReceipt:
        if sender is None:
            raise TypeError(f"{abi['name']} is a transaction: pass sender=")
        tx = {
            "from": _arg(sender),
            "to": contract.address,
            "data": data,
            "value": hex(int(value)),
            "gas": hex(GAS),
        }
        try:  # ape estimates gas first: a reverting transaction raises and mines nothing
            self.rpc("eth_call", tx, "pending")
        except RpcError as err:
            raise ContractLogicError(self._reason(abi, err)) from err
        tx.update(maxFeePerGas="0x0", maxPriorityFeePerGas="0x0")
        self.changed()
        tx_hash = self.rpc("eth_sendTransaction", tx)
        receipt = self.rpc("eth_getTransactionReceipt", tx_hash)
        while receipt is None:  # automine answers after mining; a loaded node may lag
            time.sleep(0.001)
            receipt = self.rpc("eth_getTransactionReceipt", tx_hash)
        if int(receipt["status"], 16) != 1:
            raise ContractLogicError(f"{abi['name']} from {tx['from']} reverted when mined")
        return LeanReceipt(receipt)

    def _reason(self, abi: dict[str, Any], err: RpcError) -> str:
        name = self.errors.get(err.data[:10], "")
        return f"{abi['name']} reverted: {name or err} {err.data}".strip()


def lean_kit(kit: Kit) -> Kit:
    """``kit`` driving the same deployment through :class:`LeanChain` (ape stays for setup)."""
    chain = LeanChain(str(kit.chain.provider.uri), int(kit.chain.chain_id))
    s = Settlement(*(chain.contract(getattr(kit.s, f.name)) for f in dataclasses.fields(kit.s)))
    return dataclasses.replace(kit, s=s, chain=chain)
