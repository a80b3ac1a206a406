"""The devnet's request lines: each call's line with its function log under it, on the ticket
path too (no request event names the function or its owner there), and only this run's calls."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

from peerhost.devnet.watch import RequestWatcher

OWNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
WORKER = "0x" + "11" * 20


def _access_line(request_id: str, function: str = "hello") -> str:
    return (
        f"call fn={OWNER}/shop/{function} mode=fast status=200 latency_ms=12.5 "
        f"request_id={request_id} worker={WORKER}\n"
    )


def _watcher(log: Path, out: list[str], asked: list[tuple[str, str, str]], offset: int = 0) -> Any:
    async def read_log(owner: str, project: str, request_id: str) -> list[str]:
        asked.append((owner, project, request_id))
        return ["hello: answering"]

    return RequestWatcher(
        cast(Any, None),  # no chain events on the ticket path: the gateway's log is all there is
        "",
        gateway_log=log,
        out=out.append,
        linger=0.0,
        gateway_log_offset=offset,
        read_log=read_log,
    )


def _watch_once(watcher: RequestWatcher) -> None:
    watcher._merge_gateway()
    asyncio.run(watcher._flush())


def test_watcher__ticket_answered__line_then_its_function_log_from_the_owner(
    tmp_path: Path,
) -> None:
    log = tmp_path / "gateway.log"
    rid = "0x" + "ab" * 32
    log.write_text("INFO uvicorn started\n" + _access_line(rid))
    out: list[str] = []
    asked: list[tuple[str, str, str]] = []
    _watch_once(_watcher(log, out, asked))
    assert len(out) == 2, out
    assert "shop/hello" in out[0] and " 200 " in out[0] and "0xababab" in out[0]
    assert out[1].strip() == "| hello: answering"
    assert asked == [(OWNER, "shop", rid)]


def test_watcher__restarted_on_an_old_gateway_log__only_this_runs_calls(tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    old, new = "0x" + "01" * 32, "0x" + "02" * 32
    log.write_text(_access_line(old, "before"))
    offset = log.stat().st_size  # where this run's gateway starts writing
    with log.open("a") as fh:
        fh.write(_access_line(new, "after"))
    out: list[str] = []
    asked: list[tuple[str, str, str]] = []
    _watch_once(_watcher(log, out, asked, offset))
    assert [line for line in out if "shop/" in line] == [
        next(line for line in out if "shop/after" in line)
    ]
    assert asked == [(OWNER, "shop", new)]
