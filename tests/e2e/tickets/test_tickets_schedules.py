"""Scheduled functions on the ticket path: ``ape run publish`` shows the next run times and hands
the schedule to the gateway, whose heartbeat turns every due time into one ticket (none twice,
also across a gateway restart); each run shows in the function's logs and the schedule status."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from pathlib import Path

import httpx
from tick_project import CRON, EVERY, set_schedules, tick_project
from ticket_stack import TicketStack, wait_for

from peerhost.functionlogs import key_signer, sign_access
from peerhost.wire.schedule import SCHEDULED_AT_HEADER, Schedule


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


def test_schedule__every_two_seconds_across_a_gateway_restart__each_due_time_runs_once(
    tickets_stack: TicketStack, http: httpx.Client, recorded: Path, tmp_path: Path
) -> None:
    project = "sched-e2e"
    published = int(time.time())
    done = tickets_stack.ape_run(
        recorded, "publish", str(tick_project(tmp_path / project, project))
    )
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
        set_schedules(tickets_stack, http, project, [])  # the window ends here
    stopped = time.time()
    time.sleep(2 * EVERY)  # runs claimed before the stop may still be signed
    dues = _scheduled_dues(tickets_stack, project)
    repeated = [due for due, n in Counter(dues).items() if n > 1]
    assert not repeated, f"due times run twice: {repeated}"
    expected = [first, *Schedule.parse(CRON).due(first, int(stopped) - 1)]
    missing = sorted(set(expected) - set(dues))
    # A run cancelled by the restart between its claim and its signature never runs (at most once).
    assert len(missing) <= 1, f"due times never run: {missing} of {expected}"
    # Every run is of a due time between the publish and the stop. A due time before ``first``
    # can be signed after it: its first try met no linked worker and was tried again.
    window = set(Schedule.parse(CRON).due(published - 1, int(stopped) + 1))
    assert set(dues) <= window, f"due times outside the schedule's window: {set(dues) - window}"
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
