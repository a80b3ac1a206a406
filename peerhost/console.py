"""The ``peerhost`` namespace of ``ape console``: contracts, calls, workers, request histories.

Loaded by ``ape_console_extras.py`` at the project root::

    In [1]: peerhost
    Out[1]: <peerhost on ethereum:local:31337: registry 0x5FbD…, gateway http://127.0.0.1:8080 (up)>
    In [2]: r = peerhost.call(peerhost.owner, "examples", "hello")
    In [3]: peerhost.history(r.request_id)
    In [4]: peerhost.workers()

Calls go over HTTP through a running gateway (the devnet's, or ``gateway_url=``); with none
running, :meth:`PeerHost.call` says so and how to start one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from hexbytes import HexBytes

from peerhost.chain.abis import load_abi
from peerhost.chain.codec import ContractCodec
from peerhost.chain.config import ChainConfig
from peerhost.chain.rpc import RpcClient
from peerhost.chain.settlement import SettlementView
from peerhost.client.verify import AnswerCheck, check_attestations, check_settled
from peerhost.deployments import DeploymentNotFound, find_deployment
from peerhost.errors import PeerHostError
from peerhost.publishing.urls import DEFAULT_GATEWAY_URL, function_url
from peerhost.wire.headers import MODE_HEADER, REQUEST_ID_HEADER, RESULT_HASH_HEADER, WORKER_HEADER

ETHER = 10**18
PHASES = ("None", "Commit", "Reveal", "Settle", "Finalized", "Refunded")


class GatewayNotRunning(PeerHostError, ConnectionError):
    """No gateway answers at the URL the console would call."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(
            f"No gateway answers at {url} ({reason}). A call needs a running gateway: start the "
            "devnet (`ape run devnet`) or a gateway (`ape run gateway`), or pass "
            "peerhost.gateway_url = '<its URL>'."
        )


class NoDeployment(PeerHostError, LookupError):
    """The console's network has no PeerHost deployment."""

    def __init__(self, network: str) -> None:
        super().__init__(
            f"No PeerHost contracts recorded for {network}. Run `ape run devnet` and attach "
            "(APE_FOUNDRY_HOST=<its chain URL> ape console), or `ape run deploy`."
        )


@dataclass(frozen=True)
class CallResult:
    """A function's HTTP answer, with the proof headers the gateway adds."""

    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_ms: float

    @property
    def request_id(self) -> str | None:
        return self.headers.get(REQUEST_ID_HEADER)

    @property
    def result_hash(self) -> str | None:
        return self.headers.get(RESULT_HASH_HEADER)

    @property
    def mode(self) -> str | None:
        return self.headers.get(MODE_HEADER)

    @property
    def worker(self) -> str | None:
        return self.headers.get(WORKER_HEADER)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        body = self.text if len(self.text) <= 400 else self.text[:400] + "…"
        lines = [f"<{self.status} in {self.elapsed_ms:.0f} ms, mode {self.mode}>"]
        for label, value in (
            ("request id", self.request_id),
            ("result hash", self.result_hash),
            ("worker", self.worker),
        ):
            if value:
                lines.append(f"  {label:<12} {value}")
        lines.append(f"  body         {body}")
        return "\n".join(lines)


@dataclass(frozen=True)
class WorkerInfo:
    """A registered worker: stake (wei) and reputation counters."""

    address: str
    active: bool
    stake: int
    locked: int
    jobs_won: int
    jobs_agreed: int
    jobs_slashed: int
    reveals_missed: int


class WorkerTable(list[WorkerInfo]):
    """The workers, shown as a table in the console."""

    def __repr__(self) -> str:
        if not self:
            return "(no registered workers)"
        head = f"{'worker':<42} {'active':<6} {'stake ETH':>10} {'locked':>8} {'won':>5} {'agreed':>6} {'slashed':>7} {'missed':>6}"
        rows = [
            f"{w.address:<42} {'yes' if w.active else 'no':<6} {w.stake / ETHER:>10.4f} "
            f"{w.locked / ETHER:>8.4f} {w.jobs_won:>5} {w.jobs_agreed:>6} {w.jobs_slashed:>7} "
            f"{w.reveals_missed:>6}"
            for w in self
        ]
        return "\n".join([head, *rows])


@dataclass(frozen=True)
class HistoryEvent:
    """One event of a request's history."""

    block: int
    log_index: int
    tx_hash: str
    name: str
    args: dict[str, Any]

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}={_show_job(v) if k == 'job' else _show(v)}"
            for k, v in self.args.items()
            if k != "requestId"
        )
        return f"block {self.block:>5}  {self.name}({shown})"


@dataclass
class RequestHistory:
    """A request's on-chain state and every event it caused, in chain order."""

    request_id: str
    phase: str
    state: dict[str, Any]
    events: list[HistoryEvent] = field(default_factory=list)

    def __repr__(self) -> str:
        lines = [f"request {self.request_id}: {self.phase}"]
        for key in ("requester", "reward", "commitCount", "revealCount", "resultHash", "fastest"):
            if key in self.state:
                lines.append(f"  {key:<12} {_show(self.state[key])}")
        lines += [f"  {event!r}" for event in self.events]
        return "\n".join(lines)


class PeerHost:
    """The console's entry point to one deployment.

    Args:
        deployment: The deployment (``peerhost.deploy.Deployment``).
        chain: ape's chain manager.
        gateway_url: Where calls go.
        owner: The default wallet of examples (the devnet's publisher), when known.
    """

    def __init__(
        self,
        deployment: Any,
        chain: Any,
        gateway_url: str = DEFAULT_GATEWAY_URL,
        owner: str | None = None,
        project: str | None = None,
        contracts: dict[str, str] | None = None,
    ) -> None:
        self.deployment = deployment
        self.chain = chain
        self.gateway_url = gateway_url
        self.owner = owner
        self.project = project
        self.contracts = dict(contracts or {})
        self._codec = ContractCodec(load_abi("ExecutionCoordinator"))

    @property
    def registry(self) -> Any:
        """The FunctionRegistry (an ape contract)."""
        return self.deployment.registry

    @property
    def worker_registry(self) -> Any:
        """The WorkerRegistry (an ape contract)."""
        return self.deployment.workers

    @property
    def coordinator(self) -> Any:
        """The ExecutionCoordinator (an ape contract)."""
        return self.deployment.coordinator

    def __repr__(self) -> str:
        up = "up" if self.gateway_up() else "not running"
        return (
            f"<peerhost on {self.deployment.key}: registry {self.registry.address}, "
            f"workers {self.worker_registry.address}, coordinator {self.coordinator.address}; "
            f"gateway {self.gateway_url} ({up})>"
        )

    # ---- calls ----------------------------------------------------------------------------

    def gateway_up(self) -> bool:
        try:
            return httpx.get(self.gateway_url + "/_health", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def url(self, wallet: str, project: str, function: str) -> str:
        return function_url(self.gateway_url, str(wallet), project, function)

    def call(
        self,
        wallet: Any,
        project: str,
        function: str,
        body: Any = None,
        mode: str | None = None,
        *,
        method: str | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 150.0,
    ) -> CallResult:
        """Calls a function over HTTP through the gateway.

        Args:
            wallet: The owner (address or ape account).
            project: The project name.
            function: The function name.
            body: Bytes, text, or anything JSON-serializable (sent as JSON); None sends a GET.
            mode: ``"fast"`` or ``"verified"`` (default: the function's).
            method: HTTP method (default: POST with a body, GET without).
            query: Query parameters.
            headers: More request headers.

        Raises:
            GatewayNotRunning: no gateway answers at :attr:`gateway_url`.
        """
        address = str(getattr(wallet, "address", wallet))
        sent_headers = dict(headers or {})
        if mode:
            sent_headers[MODE_HEADER] = mode
        content: bytes | None
        if body is None:
            content = None
        elif isinstance(body, bytes):
            content = body
        elif isinstance(body, str):
            content = body.encode()
        else:
            content = json.dumps(body).encode()
            sent_headers.setdefault("content-type", "application/json")
        verb = method or ("GET" if content is None else "POST")
        try:
            response = httpx.request(
                verb,
                self.url(address, project, function),
                content=content,
                params=query,
                headers=sent_headers,
                timeout=timeout,
            )
        except httpx.ConnectError as exc:
            raise GatewayNotRunning(self.gateway_url, str(exc) or "connection refused") from exc
        return CallResult(
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=response.content,
            elapsed_ms=response.elapsed.total_seconds() * 1000,
        )

    # ---- verifying answers --------------------------------------------------------------

    def verify(self, result: CallResult, *, settled: bool = False) -> AnswerCheck:
        """Checks a ticket-path answer: its attestations recover to workers active in the stake
        epoch and sign this response's result hash; with ``settled``, also that the chain
        finalized this result for its ticket (see :mod:`peerhost.client.verify`)."""
        if "settlement" not in self.contracts:
            raise NoDeployment("this network (no settlement contracts are known)")
        config: ChainConfig = dataclasses.replace(
            self.deployment.chain_config(self.chain.provider),
            stakes=self.contracts["stakes"],
            gateways=self.contracts["gateways"],
            settlement=self.contracts["settlement"],
        )

        async def run() -> AnswerCheck:
            rpc = RpcClient(config.rpc_url)
            try:
                view = SettlementView(config, rpc)
                active = await view.active_set()
                check = check_attestations(
                    result.headers, config.chain_id, config.settlement, active.members
                )
                if settled and check.ok and result.request_id:
                    status = httpx.get(
                        f"{self.gateway_url}/_status/requests/{result.request_id}", timeout=10
                    ).json()
                    on_chain = await check_settled(view, status, result.result_hash or "")
                    check.problems += on_chain.problems
                return check
            finally:
                await rpc.aclose()

        return asyncio.run(run())

    # ---- workers --------------------------------------------------------------------------

    def workers(self) -> WorkerTable:
        """Every registered worker with its stake and reputation."""
        registry = self.worker_registry
        out = WorkerTable()
        count = int(registry.workerCount())
        for offset in range(0, count, 100):
            for address in registry.workers(offset, 100):
                info = registry.getWorker(address)
                rep = registry.reputation(address)
                out.append(
                    WorkerInfo(
                        address=str(address),
                        active=bool(registry.isActive(address)),
                        stake=int(info.stake),
                        locked=int(info.locked),
                        jobs_won=int(rep.jobsWon),
                        jobs_agreed=int(rep.jobsAgreed),
                        jobs_slashed=int(rep.jobsSlashed),
                        reveals_missed=int(rep.revealsMissed),
                    )
                )
        return out

    # ---- requests -------------------------------------------------------------------------

    def history(self, request_id: str | bytes) -> RequestHistory:
        """A request's state and its full event history (request, commits, reveals, settlement)."""
        rid = HexBytes(request_id)
        if len(rid) != 32:
            raise ValueError("a request id is 32 bytes (0x + 64 hex digits)")
        rid_hex = rid.to_0x_hex()
        raw = self.chain.provider.make_request(
            "eth_getLogs",
            [
                {
                    "address": str(self.coordinator.address),
                    "fromBlock": hex(max(0, int(self.deployment.block_number))),
                    "toBlock": "latest",
                    "topics": [None, rid_hex],
                }
            ],
        )
        events = []
        for entry in raw:
            entry = {k: _jsonable(v) for k, v in dict(entry).items()}
            decoded = self._codec.decode_log(entry)
            if decoded is None:
                continue
            name, args = decoded
            events.append(
                HistoryEvent(
                    block=_int(entry["blockNumber"]),
                    log_index=_int(entry["logIndex"]),
                    tx_hash=str(entry["transactionHash"]),
                    name=name,
                    args=args,
                )
            )
        events.sort(key=lambda e: (e.block, e.log_index))
        phase = PHASES[int(self.coordinator.phase(rid_hex))]
        state: dict[str, Any] = {}
        if phase != "None":
            request = self.coordinator.getRequest(rid_hex)
            state = {
                name: getattr(request, name)
                for name in (
                    "requester",
                    "functionId",
                    "reward",
                    "commitCount",
                    "revealCount",
                    "resultHash",
                    "fastest",
                )
            }
        return RequestHistory(request_id=rid_hex, phase=phase, state=state, events=events)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return HexBytes(value).to_0x_hex()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return hex(value)
    return value


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _show(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return HexBytes(value).to_0x_hex()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


def _show_job(job: Any) -> str:
    """The interesting part of an ExecutionRequested job: what ran, on what, for how much."""
    if not isinstance(job, dict):
        return _show(job)
    from peerhost.storage import cid_from_bytes

    data = bytes(job.get("input") or b"")
    try:
        cid = cid_from_bytes(bytes(job["codeCid"]))
    except Exception:  # display only
        cid = _show(job.get("codeCid"))
    reply = bytes(job.get("replyTo") or b"").decode(errors="replace")
    return (
        f"{{v{job.get('version')} {job.get('runtime')} {cid}, input {len(data)} bytes, "
        f"reward {job.get('reward')}, fuel {job.get('fuelLimit')}, replyTo {reply or '-'}}}"
    )


def open_console(project: Any, chain: Any) -> PeerHost:
    """The namespace for the connected network: its deployment, the devnet's gateway if running.

    Raises NoDeployment when nothing is deployed on this network.
    """
    try:
        found = find_deployment(project, chain)
    except DeploymentNotFound as exc:
        raise NoDeployment(exc.network) from None
    devnet = found.devnet
    return PeerHost(
        found.deployment,
        chain,
        gateway_url=devnet.gateway_url if devnet else DEFAULT_GATEWAY_URL,
        owner=devnet.owner if devnet else None,
        project=devnet.project if devnet else None,
        contracts=dict(devnet.contracts) if devnet else None,
    )
