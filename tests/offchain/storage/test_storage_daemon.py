"""The js-ipfs daemon helper (the session daemon itself is started by conftest)."""

from __future__ import annotations

import pytest

from peerhost.storage import DaemonFailed, DaemonNotInstalled
from peerhost.storage.daemon import IpfsDaemon, require_jsipfs, start_daemon


def test_require_jsipfs__not_installed__says_to_run_install_script(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PEERHOST_JSIPFS", "/nonexistent/jsipfs")

    with pytest.raises(DaemonNotInstalled, match=r"tools/ipfs/install\.sh"):
        require_jsipfs()


def test_start_daemon__repo_already_served__refused(ipfs_daemon: IpfsDaemon) -> None:
    with pytest.raises(DaemonFailed, match=ipfs_daemon.api_url):
        start_daemon(ipfs_daemon.repo)


def test_daemon__loopback_only_offline_no_bootstrap(ipfs_daemon: IpfsDaemon) -> None:
    import json

    config = json.loads((ipfs_daemon.repo / "config").read_text())

    assert ipfs_daemon.api_url.startswith("http://127.0.0.1:")
    assert ipfs_daemon.gateway_url.startswith("http://127.0.0.1:")
    assert config["Bootstrap"] == [] and config["Addresses"]["Swarm"] == []
    assert "--offline" in str(ipfs_daemon.process.args)
