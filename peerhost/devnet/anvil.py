"""The devnet's own chain: an anvil process on a fixed or free port.

The devnet starts anvil itself (rather than letting ape-foundry start it) so that it can give it
its own session and stop it last, after the gateway and workers, and without
``--steps-tracing`` (which slows every round trip); ape then attaches to it by URL.
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
    """

    port: int
    accounts: int = 10
    chain_id: int = 31337
    mnemonic: str = TEST_MNEMONIC
    log_path: Path | None = None
    extra_args: tuple[str, ...] = ()
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
            *self.extra_args,
        ]  # fmt: skip
        self.process = spawn(argv, log_path=self.log_path)
        wait_for_port("127.0.0.1", self.port, self.process, "anvil", timeout, self.log_path)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None
