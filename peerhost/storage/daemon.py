"""Start a local, offline, loopback-only js-ipfs daemon (tests, devnets, benchmarks).

js-ipfs comes from npm (``bash tools/ipfs/install.sh``); no Kubo binary is
needed. The repo is initialised with the test profile and an empty repo, no
bootstrap peers, no swarm listeners, and the API, gateway and gRPC endpoints on
127.0.0.1 (port 0 picks free ports; the chosen ones are read back from the
daemon's output). Run it in the foreground with::

    python -m peerhost.storage.daemon --repo .cache/ipfs --api-port 5001
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from peerhost.processes import die_with_parent
from peerhost.storage.errors import DaemonFailed, DaemonNotInstalled

TOOLS_DIR = Path(__file__).resolve().parents[2] / "tools" / "ipfs"
"""Where ``tools/ipfs/install.sh`` puts js-ipfs (a source checkout)."""

_READY = "Daemon is ready"
_API_LINE = re.compile(r"(?:HTTP|RPC) API listening on /ip4/([\d.]+)/tcp/(\d+)")
_GATEWAY_LINE = re.compile(r"Gateway .*listening on /ip4/([\d.]+)/tcp/(\d+)")


def find_jsipfs() -> Path | None:
    """Locate ``jsipfs``: ``$PEERHOST_JSIPFS`` if set (and only it), else tools/ipfs, else PATH."""
    explicit = os.environ.get("PEERHOST_JSIPFS")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    bundled = TOOLS_DIR / "node_modules" / ".bin" / "jsipfs"
    if bundled.is_file():
        return bundled
    found = shutil.which("jsipfs")
    return Path(found) if found else None


def require_jsipfs() -> Path:
    """Like :func:`find_jsipfs`, but raise :class:`DaemonNotInstalled` when it is missing."""
    found = find_jsipfs()
    if found is None:
        raise DaemonNotInstalled(TOOLS_DIR / "install.sh")
    return found


def init_repo(
    repo: Path, *, api_port: int = 0, gateway_port: int = 0, jsipfs: Path | None = None
) -> None:
    """Create (once) and configure an offline, loopback-only repo at ``repo``."""
    jsipfs = jsipfs or require_jsipfs()
    repo.mkdir(parents=True, exist_ok=True)
    config_path = repo / "config"
    if not config_path.exists():
        result = subprocess.run(
            [str(jsipfs), "init", "--profile", "test", "--empty-repo"],
            env=_env(repo),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise DaemonFailed(f"`jsipfs init` exited {result.returncode}", result.stderr)
    config = json.loads(config_path.read_text())
    addresses = config.setdefault("Addresses", {})
    addresses.update(
        Swarm=[],
        Announce=[],
        NoAnnounce=[],
        Delegates=[],
        API=f"/ip4/127.0.0.1/tcp/{api_port}",
        Gateway=f"/ip4/127.0.0.1/tcp/{gateway_port}",
        RPC="/ip4/127.0.0.1/tcp/0",
    )
    config["Bootstrap"] = []
    config.setdefault("Discovery", {}).setdefault("MDNS", {})["Enabled"] = False
    config.setdefault("Pubsub", {})["Enabled"] = False
    config_path.write_text(json.dumps(config, indent=2))


@dataclass
class IpfsDaemon:
    """A running js-ipfs daemon started by :func:`start_daemon`."""

    repo: Path
    process: subprocess.Popen[bytes]
    api_url: str
    gateway_url: str
    log_path: Path

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the daemon (SIGTERM, then SIGKILL after ``timeout`` seconds)."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def __enter__(self) -> IpfsDaemon:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_daemon(
    repo: Path,
    *,
    api_port: int = 0,
    gateway_port: int = 0,
    ready_timeout: float = 60.0,
    jsipfs: Path | None = None,
) -> IpfsDaemon:
    """Initialise ``repo`` if needed and start an offline daemon on it.

    Args:
        repo: the repo directory (``IPFS_PATH``).
        api_port: RPC API port on 127.0.0.1; 0 picks a free one.
        gateway_port: HTTP gateway port on 127.0.0.1; 0 picks a free one.
        ready_timeout: seconds to wait for "Daemon is ready".
        jsipfs: the executable; found with :func:`find_jsipfs` by default.

    Raises:
        DaemonNotInstalled: js-ipfs is not installed (run tools/ipfs/install.sh).
        DaemonFailed: the daemon exited or did not become ready in time.
    """
    jsipfs = jsipfs or require_jsipfs()
    repo = repo.resolve()
    live = _live_api(repo)
    if live:
        raise DaemonFailed(f"a daemon already serves the repo {repo} at {live}", "")
    init_repo(repo, api_port=api_port, gateway_port=gateway_port, jsipfs=jsipfs)
    for stale in ("api", "repo.lock"):  # left by a daemon that was killed
        path = repo / stale
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    log_path = repo / "daemon.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(jsipfs), "daemon", "--offline", "--enable-preload=false"],
            env=_env(repo),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    try:
        return _wait_ready(process, repo, log_path, ready_timeout)
    except BaseException:  # not ready, or interrupted while waiting: leave nothing behind
        process.kill()
        process.wait()
        raise


def _wait_ready(
    process: subprocess.Popen[bytes], repo: Path, log_path: Path, ready_timeout: float
) -> IpfsDaemon:
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if _READY in text:
            api, gateway = _API_LINE.search(text), _GATEWAY_LINE.search(text)
            if api and gateway:
                return IpfsDaemon(
                    repo=repo,
                    process=process,
                    api_url=f"http://{api.group(1)}:{api.group(2)}",
                    gateway_url=f"http://{gateway.group(1)}:{gateway.group(2)}",
                    log_path=log_path,
                )
        if process.poll() is not None:
            raise DaemonFailed(f"jsipfs daemon exited {process.returncode}", text)
        time.sleep(0.1)
    raise DaemonFailed(
        f"jsipfs daemon not ready after {ready_timeout:g}s", log_path.read_text(errors="replace")
    )


def _live_api(repo: Path) -> str | None:
    """The API URL of a daemon already running on ``repo``, if one answers."""
    try:
        match = re.search(r"/ip4/([\d.]+)/tcp/(\d+)", (repo / "api").read_text())
    except OSError:
        return None
    if not match:
        return None
    url = f"http://{match.group(1)}:{match.group(2)}"
    try:
        httpx.post(f"{url}/api/v0/version", timeout=2.0).raise_for_status()
    except httpx.HTTPError:
        return None
    return url


def _env(repo: Path) -> dict[str, str]:
    return {**os.environ, "IPFS_PATH": str(repo), "IPFS_MONITORING": "0"}


def main(argv: list[str] | None = None) -> int:
    """Run a daemon in the foreground until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m peerhost.storage.daemon", description=__doc__)
    parser.add_argument("--repo", type=Path, default=Path(".cache/ipfs"), help="repo directory")
    parser.add_argument("--api-port", type=int, default=5001, help="RPC API port (0: any free)")
    parser.add_argument("--gateway-port", type=int, default=8080, help="gateway port (0: any)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        daemon = start_daemon(args.repo, api_port=args.api_port, gateway_port=args.gateway_port)
    except (DaemonNotInstalled, DaemonFailed) as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(
        f"IPFS API {daemon.api_url}  gateway {daemon.gateway_url}  repo {daemon.repo}", flush=True
    )
    try:
        while daemon.process.poll() is None:
            time.sleep(0.2)
    except KeyboardInterrupt:
        return 0
    finally:
        daemon.stop()
    return daemon.process.returncode or 1


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main())
