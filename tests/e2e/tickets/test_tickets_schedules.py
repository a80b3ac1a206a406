"""Scheduled functions on the ticket path: ``ape run publish`` shows the next run times and hands
the schedule to the gateway, whose heartbeat turns every due time into one ticket (none twice,
also across a gateway restart); each run shows in the function's logs and the schedule status."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ticket_stack import TicketStack, wait_for

from peerhost import devnet_state
from peerhost.functionlogs import key_signer, sign_access
from peerhost.functionlogs.access import SET_SCHEDULES
from peerhost.publishing.checks import CACHE_ENV
from peerhost.wire.schedule import SCHEDULED_AT_HEADER, Schedule

APE = str(Path(sys.executable).with_name("ape"))
EVERY = 2
CRON = f"*/{EVERY} * * * * *"
TICK_JS = """export async function handler(req) {
  console.log("due " + req.headers["x-fn-scheduled-at"]);
  return { due: Number(req.headers["x-fn-scheduled-at"]) };
}
"""


@pytest.fixture(scope="module")
def recorded(tickets_stack: TicketStack, automine: None) -> Iterator[Path]:
    devnet = tickets_stack.devnet
    devnet.save_state()
    try:
        yield devnet.state_dir
    finally:
        devnet_state.clear(devnet.state_dir)


def _folder(root: Path, project: str, cron: str) -> Path:
    (root / "functions").mkdir(parents=True)
    (root / "functions" / "tick.js").write_text(TICK_JS)
    manifest = {"project": project, "functions": {"tick": {"schedule": cron}}}
    (root / "project.json").write_text(json.dumps(manifest))
    return root


def _publish(stack: TicketStack, recorded: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": stack.devnet.rpc_url,
        "PEERHOST_DEVNET_DIR": str(recorded),
        CACHE_ENV: str(stack.devnet.sandbox_cache),
    }
    return subprocess.run(
        [APE, "run", "publish", str(folder), "--account", "TEST::1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _scheduled_dues(stack: TicketStack, project: str) -> list[int]:
    """The due time of every ticket the gateway signed for ``project``'s tick, read from its
    ticket book (the inputs it signed), independent of the scheduler's own record."""
    book = stack.devnet.state_dir / "gateway" / "tickets.sqlite3"
    db = sqlite3.connect(f"file:{book}?mode=ro", uri=True)
    try:
        inputs = [bytes(row[0]) for row in db.execute("SELECT input FROM tickets")]
    finally:
        db.close()
    dues = []
    for data in inputs:
        doc = json.loads(data)
        if (
            doc["metadata"]["function"]
            == {
                "name": "tick",
                "project": project,
                "wallet": doc["metadata"]["function"]["wallet"],
            }
            and SCHEDULED_AT_HEADER in doc["headers"]
        ):
            dues.append(int(doc["headers"][SCHEDULED_AT_HEADER]))
    return dues


def _set_schedules(stack: TicketStack, http: httpx.Client, project: str, names: list[str]) -> None:
    body = json.dumps({"functions": names}).encode()
    headers = sign_access(
        key_signer(stack.developer.private_key),
        stack.owner,
        project,
        action=SET_SCHEDULES,
        content=body,
    )
    url = f"{stack.gateway_url}/_projects/{stack.owner}/{project}/schedules"
    assert http.put(url, content=body, headers=headers).status_code == 200


def test_schedule__every_two_seconds_across_a_gateway_restart__each_due_time_runs_once(
    tickets_stack: TicketStack, http: httpx.Client, recorded: Path, tmp_path: Path
) -> None:
    project = "sched-e2e"
    done = _publish(tickets_stack, recorded, _folder(tmp_path / project, project, CRON))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"tick: schedule '{CRON}' (UTC), next runs " in done.stdout
    assert "schedules sent to" in done.stdout and "it runs tick" in done.stdout
    status_url = f"{tickets_stack.gateway_url}/_status/schedules/{tickets_stack.owner}/{project}"
    try:
        first = wait_for(lambda: sorted(_scheduled_dues(tickets_stack, project))[:1], 60.0)[0]
        time.sleep(3 * EVERY)
        tickets_stack.restart_gateway()  # same ticket book and schedule book
        time.sleep(3 * EVERY)
        status = http.get(status_url).json()
    finally:
        _set_schedules(tickets_stack, http, project, [])  # the window ends here
    stopped = time.time()
    time.sleep(2 * EVERY)  # runs claimed before the stop may still be signed
    dues = _scheduled_dues(tickets_stack, project)
    repeated = [due for due, n in Counter(dues).items() if n > 1]
    assert not repeated, f"due times run twice: {repeated}"
    expected = [first, *Schedule.parse(CRON).due(first, int(stopped) - 1)]
    missing = sorted(set(expected) - set(dues))
    # A run cancelled by the restart between its claim and its signature never runs (at most once).
    assert len(missing) <= 1, f"due times never run: {missing} of {expected}"
    assert set(dues) <= set(expected) | {int(stopped), int(stopped) + 1}
    assert len(expected) >= 5
    # Each run shows in the schedule's status, with its request id and status.
    [tick] = status["functions"]
    assert tick["schedule"] == CRON and tick["state"] == "running"
    assert len(tick["next_runs"]) == 5
    answered = [r for r in tick["runs"] if r["status"] == 200 and r["outcome"] == "ok"]
    assert len(answered) >= 3 and all(r["request_id"].startswith("0x") for r in answered)
    assert {r["due"] for r in tick["runs"]} <= set(dues)
    assert http.get(status_url).json()["functions"] == []  # stopped
    # and in the function's logs (those of the restarted gateway: logs are kept in memory).
    headers = sign_access(
        key_signer(tickets_stack.developer.private_key), tickets_stack.owner, project
    )
    entries = http.get(
        f"{tickets_stack.gateway_url}/_logs/{tickets_stack.owner}/{project}", headers=headers
    ).json()["entries"]
    logged = [e for e in entries if e["lines"] and e["lines"][0].startswith("[schedule] run due")]
    ran = [e for e in logged if e["status"] == 200]
    assert ran, entries
    for entry in ran:
        assert entry["request_id"].startswith("0x") and entry["lines"][1].startswith("due ")
    for entry in logged:  # the others: a due time met while no worker was linked yet (the restart)
        if entry["status"] != 200:
            assert entry["lines"][1].startswith("[error] not issued yet ("), entry
            assert "tried again until" in entry["lines"][1], entry
