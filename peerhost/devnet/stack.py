"""The devnet: a chain, the contracts, the example functions, N workers and a gateway.

Used by ``ape run devnet``, the end-to-end tests and the benchmark::

    devnet = Devnet(DevnetConfig(workers=3, port=8080))
    devnet.start_chain()                         # our own anvil (or devnet.attach(url))
    with networks.ethereum.local.use_provider("foundry", provider_settings={"host": devnet.rpc_url}):
        devnet.setup_chain(project, deployer, developer)   # deploy, publish, fund (ape)
    devnet.start_services()                      # workers and gateway (child processes)
    ...
    devnet.stop()                                # gateway, then workers, then the chain

The on-chain part goes through ape (deploying and publishing are developer actions); workers and
the gateway are separate processes that reach the chain by URL, as in production.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from peerhost import devnet_state
from peerhost.chain import ChainConfig, ws_url_for
from peerhost.deploy import (
    ETHER,
    CourtParams,
    Deployment,
    DeployParams,
    Settlement,
    SettlementParams,
    ensure_deployment,
)
from peerhost.devnet.accounts import DEPLOYER, GATEWAY, Key, derive, worker_key
from peerhost.devnet.anvil import Anvil
from peerhost.devnet.errors import PortInUse
from peerhost.devnet.processes import free_port, port_open
from peerhost.devnet.progress import Progress, quiet
from peerhost.devnet.settlement import devnet_settlement_params, setup_settlement, start_epoch
from peerhost.devnet.webhook import FUNCTION as WEBHOOK_FUNCTION
from peerhost.devnet.webhook import SECRET_FILE, SECRET_NAME, dev_secret
from peerhost.publishing import Publisher, PublishReport, load_project, prepare_project
from peerhost.storage import open_store

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = PROJECT_ROOT / "examples"
#: Seconds between the gateway's posts at least on a chain that mines a block per transaction:
#: each post brings its batch's blocks (its seed, the seats' commits and reveals), and every
#: process following the chain reads each block (docs/performance.md, "Per-block work").
AUTOMINE_POST_FLOOR = 2.0
#: Seconds the devnet waits for a process it starts (a worker, the gateway) to say it is ready.
#: Most of a start is Python importing the stack, which took 57 s for a gateway on two cores at
#: load 19 (the fault campaign's five stacks); the gateway had 60 s, and missed it.
START_TIMEOUT = 180.0


def user_cache_dir() -> Path:
    """The per-user cache the tools share (as ``tools/*/*.sh`` do): ``$PEERHOST_TOOLS_CACHE``,
    else ``$XDG_CACHE_HOME/peerhost``, else ``~/.cache/peerhost``."""
    configured = os.environ.get("PEERHOST_TOOLS_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "peerhost"


def params_for(workers: int) -> DeployParams:
    """Protocol parameters a devnet of ``workers`` honest workers can always settle.

    K = min(3, workers) commitments per request and a quorum of more than half of them.
    """
    k = max(1, min(3, workers))
    return DeployParams(max_commits=k, quorum=k // 2 + 1)


@dataclass
class DevnetConfig:
    """How to run a devnet.

    Attributes:
        workers: Workers to start.
        port: The gateway's HTTP port (0: a free one).
        chain_port: anvil's port when the devnet starts its own chain (0: a free one).
        state_dir: Where the store, logs, worker state and ``devnet.json`` live.
        examples: The project folder to publish (holds ``functions/``).
        project_name: Overrides the examples' project name.
        fund: Wei put in the example project's prepaid balance.
        worker_stake: Wei each worker stakes.
        params: Protocol parameters (default: :func:`params_for` the worker count).
        gateway_settings: GatewaySettings fields to override (timeouts, rate limit, ...).
        worker_settings: WorkerSettings fields to override for every worker.
        record: Write ``devnet.json`` so other commands find this devnet.
        sandbox_cache: Compiled-module cache shared by the workers (default:
            ``sandbox/`` of :func:`user_cache_dir`); the runtimes are compiled into it once.
        python_in_background: Compile the Python runtime in a background thread instead of
            before the workers start (the interactive devnet: its first calls need not wait
            for it; a python call before it is done compiles in the worker).
        tickets: Answer from tickets and attestations (the settlement contracts are deployed
            beside the request contracts, the gateway is bonded, the project reserve funded,
            the workers staked into the first epoch and connected to the gateway's job feed).
        settlement_params: Settlement parameters (default: :func:`devnet_settlement_params`).
        court_params: Accountability parameters (default: :func:`devnet_court_params`).
        block_time: Seconds between blocks once the setup is done (0: a block per transaction;
            the workers then mine the blocks committee seeds need).
        strategies: Strategy of worker ``n`` (``peerhost.worker.strategies``; a worker beyond the
            list is ``honest``): a lab devnet with deviating worker processes.
    """

    workers: int = 3
    port: int = 8080
    chain_port: int = 0
    state_dir: Path = field(default_factory=devnet_state.default_state_dir)
    examples: Path = EXAMPLES
    project_name: str | None = None
    fund: int = 100 * ETHER
    worker_stake: int = 2 * ETHER
    params: DeployParams | None = None
    gateway_settings: dict[str, Any] = field(default_factory=dict)
    worker_settings: dict[str, Any] = field(default_factory=dict)
    record: bool = True
    sandbox_cache: Path | None = None
    tickets: bool = False
    block_time: float = 0.0
    settlement_params: SettlementParams | None = None
    court_params: CourtParams | None = None
    python_in_background: bool = False
    strategies: tuple[str, ...] = ()

    def strategy_of(self, n: int) -> str:
        return self.strategies[n] if n < len(self.strategies) else "honest"

    def cartel_of(self, n: int) -> str:
        """The cartel of worker ``n`` when its strategy coordinates an owner's identities: every
        worker of the devnet given that strategy belongs to one owner (comma-separated addresses;
        "" for the other strategies)."""
        from peerhost.worker.strategies import CARTEL_STRATEGIES

        name = self.strategy_of(n)
        if name not in CARTEL_STRATEGIES:
            return ""
        members = [m for m in range(self.workers) if self.strategy_of(m) == name]
        return ",".join(worker_key(m).address for m in members)


def parse_workers(spec: str) -> tuple[int, tuple[str, ...]]:
    """``--workers``: a count (``3``) or one strategy per worker (``honest,honest,lazy,forger``).

    Raises:
        ValueError: neither a count from 1 to 32 nor a list of known strategy names.
    """
    from peerhost.worker.strategies import WORKER_STRATEGIES

    text = spec.strip()
    names: tuple[str, ...] = ()
    if text.isdigit():
        count = int(text)
    else:
        names = tuple(n.strip() for n in text.split(","))
        unknown = [n for n in names if n not in WORKER_STRATEGIES]
        if unknown or not names:
            known = ", ".join(WORKER_STRATEGIES)
            raise ValueError(
                f"{spec!r}: give a worker count or one strategy per worker, from {known} "
                f"(unknown: {', '.join(unknown) or 'none given'})"
            )
        count = len(names)
    if not 1 <= count <= 32:
        raise ValueError(f"{spec!r}: give a worker count from 1 to 32")
    return count, names


class Devnet:
    """A running (or starting) devnet; see the module docstring."""

    def __init__(self, config: DevnetConfig, progress: Progress | None = None) -> None:
        self.config = config
        self.progress = progress or quiet()
        self.state_dir = config.state_dir.expanduser().resolve()
        self.anvil: Anvil | None = None
        self.rpc_url = ""
        self.chain_id = 0
        self.deployment: Deployment | None = None
        self.chain_config: ChainConfig | None = None
        self.report: PublishReport | None = None
        self.workers: list[Any] = []  # peerhost.worker.launcher.WorkerProcess
        self.gateway: Any = None  # peerhost.gateway.launcher process handle
        self.gateway_url = ""
        self.gateway_key: Key = derive(GATEWAY)
        self.start_block = 0  # requests are watched from here (the head when setup began)
        self.settlement: Settlement | None = None
        self.gateway_log_offset = 0  # where this run's gateway began writing its log

    # ---- paths ----------------------------------------------------------------------------

    @property
    def store_spec(self) -> str:
        return f"local:{self.state_dir / 'store'}"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def deployments_path(self) -> Path:
        return self.state_dir / "deployments.json"

    # ---- the chain ------------------------------------------------------------------------

    def start_chain(self) -> str:
        """Starts the devnet's own anvil; returns its URL."""
        port = self.config.chain_port or free_port()
        accounts = max(10, 4 + self.config.workers)
        with self.progress.step(f"Starting the chain (anvil on 127.0.0.1:{port})") as detail:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self.anvil = Anvil(
                port=port,
                accounts=accounts,
                log_path=self.logs_dir / "anvil.log",
                states_dir=self.state_dir / "anvil-states",
            ).start()
            detail(f"chain id 31337, {accounts} funded test accounts")
        return self.attach(self.anvil.url)

    def attach(self, rpc_url: str, chain_id: int = 31337) -> str:
        """Uses a chain started elsewhere (a fork, a node another process runs)."""
        self.rpc_url = rpc_url
        self.chain_id = chain_id
        return rpc_url

    # ---- on-chain setup (through ape) -----------------------------------------------------

    def setup_chain(
        self, project: Any, deployer: Any, developer: Any, deployment: Deployment | None = None
    ) -> PublishReport:
        """Compiles and deploys the contracts, publishes the examples, funds the project.

        Needs ape connected to this devnet's chain. ``deployer`` and ``developer`` are ape
        accounts. With ``deployment`` (contracts already on the chain, e.g. a fork of a live
        network) nothing is deployed.
        """
        with self.progress.step("Compiling the contracts") as detail:
            contracts = project.load_contracts()
            detail(f"{len(contracts)} contract types")
        self.chain_id = int(deployer.chain_manager.chain_id)
        self.start_block = int(deployer.chain_manager.blocks.height)
        if deployment is None:
            with self.progress.step("Deploying the contracts") as detail:
                params = self.config.params or params_for(self.config.workers)
                deployment = ensure_deployment(project, deployer, params, self.deployments_path)
                for name, address in deployment.addresses.items():
                    detail(f"{name:<12} {address}")
                detail(f"quorum {params.quorum} of {params.max_commits} commitments")
        self.deployment = deployment
        self.chain_config = ChainConfig(
            rpc_url=self.rpc_url,
            ws_url=ws_url_for(self.rpc_url),
            chain_id=self.chain_id,
            registry=deployment.addresses["registry"],
            workers=deployment.addresses["workers"],
            coordinator=deployment.addresses["coordinator"],
        )
        self.ensure_funded(deployer, [worker_key(n).address for n in range(self.config.workers)])
        self.ensure_funded(deployer, [self.gateway_key.address])
        self.gateway_url = f"http://127.0.0.1:{self._gateway_port()}"
        with self.progress.step(f"Publishing {self.config.examples}") as detail:
            spec = load_project(self.config.examples, self.config.project_name)
            publisher = Publisher(
                deployment.registry,
                developer,
                open_store(self.store_spec),
                self.gateway_url,
                log=detail,
            )
            self.report = publisher.publish(spec)
            for fn in self.report.functions:
                detail(
                    f"{fn.name:<16} {fn.runtime:<4} {fn.mode:<8} {fn.action} v{fn.version}  {fn.cid}"
                )
            account = prepare_project(
                deployment.coordinator,
                deployment.registry,
                developer,
                spec.name,
                fund=max(0, self.config.fund - self._balance(deployment, developer, spec.name)),
                gateways=(self.gateway_key.address,),
            )
            detail(
                f"project balance {account.balance / ETHER:g} ETH, "
                f"{account.price / ETHER:g} ETH per request, gateway {self.gateway_key.address} authorized"
            )
        if self.config.tickets:
            self.setup_settlement(project, deployer, developer, deployment, spec.name)
        return self.report

    @property
    def settlement_params(self) -> SettlementParams:
        return self.config.settlement_params or devnet_settlement_params(self.config.workers)

    def setup_settlement(
        self, project: Any, deployer: Any, developer: Any, deployment: Deployment, name: str
    ) -> Settlement:
        """Deploys the settlement contracts, bonds the gateway, funds the project's reserve."""
        with self.progress.step("Deploying the settlement contracts") as detail:
            gateway = deployer.account_manager.test_accounts[GATEWAY]
            params = self.settlement_params
            self.settlement = setup_settlement(
                project,
                deployer,
                developer,
                gateway,
                deployment.registry,
                name,
                params,
                reserve=self.config.fund,
                court_params=self.config.court_params,
            )
            for role, address in self.settlement.addresses.items():
                detail(f"{role:<12} {address}")
            detail(
                f"{params.seats} seats, quorum {params.quorum}, seed delay {params.beacon_delay} "
                f"blocks; reserve {self.config.fund / ETHER:g} ETH; gateway bonded"
            )
        assert self.chain_config is not None
        self.chain_config = replace(
            self.chain_config,
            stakes=self.settlement.addresses["stakes"],
            gateways=self.settlement.addresses["gateways"],
            settlement=self.settlement.addresses["settlement"],
        )
        return self.settlement

    def set_example_secrets(self, developer: Any) -> None:
        """Sets the development secret the ``stripe-webhook`` example reads (see
        :mod:`peerhost.devnet.webhook`) with the tool behind ``ape run secrets set``; never shows it.

        Needs ape connected to the chain and the workers registered (the bundle is sealed to them).
        """
        report, deployment = self.report, self.deployment
        if report is None or deployment is None:
            return
        if not any(fn.name == WEBHOOK_FUNCTION for fn in report.functions):
            return
        from peerhost.secrets import ApeSecretsChain, SecretsTool, ape_signer

        with self.progress.step(f"Setting the {WEBHOOK_FUNCTION} example's secret") as detail:
            tool = SecretsTool(
                chain=ApeSecretsChain(deployment.registry, deployment.workers, developer),
                store=open_store(self.store_spec),
                signer=ape_signer(developer),
                owner=str(developer.address),
                chain_id=self.chain_id,
                registry=str(deployment.registry.address),
            )
            sealed = tool.set(report.project, SECRET_NAME, dev_secret(self.state_dir))
            detail(
                f"{SECRET_NAME} of '{report.project}': a development value (whsec_devnet_only_…, "
                f"kept in {self.state_dir / SECRET_FILE}), sealed to {len(sealed.workers)} worker(s)"
            )

    def ensure_funded(self, sender: Any, addresses: list[str], minimum: int = 10 * ETHER) -> None:
        """Tops up accounts beyond the chain's prefunded ones (many workers on a small chain)."""
        for address in addresses:
            if int(sender.provider.get_balance(address)) < minimum:
                sender.transfer(address, minimum)

    @staticmethod
    def _balance(deployment: Deployment, developer: Any, project: str) -> int:
        from peerhost.publishing import project_account

        return project_account(
            deployment.coordinator, deployment.registry, str(developer.address), project
        ).balance

    def _gateway_port(self) -> int:
        """The gateway's port, chosen (and checked free) before anything is published to it."""
        if not self.config.port:
            self.config.port = free_port()
        elif self.gateway is None and port_open("127.0.0.1", self.config.port):
            raise PortInUse("gateway", self.config.port)
        return self.config.port

    # ---- services (child processes) -------------------------------------------------------

    def start_services(self) -> None:
        """Starts the workers, then the gateway; writes ``devnet.json``. With tickets: the
        gateway first (workers connect to its feed), then the workers, then the first epoch."""
        if self.config.block_time:
            self.use_block_time(self.config.block_time)
        if self.config.tickets:
            for suffix in ("", "-wal", "-shm"):  # a fresh chain: the old tickets mean nothing
                (self.state_dir / "gateway" / f"tickets.sqlite3{suffix}").unlink(missing_ok=True)
            self.start_gateway()
            self.start_workers()
            self.start_epoch()
        else:
            self.start_workers()
            self.start_gateway()
        if self.config.record:
            self.save_state()

    @property
    def sandbox_cache(self) -> Path:
        """The configured cache, else a per-user one shared by every devnet of this user (the
        runtimes compile once per machine, not once per clone; files are signed per cache)."""
        return self.config.sandbox_cache or user_cache_dir() / "sandbox"

    def warm_sandbox_cache(self) -> None:
        """Compiles the JS and Python runtimes into the workers' shared cache (once per machine)."""
        from peerhost.sandbox import Sandbox

        def warm(runtime: str) -> None:
            sandbox = Sandbox(cache_dir=self.sandbox_cache)
            try:
                sandbox.warm(runtime)
            finally:
                sandbox.close()

        background = self.config.python_in_background
        what = "JS runtime" if background else "JS and Python runtimes"
        with self.progress.step(f"Compiling the {what} (cached)") as detail:
            started = time.monotonic()
            warm("js")
            if background:
                threading.Thread(
                    target=warm, args=("python",), name="warm-python", daemon=True
                ).start()
            else:
                warm("python")
            took = time.monotonic() - started
            detail(f"{self.sandbox_cache} ({'compiled' if took > 1 else 'already cached'})")
            if background:
                detail("the Python runtime compiles in the background (cached once done)")

    def worker_dir(self, n: int) -> Path:
        return self.state_dir / "workers" / f"worker-{n + 1}"

    def worker_settings(self, n: int) -> Any:
        """Settings of worker ``n``: the devnet's store, its own state dir, a free metrics port."""
        from peerhost.worker.settings import WorkerSettings

        return WorkerSettings(
            data_dir=self.worker_dir(n),
            store=self.store_spec,
            stake=self.config.worker_stake,
            metrics_port=0,
            sandbox_processes=1,
            sandbox_cache=self.sandbox_cache,
            log_format="json",
            gateways=self.gateway_url if self.config.tickets else "",
            # gateways announced on-chain are served too (the devnet's own one is configured)
            discover=self.config.tickets,
            discovery_interval=1.0,
            mine_blocks=int(self.config.tickets and not self.config.block_time),
            strategy=self.config.strategy_of(n),
            cartel=self.config.cartel_of(n),
        ).replace(**self.config.worker_settings)

    def launch_worker(
        self,
        n: int,
        wait: bool = True,
        program: Sequence[str] = ("-m", "peerhost.worker"),
        **settings: Any,
    ) -> Any:
        """Starts worker ``n`` (its key is fixed by ``n``) and returns its process handle.

        ``program`` is what the interpreter runs (see :func:`peerhost.worker.launcher.start_worker`);
        ``settings`` change this worker's settings (e.g. ``stake``).
        """
        from peerhost.worker.launcher import start_worker

        assert self.chain_config is not None, "setup_chain() first"
        return start_worker(
            self.chain_config,
            worker_key(n).private_key,
            self.worker_settings(n).replace(**settings),
            wait=wait,
            ready_timeout=START_TIMEOUT,
            program=program,
        )

    def start_workers(self) -> None:
        """Starts every worker at once, then waits until each is registered and caught up."""
        self.warm_sandbox_cache()
        with self.progress.step(f"Starting {self.config.workers} worker(s)") as detail:
            self.workers = []
            for n in range(self.config.workers):
                _forget_chain_state(self.worker_dir(n))
                self.workers.append(self.launch_worker(n, wait=False))
            for n, proc in enumerate(self.workers):
                proc.wait_ready(timeout=START_TIMEOUT)
                detail(f"worker-{n + 1} {proc.address} ready (metrics {proc.metrics_url})")

    def use_block_time(self, seconds: float) -> None:
        """From now on the chain mines a block every ``seconds`` instead of one per transaction.

        Set after the ape-driven setup (ape's deploys expect a block per transaction)."""
        import httpx

        with self.progress.step(f"Switching the chain to a block every {seconds:g} s") as detail:
            for method, params in (
                ("evm_setAutomine", [False]),
                ("evm_setIntervalMining", [max(1, round(seconds))]),
            ):
                reply = httpx.post(
                    self.rpc_url,
                    json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                    timeout=10,
                ).json()
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
            detail("automine off, interval mining on")

    def start_epoch(self) -> None:
        """Advances the stake epoch until every worker counts, then waits for their feeds."""
        assert self.chain_config is not None
        with self.progress.step("Starting the first stake epoch") as detail:
            epoch = start_epoch(
                self.chain_config, derive(DEPLOYER).private_key, self.config.workers
            )
            detail(f"epoch {epoch}: {self.config.workers} worker(s) active")
            self.wait_for_feeds(self.config.workers)
            detail(f"{self.config.workers} worker(s) on the gateway's job feed")

    def wait_for_feeds(self, count: int, timeout: float = 60.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            try:
                doc = httpx.get(f"{self.gateway_url}/_health", timeout=5).json()
                if int(doc.get("feed_links", 0)) >= count:
                    return
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} worker(s) did not join the job feed in {timeout} s")
            time.sleep(0.2)

    def worker_names(self) -> dict[str, str]:
        """Worker address (lowercase) -> ``worker-N``."""
        return {
            worker_key(n).address.lower(): f"worker-{n + 1}" for n in range(self.config.workers)
        }

    def stop_workers(self) -> None:
        for proc in self.workers:
            proc.stop(timeout=20.0)
        self.workers = []

    def gateway_settings(self) -> Any:
        """The gateway's settings: this chain, the devnet's gateway key and port, overrides."""
        from peerhost.gateway.settings import GatewaySettings

        assert self.chain_config is not None, "setup_chain() first"
        params = self.config.params or params_for(self.config.workers)
        return GatewaySettings(
            chain=self.chain_config,
            private_key=self.gateway_key.private_key,
            public_url=self.gateway_url,
            announce=self.config.tickets,  # on-chain, for workers that discover gateways
            # Projects published later (with `ape run publish`) work at once: when a project
            # has no balance for this gateway, the gateway pays the minimum reward itself.
            reward_wei=params.min_reward,
            data_dir=str(self.state_dir / "gateway"),
            attesters=max(1, min(2, self.config.workers)),
            # The code store, for the request headers functions declare in their code.
            store=self.store_spec,
            # A devnet tries schedules of every few seconds (a network's gateways keep 60 s).
            schedule_min_interval=2,
            # the poster's deadline is its own workers' orphan grace (admission control)
            orphan_grace=self.worker_settings(0).orphan_grace,
            # on a chain that mines a block per transaction: the floor between posts
            batch_interval=AUTOMINE_POST_FLOOR if not self.config.block_time else 0.5,
        ).replace(**self.config.gateway_settings)

    def gateway_log_path(self) -> Path:
        return self.logs_dir / "gateway" / "gateway.log"

    def start_gateway(self) -> None:
        """Starts the gateway under uvicorn and waits until it is healthy."""
        from peerhost.devnet.gateway_process import start_gateway_process

        port = self._gateway_port()
        log = self.gateway_log_path()
        # This run's lines start here: an earlier devnet's requests are never shown again.
        self.gateway_log_offset = log.stat().st_size if log.exists() else 0
        with self.progress.step(f"Starting the gateway on {self.gateway_url}") as detail:
            self.gateway = start_gateway_process(
                self.gateway_settings(),
                "127.0.0.1",
                port,
                self.gateway_log_path().parent,
                timeout=START_TIMEOUT,
            )
            detail(f"signing as {self.gateway_key.address}; log {self.gateway_log_path()}")

    def gateway_alive(self) -> bool:
        return self.gateway is not None and bool(self.gateway.alive())

    def stop_gateway(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None

    # ---- the whole stack ------------------------------------------------------------------

    def urls(self) -> dict[str, str]:
        """Example function name -> live URL."""
        return self.report.urls() if self.report else {}

    def save_state(self) -> Path:
        """Writes ``devnet.json`` so ``ape run publish`` and ``ape console`` find this devnet."""
        assert self.deployment is not None and self.report is not None
        return devnet_state.DevnetState(
            rpc_url=self.rpc_url,
            chain_id=self.chain_id,
            gateway_url=self.gateway_url,
            store=self.store_spec,
            deployments=str(self.deployments_path),
            project=self.report.project,
            owner=self.report.owner,
            gateway_account=self.gateway_key.address,
            workers=tuple(worker_key(n).address for n in range(self.config.workers)),
            urls=self.urls(),
            contracts={
                **self.deployment.addresses,
                **(self.settlement.addresses if self.settlement else {}),
            },
            pid=os.getpid(),
        ).save(self.state_dir)

    def stop(self) -> None:
        """Stops the gateway, then the workers (reveals in flight finish), then the chain."""
        if self.config.record:
            devnet_state.clear(self.state_dir)
        errors: list[BaseException] = []
        for step in (self.stop_gateway, self.stop_workers, self.stop_chain):
            try:
                step()
            except Exception as exc:  # stop the rest regardless
                errors.append(exc)
        if errors:
            raise errors[0]

    def stop_chain(self) -> None:
        if self.anvil is not None:
            self.anvil.stop()
            self.anvil = None


def _forget_chain_state(data_dir: Path) -> None:
    """Drops a worker's chain state (cursor, jobs) from an earlier devnet; keeps its caches."""
    for name in (
        "state.sqlite3",
        "state.sqlite3-wal",
        "state.sqlite3-shm",
        "attested.sqlite3",
        "attested.sqlite3-wal",
        "attested.sqlite3-shm",
        "ready.json",
    ):
        (data_dir / name).unlink(missing_ok=True)
