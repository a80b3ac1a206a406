"""The devnet's anvil keeps a bounded number of old states on disk, in a directory of its own that
is removed when it stops or the next start finds it left by a killed one (a fault campaign's
stacks filled the disk with anvil's default: every block's state, under ``~/.foundry``)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from peerhost.devnet.anvil import Anvil
from peerhost.devnet.processes import free_port


def _rpc(url: str, method: str, params: list[object]) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["result"]


def _states(states_dir: Path) -> int:
    return sum(1 for path in states_dir.rglob("*") if path.is_file())


def test_anvil__many_blocks__at_most_max_states_on_disk_in_its_dir_removed_at_stop(
    tmp_path: Path,
) -> None:
    states_dir = tmp_path / "anvil-states"
    leftover = states_dir / "anvil-state-of-a-killed-one"
    leftover.mkdir(parents=True)
    (leftover / "state").write_bytes(b"x" * 1000)
    anvil = Anvil(
        port=free_port(), log_path=tmp_path / "anvil.log", states_dir=states_dir, max_states=10
    ).start()
    try:
        assert not leftover.exists()
        # anvil holds the states of a few hundred blocks in memory and writes older ones to disk
        _rpc(anvil.url, "anvil_mine", [hex(800)])
        written = _states(states_dir)
        assert 0 < written <= 10, f"{written} states on disk"
    finally:
        anvil.stop()
    assert not states_dir.exists()
