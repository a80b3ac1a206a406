"""``ape run devnet`` itself: comes up, serves the examples, writes the URLs, stops on SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from e2e_http_stack import sandbox_cache_dir, wait_until

from peerhost.devnet.processes import port_open


def request_line(path: Path) -> str | None:
    """The devnet's line for the hello request, once printed."""
    for line in path.read_text().splitlines():
        if "examples/hello" in line and " 200 " in line and not line.lstrip().startswith("curl"):
            return line
    return None


def test_ape_run_devnet__serves_examples__sigint_stops_everything(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    state = tmp_path / "devnet"
    urls_path = tmp_path / "urls.json"
    # Reuse compiled modules between sessions (compiling the JS engine takes ~10 s).
    state.mkdir()
    cache = sandbox_cache_dir(request.config, state / "sandbox-cache")
    if cache != state / "sandbox-cache":
        (state / "sandbox-cache").symlink_to(cache, target_is_directory=True)
    ape = str(Path(sys.executable).with_name("ape"))
    log = (tmp_path / "devnet.out").open("w")
    process = subprocess.Popen(
        [
            ape,
            "run",
            "devnet",
            "--workers",
            "1",
            "--port",
            "0",
            "--state-dir",
            str(state),
            "--urls-json",
            str(urls_path),
        ],  # fmt: skip
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_until(lambda: urls_path.exists() or process.poll() is not None, timeout=240)
        output = (tmp_path / "devnet.out").read_text()
        assert process.poll() is None, output
        urls = json.loads(urls_path.read_text())
        hello = httpx.get(urls["functions"]["hello"], timeout=60)
        assert hello.status_code == 200 and hello.text == "Hello from PeerHost!"
        wait_until(lambda: request_line(tmp_path / "devnet.out"), timeout=90)
        chain_port = int(urls["chain"].rsplit(":", 1)[1])
        devnet_json = json.loads((state / "devnet.json").read_text())
        assert devnet_json["gateway_url"] == urls["gateway"]
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        log.close()
    output = (tmp_path / "devnet.out").read_text()
    assert code == 0, output
    for expected in ("==> Deploying the contracts", "curl -i", "Stopped."):
        assert expected in output
    line = request_line(tmp_path / "devnet.out")
    assert line is not None
    assert "won by worker-1" in line or "answered by worker-1" in line
    assert not (state / "devnet.json").exists()
    deadline = time.monotonic() + 10
    while port_open("127.0.0.1", chain_port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not port_open("127.0.0.1", chain_port)
