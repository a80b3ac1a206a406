"""The status page in a real browser (Debian's chromium, headless) against the running stack.

Each page is loaded twice by chromium: ``--dump-dom`` after its script ran (virtual time lets the
3-second refresh fire) to check the content, and ``--screenshot`` into ``.artifacts/screenshots/``
(kept by CI as artifacts). Chromium comes from ``tools/browser/install.sh`` (``bin/setup
--browser``; bin/test asks for it): in CI a missing browser fails, elsewhere it skips.
"""

from __future__ import annotations

import re

import httpx
import pytest
from e2e.browser_pages import page_dom, screenshot
from e2e_http_stack import Stack, chain_mode

from peerhost.functionlogs.access import key_signer
from peerhost.gateway.dashboard.access import owner_link


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
