"""``ape run devnet`` itself: comes up, serves the examples, shows each request with its function
log, writes the URLs, stops on SIGINT; started again on the same state, it shows only its own
requests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_http_stack import chain_mode, wait_until

from peerhost.devnet.processes import port_open
from peerhost.devnet.webhook import DEV_PREFIX, SECRET_FILE


def request_line(path: Path, function: str) -> str | None:
    """The devnet's line for a request to ``function``, once printed."""
    for line in path.read_text().splitlines():
        if f"examples/{function}" in line and " 200 " in line and "curl" not in line:
            return line
    return None


def log_under(path: Path, function: str) -> list[str]:
    """The log lines printed under the first request line of ``function``."""
    lines = path.read_text().splitlines()
    for n, line in enumerate(lines):
        if f"examples/{function}" in line and " 200 " in line and "curl" not in line:
            following = []
            for below in lines[n + 1 :]:
                if not below.lstrip().startswith("| "):
                    break
                following.append(below.strip()[2:])
            return following
    return []


def start_devnet(state: Path, out: Path, urls_path: Path) -> tuple[subprocess.Popen[Any], Any]:
    ape = str(Path(sys.executable).with_name("ape"))
    log = out.open("w")
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
            "--answers",
            "requests",
        ],  # fmt: skip
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return process, log


def test_ape_run_devnet__serves_examples_with_logs__restart_shows_only_its_own_requests(
    tmp_path: Path, compiled_modules: Path
) -> None:
    if chain_mode() == "fork":  # its devnet runs its own local chain whatever the mode
        pytest.skip(
            "runs its own devnet: the local-chain pass covers it, the fork pass would repeat it"
        )
    state = tmp_path / "devnet"
    urls_path = tmp_path / "urls.json"
    # The session's compiled modules (tests/conftest.py): compiling the runtimes takes seconds.
    state.mkdir()
    (state / "sandbox-cache").symlink_to(compiled_modules, target_is_directory=True)
    first = tmp_path / "devnet.out"
    process, log = start_devnet(state, first, urls_path)
    try:
        wait_until(lambda: urls_path.exists() or process.poll() is not None, timeout=240)
        output = first.read_text()
        assert process.poll() is None, output
        urls = json.loads(urls_path.read_text())
        hello = httpx.get(urls["functions"]["hello"], timeout=60)
        assert hello.status_code == 200 and hello.text == "Hello from PeerHost!"
        wait_until(lambda: log_under(first, "hello"), timeout=90)
        chain_port = int(urls["chain"].rsplit(":", 1)[1])
        devnet_json = json.loads((state / "devnet.json").read_text())
        assert devnet_json["gateway_url"] == urls["gateway"]
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        log.close()
    output = first.read_text()
    assert code == 0, output
    for expected in ("==> Deploying the contracts", "curl -i", "Stopped."):
        assert expected in output
    # The webhook example's development secret is set, its curl signs, its value never shows.
    assert "==> Setting the stripe-webhook example's secret" in output
    assert 'curl -i -H "stripe-signature: $(python -m peerhost.devnet.webhook' in output
    secret = (state / SECRET_FILE).read_text().strip()
    assert secret.startswith(DEV_PREFIX) and secret not in output
    line = request_line(first, "hello")
    assert line is not None
    assert "won by worker-1" in line or "answered by worker-1" in line
    assert log_under(first, "hello") == ["hello: answering"]  # the function's stderr
    assert not (state / "devnet.json").exists()
    deadline = time.monotonic() + 10
    while port_open("127.0.0.1", chain_port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not port_open("127.0.0.1", chain_port)

    # Again on the same state: the old gateway log is still there, but no old line comes back.
    urls_path.unlink()
    second = tmp_path / "devnet-again.out"
    process, log = start_devnet(state, second, urls_path)
    try:
        wait_until(lambda: urls_path.exists() or process.poll() is not None, timeout=240)
        assert process.poll() is None, second.read_text()
        urls = json.loads(urls_path.read_text())
        echo = httpx.post(urls["functions"]["echo"], json={"ping": 2}, timeout=60)
        assert echo.status_code == 200, echo.text
        wait_until(lambda: request_line(second, "echo"), timeout=90)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        log.close()
    again = second.read_text()
    assert request_line(second, "hello") is None, again
    requests = again.split("Requests (one line each", 1)[1]
    assert " ? " not in requests and "0x" in requests
