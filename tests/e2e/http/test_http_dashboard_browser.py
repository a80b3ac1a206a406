"""The status page in a real browser (Debian's chromium, headless) against the running stack.

Each page is loaded twice by chromium: ``--dump-dom`` after its script ran (virtual time lets the
3-second refresh fire) to check the content, and ``--screenshot`` into ``.artifacts/screenshots/``
(kept by CI as artifacts). Chromium comes from ``tools/browser/install.sh`` (``bin/setup
--browser``; bin/test asks for it): in CI a missing browser fails, elsewhere it skips.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest
from e2e_http_stack import Stack, chain_mode

from peerhost.dashboard.access import owner_link
from peerhost.functionlogs.access import key_signer

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1280,1100",
]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium is not installed: run tools/browser/install.sh (bin/setup --browser)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def _browse(url: str, *action: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="peerhost-chromium-") as profile:
        done = subprocess.run(
            [_chromium(), *FLAGS, f"--user-data-dir={profile}", *action, url],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def page_dom(url: str) -> str:
    """The DOM after the page's script ran (including one live refresh)."""
    return _browse(url, "--virtual-time-budget=5000", "--dump-dom").stdout


def screenshot(url: str, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    path.unlink(missing_ok=True)
    _browse(url, "--virtual-time-budget=5000", f"--screenshot={path}")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    return path


@pytest.fixture(scope="module")
def settled(stack: Stack, http: httpx.Client) -> str:
    """One verified call (so a settlement and a latency point exist); its request id."""
    if chain_mode() == "fork":
        pytest.skip("the browser pass runs once, on the local chain")
    response = http.get(stack.example("hello"), headers={"x-peerhost-mode": "verified"})
    assert response.status_code == 200, response.text
    return response.headers["x-peerhost-request-id"]


def test_dashboard_in_browser__public_page__workers_settlement_and_live_chart(
    stack: Stack, settled: str
) -> None:
    url = f"{stack.gateway_url}/_dashboard"
    dom = page_dom(url)
    workers = stack.devnet.workers
    assert workers and all(w.address in dom for w in workers), dom[:3000]
    short = settled[:8]
    assert re.search(rf"{short}…[0-9a-f]{{4}}</td>\s*<td[^>]*>finalized", dom), dom[:5000]
    label = re.search(r'id="chart-label"[^>]*>([^<]*)<', dom)
    assert label and "max" in label.group(1), "the live refresh did not redraw the chart"
    points = re.search(r'<polyline[^>]*points="([^"]+)"', dom)
    assert points and len(points.group(1).split()) >= 1
    screenshot(url, "dashboard-public")


def test_dashboard_in_browser__owner_link__functions_requests_and_buttons(
    stack: Stack, settled: str
) -> None:
    link = owner_link(stack.gateway_url, stack.owner, key_signer(stack.developer.private_key))
    dom = page_dom(link)
    assert f"Project {stack.examples}" in dom and "Project e2e" in dom, dom[:3000]
    assert ">hello<" in dom and ">orders-create<" in dom
    assert settled[:8] in dom  # the verified call, with its result hash
    assert re.search(r'class="toggle" data-action="enable"', dom)  # e2e/disabled
    assert re.search(r'class="toggle" data-action="disable"', dom)
    screenshot(link, "dashboard-owner")


def test_dashboard_in_browser__forged_link__access_denied_page(stack: Stack) -> None:
    link = owner_link(stack.gateway_url, stack.owner, key_signer("0x" + "11" * 32))
    dom = page_dom(link)
    assert "Access denied" in dom and "not by" in dom
    screenshot(link, "dashboard-denied")
