"""Load a page in Debian's chromium (headless): its DOM after the page's script ran, and a
screenshot under ``.artifacts/screenshots/`` (kept by CI as artifacts). Chromium comes from
``tools/browser/install.sh`` (``bin/setup --browser``; bin/test asks for it): in CI a missing
browser fails, elsewhere it skips."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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
