"""Schedules at publish: project.json's "schedule" is checked, embedded in the code, refused
below the minimum interval before anything is published, and its next run times printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peerhost.publishing import load_project
from peerhost.publishing.errors import InvalidProjectFile, ScheduleTooFrequent
from peerhost.publishing.schedules import check_schedules, gateway_min_interval, next_run_lines
from peerhost.wire import declarations
from peerhost.wire.schedule import MIN_INTERVAL_SECONDS

JS = "export async function handler(req) { return 1; }\n"


def _project(root: Path, schedule: object, name: str = "tick.js", source: str = JS) -> Path:
    (root / "functions").mkdir(parents=True)
    (root / "functions" / name).write_text(source)
    settings: dict[str, object] = {"schedule": schedule}
    if name.endswith(".js") and source.startswith("return"):
        settings["runtime"] = "clf"
    manifest = {"project": "cron", "functions": {Path(name).stem: settings}}
    (root / "project.json").write_text(json.dumps(manifest))
    return root


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("tick.js", JS),
        ("tick.js", "return new Uint8Array(1)\n"),
        ("tick.py", "def handler(req):\n    return 1\n"),
    ],
)
def test_load_project__schedule__declared_in_the_published_code(
    tmp_path: Path, name: str, source: str
) -> None:
    spec = load_project(_project(tmp_path, "0 3 * * *", name, source)).function("tick")
    assert spec.schedule == "0 3 * * *"
    assert declarations.read(spec.code()).schedule == "0 3 * * *"


@pytest.mark.parametrize(
    ("schedule", "reason"),
    [("0 25 * * *", "hour field: 25 is outside 0-23"), (5, "must be a cron expression")],
)
def test_load_project__bad_schedule__refused_naming_the_function(
    tmp_path: Path, schedule: object, reason: str
) -> None:
    with pytest.raises(InvalidProjectFile, match=rf"functions\.tick\.schedule.*{reason}"):
        load_project(_project(tmp_path, schedule))


def test_check_schedules__below_the_minimum__refused_with_the_minimum_and_a_fix(
    tmp_path: Path,
) -> None:
    project = load_project(_project(tmp_path, "*/10 * * * * *"))
    with pytest.raises(
        ScheduleTooFrequent,
        match=r"runs 10 s apart, below the minimum interval of 60 s \(the gateway",
    ):
        check_schedules(project, 60.0, "the gateway at http://g")
    check_schedules(project, 10.0, "the gateway at http://g")  # at the minimum: accepted


def test_gateway_min_interval__gateway_unreachable__protocol_default_named(tmp_path: Path) -> None:
    value, source = gateway_min_interval("http://127.0.0.1:9", "0x" + "ab" * 20)
    assert value == MIN_INTERVAL_SECONDS and "protocol's default" in source


def test_next_run_lines__scheduled_function__next_three_utc_times(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path, "0 3 * * *"))
    [line] = list(next_run_lines(project, now=1_767_225_600))  # 2026-01-01 00:00:00 UTC
    assert line == (
        "  tick: schedule '0 3 * * *' (UTC), next runs 2026-01-01 03:00:00, "
        "2026-01-02 03:00:00, 2026-01-03 03:00:00"
    )
