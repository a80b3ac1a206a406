"""The devnet's own chain: an anvil process on a fixed or free port.

The devnet starts anvil itself (rather than letting ape-foundry start it) so that it can give it
its own session and stop it last, after the gateway and workers, and without
``--steps-tracing`` (which slows every round trip); ape then attaches to it by URL.

anvil keeps the states of recent blocks in memory and writes older ones to disk, 3,600 of them
by default, under ``~/.foundry/anvil/tmp``, each file the larger the longer the chain (it holds
every block hash): a chain of ten thousand blocks keeps gigabytes, and a killed anvil leaves its
files there. A fault campaign's stacks, killed and started again over days, filled the disk that
way. The devnet's anvil keeps at most ``max_states`` on disk (1,024: about 0.8 GB at a height
of ten thousand blocks), in a directory of the devnet's own (``states_dir``) that is emptied when
it starts and removed when it stops. A read at a block older than that fails
``BlockOutOfRangeError``. The oldest state PeerHost reads is a schedule's anchor, up to the
gateway's ``schedule_catch_up`` seconds back (60 by default: a few hundred blocks on a busy
devnet).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from peerhost.devnet.accounts import TEST_MNEMONIC
from peerhost.devnet.errors import PortInUse, ToolMissing
from peerhost.devnet.processes import port_open, spawn, stop, wait_for_port


@dataclass
class Anvil:
    """One anvil node.

    Args:
        port: TCP port on 127.0.0.1.
        accounts: Funded accounts derived from ``mnemonic``.
        chain_id: Chain id (31337 is ape's local network).
        log_path: Where anvil's output goes.
        extra_args: More anvil flags (``--block-time 1``, ``--load-state``…).
        states_dir: Where anvil writes the states of older blocks (module docstring); its own
            ``~/.foundry/anvil/tmp/…`` when None.
        max_states: How many of those states it keeps on disk.
    """

    port: int
    accounts: int = 10
    chain_id: int = 31337
    mnemonic: str = TEST_MNEMONIC
    log_path: Path | None = None
    extra_args: tuple[str, ...] = ()
    states_dir: Path | None = None
    max_states: int = 1024
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> Anvil:
        binary = shutil.which("anvil")
        if binary is None:
            raise ToolMissing(
                "anvil", "Run bin/setup, then `. bin/env` (it is in node_modules/.bin)."
            )
        if port_open("127.0.0.1", self.port):
            raise PortInUse("chain", self.port)
        argv = [
            binary,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--accounts", str(self.accounts),
            "--mnemonic", self.mnemonic,
            "--silent",
            "--max-persisted-states", str(self.max_states),
            *self.extra_args,
        ]  # fmt: skip
        if self.states_dir is not None:
            shutil.rmtree(self.states_dir, ignore_errors=True)  # a killed anvil's, of no use
            argv += ["--cache-path", str(self.states_dir)]
        self.process = spawn(argv, log_path=self.log_path)
        wait_for_port("127.0.0.1", self.port, self.process, "anvil", timeout, self.log_path)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None
        if self.states_dir is not None:
            shutil.rmtree(self.states_dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None
