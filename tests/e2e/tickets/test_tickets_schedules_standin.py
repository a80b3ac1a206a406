"""Stand-in issuers on the ticket path: the owner seals the project's schedule key to the gateway
and two workers (``ape run schedules authorize``); with the gateway stopped the two keep a 2 s
schedule running; every due time of the window is posted on-chain exactly once (paid once), by
whichever holder issued it; the restarted gateway takes over. A third worker given the key file
without a share never issues anything."""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from tick_project import CRON, EVERY, set_schedules, tick_project
from ticket_stack import TicketStack, wait_for

from peerhost.chain.settlement import SettlementView
from peerhost.devnet.accounts import worker_key
from peerhost.secrets.schedule_key import KEY_DIR, ScheduleKeyFile
from peerhost.wire.ids import function_id_of
from peerhost.wire.schedule import Schedule
from peerhost.wire.schedule_ticket import schedule_seq
from peerhost.wire.ticket import request_id

PROJECT = "standin-e2e"
DOWN = 24  # seconds the gateway stays down (the workers' takeover is 10 s)


def _posted_seqs(stack: TicketStack, key: str) -> Counter[int]:
    """How many times each seq of ``key`` was posted on-chain (each posting draws its reward)."""

    async def read(view: SettlementView) -> Counter[int]:
        seqs: Counter[int] = Counter()
        for raw, args in await view.logs("BatchPosted", 0):
            if str(args["gateway"]).lower() != key:
                continue
            call = await view.call_input(raw["transactionHash"], "postOrphans")
            seqs.update(int(t["seq"]) for t in call["tickets"])
        return seqs

    result: Counter[int] = stack.view(read)
    return result


def test_standins__gateway_down__each_due_time_runs_and_is_paid_once(
    tickets_stack: TicketStack, http: httpx.Client, recorded: Path, tmp_path: Path
) -> None:
    devnet = tickets_stack.devnet
    folder = tick_project(tmp_path / PROJECT, PROJECT)
    done = tickets_stack.ape_run(recorded, "publish", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr

    holders = [worker_key(0).address, worker_key(1).address]
    key_path = tmp_path / "schedule-key.json"
    standins = [arg for address in holders for arg in ("--standin", address)]
    done = tickets_stack.ape_run(
        recorded,
        "schedules",
        "authorize",
        PROJECT,
        "--function",
        "tick",
        *standins,
        "--gateway-url",
        tickets_stack.gateway_url,
        "--out",
        str(key_path),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    file = ScheduleKeyFile.load(key_path)
    assert file.address in done.stdout and "sealed to" in done.stdout
    assert file.functions == ("tick",) and file.project == PROJECT
    # the gateway and all three workers get the file; only two of the workers are holders
    for where in [devnet.state_dir / "gateway", *(devnet.worker_dir(n) for n in range(3))]:
        (where / KEY_DIR).mkdir(parents=True, exist_ok=True)
        shutil.copy(key_path, where / KEY_DIR / f"{PROJECT}.json")

    chain = devnet.chain_config
    assert chain is not None
    function_id = function_id_of(tickets_stack.owner, PROJECT, "tick")

    def rid(due: int) -> str:
        seq = schedule_seq(function_id, due)
        return "0x" + request_id(chain.chain_id, chain.settlement, file.address, seq).hex()

    status_url = f"{tickets_stack.gateway_url}/_status/schedules/{tickets_stack.owner}/{PROJECT}"

    def keyed_runs() -> list[int]:
        [tick] = http.get(status_url).json()["functions"]
        return [r["due"] for r in tick["runs"] if r["request_id"] == rid(r["due"])]

    try:
        first = min(wait_for(keyed_runs, 60.0))  # the gateway signs with the key now
        time.sleep(2 * EVERY)
        devnet.stop_gateway()
        stopped = time.time()
        time.sleep(DOWN)
        devnet.start_gateway()
        devnet.wait_for_feeds(3)
        restarted = time.time()
        time.sleep(3 * EVERY)
        # the restarted gateway issues the due times after its restart, each with the key;
        # waited for: on a loaded machine its first rounds came late, the stand-ins had issued
        # those due times already (a full CI run: refused as replays), and a fixed 6 s were over
        try:
            after = wait_for(lambda: [due for due in keyed_runs() if due > restarted], 60.0)
        except AssertionError:
            after = []
    finally:
        if devnet.gateway is None:
            devnet.start_gateway()
            devnet.wait_for_feeds(3)
        set_schedules(tickets_stack, http, PROJECT, [])
    ended = int(time.time())
    window = [first, *Schedule.parse(CRON).due(first, ended - EVERY)]
    assert any(stopped + 1 < due < restarted - 10 for due in window)
    seqs = {schedule_seq(function_id, due): due for due in window}
    # every due time of the window must be posted: the gateway's before it stops, the
    # stand-ins' while it is down, and around the hand-back whichever holder issued it (the
    # stand-ins take over any due time the slow restarted gateway has not issued)
    must = set(seqs)

    def all_posted() -> Counter[int] | None:  # attesters post the key's tickets as orphans
        posted = _posted_seqs(tickets_stack, file.address)
        return posted if must <= set(posted) else None

    try:
        posted = wait_for(all_posted, 120.0)
    except AssertionError:
        posted = _posted_seqs(tickets_stack, file.address)
        missing = sorted(seqs[s] for s in must - set(posted))
        raise AssertionError(f"due times never posted: {missing} of {window}") from None
    twice = {seqs.get(s, s): n for s, n in posted.items() if n > 1}
    assert not twice, f"posted (paid) more than once: {twice}"
    # nothing else: due times just before the window (stand-ins catch up when they first open
    # the key) or just after it, never a ticket that is no due time
    span = Schedule.parse(CRON).due(first - 120, ended + 10)
    near = {schedule_seq(function_id, due) for due in span}
    strays = set(posted) - near
    assert not strays, f"the key's tickets posted that are no due time: {strays}"

    # the stand-ins issued the due times the stopped gateway could not; worker-3, given the
    # file without a share, issued nothing
    issued = [_issued_dues(devnet.worker_dir(n)) for n in range(3)]
    by_standins = set(issued[0]) | set(issued[1])
    assert any(stopped < due < restarted for due in by_standins), issued
    assert by_standins <= set(window)
    assert not issued[2]
    assert "not sealed to" in (devnet.worker_dir(2) / "worker.log").read_text()
    assert after, "the restarted gateway issued nothing"


def _issued_dues(worker_dir: Path) -> list[int]:
    """Due times a worker issued as a stand-in (its log's ``stand-in: issued`` lines)."""
    dues = []
    for line in (worker_dir / "worker.log").read_text(errors="replace").splitlines():
        if "stand-in: issued" in line and PROJECT in line:
            doc: dict[str, Any] = json.loads(line) if line.startswith("{") else {"message": line}
            words = str(doc.get("message", line)).split()
            dues.append(int(words[words.index("due") + 1]))
    return dues
