"""A worker that lies: the verified answer is still the honest one, and the liar is slashed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_http_stack import E2E_PROJECT, Stack

from peerhost.console import PeerHost
from peerhost.devnet.accounts import worker_key

LIAR = 3  # worker index 3 (the fourth key); the stack runs 0..2
#: The lying node of the worker tests, run as a script (see tests/e2e/worker/lying_worker.py).
LYING_WORKER = (str(Path(__file__).resolve().parents[1] / "worker" / "lying_worker.py"),)


@pytest.fixture
def liar_in_quorum(stack: Stack) -> Iterator[str]:
    """Swaps worker-3 for a lying worker, so every request gets two honest commits and a lie."""
    devnet = stack.devnet
    devnet.workers[2].stop(timeout=20)
    liar = devnet.launch_worker(LIAR, program=LYING_WORKER)
    try:
        yield liar.address
    finally:
        liar.stop(timeout=20)
        devnet.workers[2] = devnet.launch_worker(2)


def test_lying_worker__verified_mode__answers_the_honest_output_and_slashes_the_liar(
    stack: Stack, http: httpx.Client, liar_in_quorum: str, chain: Any
) -> None:
    response = http.get(
        stack.url(E2E_PROJECT, stack.js_hello),
        params={"name": "truth"},
        headers={"x-peerhost-mode": "verified"},
    )
    assert response.status_code == 200, response.text
    assert response.text == "hello truth"
    assert response.headers["x-peerhost-worker"].lower() != liar_in_quorum.lower()
    request_id = response.headers["x-peerhost-request-id"]

    with stack.ape():
        console = PeerHost(stack.deployment, chain)
        history = console.history(request_id)
        reveals = {
            e.args["worker"].lower(): e.args["resultHash"]
            for e in history.events
            if e.name == "ResultRevealed"
        }
        slashed = [e.args["worker"].lower() for e in history.events if e.name == "WorkerSlashed"]
        reputation = {w.address.lower(): w for w in console.workers()}

    assert history.phase == "Finalized"
    assert len(reveals) == 3
    lie = reveals.pop(liar_in_quorum.lower())
    honest = set(reveals.values())
    assert len(honest) == 1 and lie not in honest
    assert "0x" + honest.pop().hex() == response.headers["x-peerhost-result-hash"]
    assert slashed == [liar_in_quorum.lower()]
    assert reputation[worker_key(LIAR).address.lower()].jobs_slashed >= 1
