"""``ape run devnet``: bring the whole stack up, show how to use it, watch it, stop it cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
import signal
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from peerhost.devnet.errors import DevnetError
from peerhost.devnet.progress import Progress
from peerhost.devnet.stack import PROJECT_ROOT, Devnet, DevnetConfig
from peerhost.devnet.webhook import FUNCTION as WEBHOOK_FUNCTION
from peerhost.devnet.webhook import SECRET_FILE, signed_curl
from peerhost.wire.headers import MODE_HEADER, STATUS_URL_HEADER

#: Sample requests for the examples: (method, query string, JSON body or None).
SAMPLES: dict[str, tuple[str, str, str | None]] = {
    "hello": ("GET", "?name=devnet", None),
    "echo": ("POST", "", '{"ping": 1}'),
    "orders-create": (
        "POST",
        "",
        '{"customer": "alice", "items": [{"sku": "A-1", "qty": 2, "price_cents": 1250}]}',
    ),
    "clock-and-dice": ("GET", "?sides=20", None),
    "users-create": ("POST", "", '{"email": "ada@example.com", "name": "Ada Lovelace"}'),
    "report": ("POST", "", '{"xs": [3, 1, 4, 1, 5, 9]}'),
}


def curl_for(name: str, url: str, mode: str | None = None) -> str:
    """A ready-to-paste curl command that calls ``url`` (``-i`` shows the proof headers)."""
    method, query, body = SAMPLES.get(name, ("POST", "", '{"hello": "world"}'))
    parts = ["curl", "-i"]
    if mode:
        parts += ["-H", f"{MODE_HEADER}: {mode}"]
    if body is not None:
        parts += ["-H", "content-type: application/json", "-d", body]
    elif method != "GET":
        parts += ["-X", method]
    parts.append(url + query)
    return shlex.join(parts)


def ensure_js_engine(progress: Progress) -> None:
    """Checks the QuickJS engine the js runtime needs; builds it if it is missing."""
    from peerhost.sandbox.errors import JsEngineNotFound
    from peerhost.sandbox.js_engine import default_engine_path, load_engine

    with progress.step("Checking the JS engine (QuickJS-NG compiled to WASI)") as detail:
        try:
            engine = load_engine()
            detail(
                f"{default_engine_path().relative_to(PROJECT_ROOT)}, {len(engine):,} bytes, sha256 ok"
            )
            return
        except JsEngineNotFound:
            detail("not built yet: running tools/quickjs/build.sh (about a minute)")
        build = subprocess.Popen(
            ["bash", str(PROJECT_ROOT / "tools" / "quickjs" / "build.sh")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert build.stdout is not None
        for line in build.stdout:
            detail(line.rstrip())
        if build.wait() != 0:
            raise DevnetError("building the JS engine failed (see above)")
        load_engine()


def banner(devnet: Devnet) -> list[str]:
    """What a person needs to use the running devnet."""
    report = devnet.report
    assert report is not None
    rpc = devnet.rpc_url
    lines = [
        "",
        f"PeerHost devnet is up. Gateway: {devnet.gateway_url}   chain: {rpc}",
        f"  project '{report.project}' of {report.owner}, "
        f"{devnet.config.workers} worker(s), state in {devnet.state_dir}",
        "",
    ]
    if any(name != "honest" for name in devnet.config.strategies):
        lines[-1:-1] = [
            "  strategies: "
            + ", ".join(
                f"worker-{n + 1} {devnet.config.strategy_of(n)}"
                for n in range(devnet.config.workers)
            )
        ]
    if devnet.config.tickets:
        lines += [
            "Try the examples. Answers come from signed tickets, never waiting for a block:",
            "fast = the first worker's attestation; attested = 2 matching attestations;",
            "verified = the result a staked committee settled on-chain (the answer's",
            f"{STATUS_URL_HEADER} shows the ticket, its attestations, batch and settlement):",
        ]
    else:
        lines += [
            "Try the examples (fast mode answers with the first signed output; add",
            f"-H '{MODE_HEADER}: verified' to wait for the on-chain result):",
        ]
    secret_file = devnet.state_dir / SECRET_FILE
    for fn in report.functions:
        lines.append(f"  # {fn.name} ({fn.runtime}, {fn.mode})")
        if fn.name == WEBHOOK_FUNCTION and secret_file.exists():
            lines.append("  #   the event is signed when the command runs, with the devnet's")
            lines.append("  #   development STRIPE_WEBHOOK_SECRET (kept in the state folder)")
            lines.append(f"  {signed_curl(fn.url, secret_file)}")
        else:
            lines.append(f"  {curl_for(fn.name, fn.url)}")
    first = report.functions[0]
    for mode in ("fast", "attested", "verified") if devnet.config.tickets else ("verified",):
        lines += [f"  # {first.name}, {mode}", f"  {curl_for(first.name, first.url, mode)}"]
    lines += [
        "",
        "Publish your own functions / explore in the console (in another terminal, after `. bin/env`):",
        f"  APE_FOUNDRY_HOST={rpc} ape run publish path/to/project --account TEST::1",
        f"  APE_FOUNDRY_HOST={rpc} ape console      # then: peerhost.workers()",
        "",
        "Requests (one line each; Ctrl-C stops everything):",
        f"  {'time':<8}  {'function':<28} {'mode':<8} {'st':>3} {'latency':>9}  {'request':<13}  outcome",
    ]
    return lines


@contextlib.contextmanager
def _stop_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGINT/SIGTERM call ``stop`` instead of killing the process mid-step."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: Any) -> None:
        stop()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Interrupted(DevnetError, KeyboardInterrupt):
    def __init__(self) -> None:
        super().__init__("interrupted")


def run_devnet(
    config: DevnetConfig,
    project: Any,
    networks: Any,
    accounts: Any,
    out: Callable[[str], None] = print,
    urls_json: Path | None = None,
) -> None:
    """Runs the devnet until SIGINT/SIGTERM, then stops the gateway, the workers and the chain."""
    progress = Progress(out)
    devnet = Devnet(config, progress)
    stopping = asyncio.Event()
    state = {"started": False}

    def request_stop() -> None:
        if state["started"]:
            stopping.set()
        else:
            raise Interrupted()

    try:
        with _stop_signals(request_stop):
            ensure_js_engine(progress)
            url = devnet.start_chain()
            with networks.ethereum.local.use_provider("foundry", provider_settings={"host": url}):
                devnet.setup_chain(project, accounts.test_accounts[0], accounts.test_accounts[1])
            devnet.start_services()
            with networks.ethereum.local.use_provider("foundry", provider_settings={"host": url}):
                devnet.set_example_secrets(accounts.test_accounts[1])
            if urls_json is not None:
                write_urls(devnet, urls_json)
                out(f"URLs written to {urls_json}")
            for line in banner(devnet):
                out(line)
            state["started"] = True
            asyncio.run(_watch(devnet, stopping, out))
    except KeyboardInterrupt:
        pass
    finally:
        out("")
        out("Stopping: gateway, workers (reveals in flight finish), chain…")
        devnet.stop()
        out("Stopped.")


async def _watch(devnet: Devnet, stopping: asyncio.Event, out: Callable[[str], None]) -> None:
    from peerhost.chain import Protocol, RpcClient
    from peerhost.devnet.watch import RequestWatcher

    assert devnet.chain_config is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    rpc = RpcClient(devnet.chain_config.rpc_url)
    try:
        watcher = RequestWatcher(
            Protocol(devnet.chain_config, rpc=rpc),
            devnet.chain_config.ws_url,
            devnet.worker_names(),
            devnet.gateway_log_path(),
            out,
            start_block=devnet.start_block,
            gateway_log_offset=devnet.gateway_log_offset,
            read_log=_log_reader(devnet.gateway_url),
            linger=0.0 if devnet.config.tickets else 5.0,  # tickets settle in batches, later
        )
        watch = asyncio.create_task(watcher.run(stopping))
        health = asyncio.create_task(_children_alive(devnet, stopping, out))
        await stopping.wait()
        await asyncio.gather(watch, health, return_exceptions=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await rpc.aclose()


def _log_reader(gateway_url: str) -> Callable[[str, str, str], Awaitable[list[str]]]:
    """Reads a request's function log from the gateway as the devnet's developer account."""
    from peerhost.devnet.accounts import DEVELOPER, derive
    from peerhost.functionlogs import key_signer
    from peerhost.functionlogs.client import fetch

    developer = derive(DEVELOPER)
    sign = key_signer(developer.private_key)

    async def read(owner: str, project: str, request_id: str) -> list[str]:
        if owner.lower() != developer.address.lower():
            return []  # another account's project: only its owner may read the log
        answer = await asyncio.to_thread(
            fetch, gateway_url, owner, project, sign, request_id=request_id
        )
        return [line for entry in answer["entries"] for line in entry["lines"]]

    return read


async def _children_alive(
    devnet: Devnet, stopping: asyncio.Event, out: Callable[[str], None]
) -> None:
    """Stops the devnet if the chain or the gateway dies; reports dead workers."""
    reported: set[int] = set()
    while not stopping.is_set():
        await asyncio.sleep(1.0)
        if devnet.anvil is not None and not devnet.anvil.running:
            out("!! the chain (anvil) exited; stopping")
            stopping.set()
        if devnet.gateway is not None and not devnet.gateway_alive():
            out(f"!! the gateway exited; see {devnet.gateway_log_path()}")
            stopping.set()
        for n, proc in enumerate(devnet.workers):
            if not proc.alive() and n not in reported:
                reported.add(n)
                out(
                    f"!! worker-{n + 1} exited (code {proc.process.returncode}); see {proc.log_path}"
                )


def write_urls(devnet: Devnet, path: Path) -> None:
    """Writes the gateway URL and each example's URL as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "gateway": devnet.gateway_url,
        "chain": devnet.rpc_url,
        "functions": devnet.urls(),
    }
    # Written whole, then renamed into place: whoever waits for the file never reads it half-written.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(doc, indent=2) + "\n")
    partial.replace(path)
