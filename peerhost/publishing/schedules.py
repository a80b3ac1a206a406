"""Scheduled functions at publish: the minimum interval check, the next run times, and telling
the gateway which functions to run on their schedule (see docs/schedules.md)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from peerhost.functionlogs.access import SET_SCHEDULES, account_signer, sign_access
from peerhost.publishing.errors import ScheduleTooFrequent
from peerhost.publishing.manifest import ProjectSpec
from peerhost.wire.schedule import MIN_INTERVAL_SECONDS, Schedule

NEXT_RUNS = 3


def _base(gateway_url: str, owner: str) -> str:
    return gateway_url.rstrip("/").replace("{wallet}", owner.lower())


def gateway_min_interval(gateway_url: str, owner: str) -> tuple[float, str]:
    """The gateway's minimum interval (``GET /_schedules``) and where it came from; the
    protocol's default when the gateway cannot say."""
    base = _base(gateway_url, owner)
    try:
        response = httpx.get(f"{base}/_schedules", timeout=10.0)
        value = float(response.json()["min_interval"]) if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        value = None
    if value is None:
        return float(MIN_INTERVAL_SECONDS), f"the protocol's default: {base} did not say"
    return value, f"the minimum of the gateway at {base}"


def check_schedules(project: ProjectSpec, minimum: float, source: str) -> None:
    """Refuses (before anything is published) a schedule whose runs come closer than ``minimum``."""
    for spec in project.functions:
        if spec.schedule is None:
            continue
        gap = Schedule.parse(spec.schedule).min_gap()
        if gap < minimum:
            raise ScheduleTooFrequent(spec.name, spec.schedule, gap, minimum, source)


def next_run_lines(project: ProjectSpec, now: float | None = None) -> Iterator[str]:
    """``  nightly: schedule '0 3 * * *' (UTC), next runs 2026-…, …`` per scheduled function."""
    at = int(time.time() if now is None else now)
    for spec in project.functions:
        if spec.schedule is None:
            continue
        runs = Schedule.parse(spec.schedule).next_runs(at, NEXT_RUNS)
        shown = ", ".join(
            datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S") for t in runs
        )
        yield f"  {spec.name}: schedule {spec.schedule!r} (UTC), next runs {shown}"


def send_schedules(project: ProjectSpec, account: Any, owner: str, gateway_url: str) -> str:
    """Names the project's scheduled functions to the gateway (signed by the owner); a line.

    Never raises for an unreachable gateway: publishing again sends them again.
    """
    names = sorted(spec.name for spec in project.functions if spec.schedule is not None)
    body = json.dumps({"functions": names}, sort_keys=True).encode()
    base = _base(gateway_url, owner)
    headers = sign_access(
        account_signer(account), owner, project.name, action=SET_SCHEDULES, content=body
    )
    url = f"{base}/_projects/{owner}/{project.name}/schedules"
    try:
        response = httpx.put(url, content=body, headers=headers, timeout=15.0)
    except httpx.HTTPError as exc:
        return (
            f"  schedules NOT sent: cannot reach {base} ({type(exc).__name__}); nothing runs "
            "until you publish again with the gateway up"
        )
    if response.status_code != 200:
        return (
            f"  schedules NOT sent: {base} answered {response.status_code}: {response.text[:200]}"
        )
    return f"  schedules sent to {base}: it runs {', '.join(names) or 'none'} (status: {base}/_status/schedules/{owner}/{project.name})"
