"""One line per request while the devnet runs, from the chain's events and the gateway's log.

The chain tells which function ran, who committed, who won and how the request settled; the
gateway's request log (when it has one) adds the HTTP status, the answer mode and the latency the
caller saw. A line is printed when the request settles on-chain (finalized or refunded), or
when the gateway answered and the chain has not settled after a few seconds (``linger``; on the
ticket path no request event comes, and the devnet prints the line at once). Under it come the
function's log lines, read from the gateway's ``/_logs`` as the owner when the watcher holds the
owner's key (the devnet's developer account).

Only this run's requests are shown: the gateway's log file is read from where it ended when this
run's gateway started (``offset``), never from an earlier devnet's lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peerhost.chain import LogFollower, Protocol

MODES = ("fast", "verified")


@dataclass
class RequestTrace:
    """What has been seen of one request."""

    request_id: str
    function: str = "?"
    owner: str | None = None
    project: str | None = None
    default_mode: str = "?"
    seen_at: float = field(default_factory=time.monotonic)
    committers: list[str] = field(default_factory=list)
    revealed: int = 0
    outcome: str = ""  # "finalized" | "refunded"
    winner: str | None = None
    agreeing: int = 0
    slashed: list[str] = field(default_factory=list)
    settled_at: float | None = None
    http: dict[str, Any] | None = None
    answered_at: float | None = None
    printed: bool = False


def short(value: str, keep: int = 6) -> str:
    """``0x1234…abcd``."""
    return value if len(value) <= 2 + 2 * keep else f"{value[: 2 + keep]}…{value[-4:]}"


class GatewayLog:
    """Reads the gateway's access-log records as they are appended to its log file.

    Understands the gateway's ``call fn=… mode=… status=… latency_ms=… request_id=… worker=…``
    lines (logger ``peerhost.gateway.access``) and JSON lines with the same keys; other output
    sharing the file is skipped.
    """

    def __init__(self, path: Path | None, offset: int = 0) -> None:
        self.path = path
        self._offset = offset

    def read(self) -> list[dict[str, Any]]:
        if self.path is None or not self.path.exists():
            return []
        with self.path.open("rb") as fh:
            fh.seek(self._offset)
            chunk = fh.read()
        end = chunk.rfind(b"\n") + 1
        self._offset += end
        records = []
        for raw in chunk[:end].decode(errors="replace").splitlines():
            record = parse_access_line(raw)
            if record is not None:
                records.append(record)
        return records


_PAIR = re.compile(r"(\w+)=(\S+)")


def parse_access_line(line: str) -> dict[str, Any] | None:
    """The fields of one access-log line (key=value or JSON), or None if it is not one."""
    text = line.strip()
    record: dict[str, Any] | None = None
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError:
            return None
        record = loaded if isinstance(loaded, dict) else None
    elif "request_id=" in text and "status=" in text:
        record = dict(_PAIR.findall(text))
    if not record:
        return None
    rid = record.get("request_id") or record.get("requestId")
    if not isinstance(rid, str) or not rid.startswith("0x") or "status" not in record:
        return None
    record["request_id"] = rid.lower()
    if record.get("worker") == "-":
        record["worker"] = None
    return record


class RequestWatcher:
    """Follows the coordinator's events and prints one line per request.

    Args:
        protocol: Chain access (reads only).
        ws_url: WebSocket endpoint for the log subscription.
        worker_names: Worker address (lowercase) -> display name.
        gateway_log: The gateway's log file (request records), if it writes one.
        out: Where lines go.
        linger: Seconds to wait for settlement after the gateway answered before printing.
        start_block: First block to read (default: the head when watching starts).
        gateway_log_offset: Where this run's gateway started writing ``gateway_log``.
        read_log: ``(owner, project, request id) -> log lines`` of a request (None: no logs).
    """

    def __init__(
        self,
        protocol: Protocol,
        ws_url: str,
        worker_names: dict[str, str] | None = None,
        gateway_log: Path | None = None,
        out: Callable[[str], None] = print,
        linger: float = 5.0,
        start_block: int | None = None,
        gateway_log_offset: int = 0,
        read_log: Callable[[str, str, str], Awaitable[list[str]]] | None = None,
    ) -> None:
        self.protocol = protocol
        self.ws_url = ws_url
        self.worker_names = {k.lower(): v for k, v in (worker_names or {}).items()}
        self.gateway = GatewayLog(gateway_log, gateway_log_offset)
        self.read_log = read_log
        self.out = out
        self.linger = linger
        self.start_block = start_block
        self.requests: dict[str, RequestTrace] = {}
        self._functions: dict[bytes, str] = {}
        self._owners: dict[bytes, tuple[str, str]] = {}
        self.lines = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Watches until ``stop`` is set."""
        # From start_block, not the head: a call made between the devnet printing its URLs and
        # this subscription would otherwise be seen only from its settlement, with no function.
        follower = LogFollower(
            self.protocol.rpc,
            self.ws_url,
            [self.protocol.config.coordinator],
            start_block=self.start_block,
        )
        consume = asyncio.create_task(self._consume(follower))
        try:
            while not stop.is_set():
                self._merge_gateway()
                await self._flush()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.25)
                if consume.done():
                    consume.result()
        finally:
            consume.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await consume

    async def _consume(self, follower: LogFollower) -> None:
        async for entry in follower.stream():
            decoded = self.protocol.decode_log(entry)
            if decoded is not None:
                await self.handle(*decoded)

    def _trace(self, request_id: Any) -> RequestTrace:
        rid = _hex(request_id)
        if rid not in self.requests:
            self.requests[rid] = RequestTrace(rid)
        return self.requests[rid]

    async def handle(self, name: str, args: dict[str, Any]) -> None:
        """Applies one decoded coordinator event."""
        if "requestId" not in args:
            return
        trace = self._trace(args["requestId"])
        if name == "ExecutionRequested":
            trace.function = await self._function_name(bytes(args["functionId"]))
            owner = self._owners.get(bytes(args["functionId"]))
            if owner is not None:
                trace.owner, trace.project = owner
            job = args.get("job") or {}
            mode = job.get("mode") if isinstance(job, dict) else None
            trace.default_mode = MODES[int(mode)] if mode in (0, 1) else "?"
        elif name == "ResultCommitted":
            trace.committers.append(str(args["worker"]).lower())
        elif name == "ResultRevealed":
            trace.revealed += 1
        elif name == "RequestFinalized":
            trace.outcome = "finalized"
            trace.winner = str(args["fastest"]).lower()
            trace.agreeing = int(args["agreeing"])
            trace.settled_at = time.monotonic()
        elif name == "RequestRefunded":
            trace.outcome = "refunded"
            trace.settled_at = time.monotonic()
        elif name == "WorkerSlashed":
            trace.slashed.append(str(args["worker"]).lower())

    async def _function_name(self, function_id: bytes) -> str:
        if function_id not in self._functions:
            try:
                info = await self.protocol.get_function(function_id)
                self._functions[function_id] = f"{info['project']}/{info['name']}"
                self._owners[function_id] = (str(info["owner"]), str(info["project"]))
            except Exception:  # a display nicety: never stop watching for it
                return "0x" + function_id.hex()[:8]
        return self._functions[function_id]

    def _merge_gateway(self) -> None:
        for record in self.gateway.read():
            trace = self._trace(record["request_id"])
            if trace.function == "?" and isinstance(record.get("fn"), str):
                label = record["fn"]  # a ticket: no request event names it; drop the wallet
                trace.function = label.split("/", 1)[1] if label.count("/") == 2 else label
                if label.count("/") == 2 and trace.owner is None:
                    trace.owner, trace.project, _ = label.split("/")  # whose log to read
            trace.http = record
            trace.answered_at = time.monotonic()

    async def _log_lines(self, trace: RequestTrace) -> list[str]:
        if self.read_log is None or trace.owner is None or trace.project is None:
            return []
        try:
            lines = await self.read_log(trace.owner, trace.project, trace.request_id)
        except Exception:  # a display nicety: never stop watching for it
            return []
        return [f"{'':10}| {line}" for line in lines]

    async def _flush(self) -> None:
        now = time.monotonic()
        for trace in list(self.requests.values()):
            if trace.printed:
                continue
            answered_long_ago = (
                trace.answered_at is not None and now - trace.answered_at > self.linger
            )
            if trace.outcome or answered_long_ago:
                if trace.outcome and trace.http is None and now - (trace.settled_at or now) < 0.5:
                    continue  # give the gateway's record a moment to arrive
                trace.printed = True
                self.out(self.format(trace))
                for line in await self._log_lines(trace):
                    self.out(line)
                self.lines += 1
        if len(self.requests) > 10_000:
            for rid in [r for r, t in self.requests.items() if t.printed][:5_000]:
                del self.requests[rid]

    def worker_name(self, address: str | None) -> str:
        if not address:
            return "-"
        return self.worker_names.get(address.lower(), short(address))

    def format(self, trace: RequestTrace) -> str:
        """``12:00:01 examples/hello  fast      200    41 ms  0x1a2b3c…9f00  won by worker-1 …``."""
        http = trace.http or {}
        mode = str(http.get("mode") or trace.default_mode)
        status = str(http.get("status", "-"))
        latency = http.get("latency_ms", http.get("duration_ms", http.get("elapsed_ms")))
        shown_latency = f"{float(latency):6.0f} ms" if latency is not None else "     - ms"
        if trace.outcome == "finalized":
            settled = (
                f"won by {self.worker_name(trace.winner)} "
                f"({trace.agreeing}/{len(trace.committers)} agreed)"
            )
        elif trace.outcome == "refunded":
            settled = f"refunded ({len(trace.committers)} commits)"
        else:
            served = http.get("worker")
            settled = f"answered by {self.worker_name(served)}, settling" if served else "pending"
        if trace.slashed:
            settled += "; slashed " + ", ".join(self.worker_name(w) for w in trace.slashed)
        stamp = time.strftime("%H:%M:%S")
        return (
            f"{stamp}  {trace.function:<28} {mode:<8} {status:>3} {shown_latency}  "
            f"{short(trace.request_id)}  {settled}"
        )


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value).lower()
    return text if text.startswith("0x") else "0x" + text
