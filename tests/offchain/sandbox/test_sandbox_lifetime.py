"""A sandbox's resources end with it, closed or merely dropped."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import time
from pathlib import Path

from peerhost.sandbox import Sandbox


def _tickers() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "wasm-epoch")


def _settle(expected: int) -> int:
    deadline = time.monotonic() + 5
    while _tickers() != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return _tickers()


def test_sandbox__dropped_without_close__its_ticker_stops(tmp_path: Path) -> None:
    before = _tickers()
    sandboxes = [Sandbox(tmp_path / str(i)) for i in range(3)]
    assert _tickers() == before + 3
    del sandboxes
    gc.collect()
    # The tickers' threads held the pooled engines: they end, and the engines with them.
    assert _settle(before) == before


def test_sandbox__closed_then_dropped__stops_once(tmp_path: Path) -> None:
    before = _tickers()
    sandbox = Sandbox(tmp_path)
    sandbox.close()
    sandbox.close()  # a second close is harmless
    assert _settle(before) == before
    del sandbox
    gc.collect()
    assert _settle(before) == before


def test_sandboxes__made_and_dropped_in_turn__more_than_one_process_can_hold(
    tmp_path: Path,
) -> None:
    # A process can hold only about 30 pooled engines at once (each reserves its instance pool's
    # memory and stacks); a dropped sandbox must give its engines back. Run in a child process:
    # running out aborts the interpreter.
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from peerhost.sandbox import Sandbox\n"
        "root = Path(sys.argv[1])\n"
        "for i in range(80):\n"
        "    sandbox = Sandbox(root / str(i))\n"
        "    del sandbox\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
