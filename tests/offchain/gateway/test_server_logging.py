"""The gateway's logging setup: what stays out of its log even at ``--log-level debug``."""

from __future__ import annotations

import json
import subprocess
import sys

_LEVELS = """
import json, logging
from peerhost.gateway.server import configure_logging
configure_logging("debug")
print(json.dumps({n: logging.getLogger(n).getEffectiveLevel() for n in ("", "websockets.client", "httpx")}))
"""


def test_configure_logging__debug__websockets_handshake_and_rpc_lines_not_logged() -> None:
    # a process of its own, as the gateway's: the test runner's log capture is not in the way
    out = subprocess.run(
        [sys.executable, "-c", _LEVELS], capture_output=True, check=True, text=True
    )
    levels = json.loads(out.stdout)
    assert levels[""] == 10  # debug, as asked
    # the websockets handshake's request line and Authorization header carry a provider's key
    assert levels["websockets.client"] > 10
    assert levels["httpx"] > 20  # one line per RPC, with its URL
