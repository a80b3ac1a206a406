"""An IPFS daemon down while a new version is published and called (``fault_scenarios.ipfs_down``):
the publisher's CLI, the gateway and the workers each say the daemon is down and how to start
one (no traceback); nothing is published while it is down, no worker attests a call it cannot
fetch the code of, cached versions keep answering; the daemon back, the publish succeeds and the
new version answers; every ticket settles once, nobody slashed.

``slow`` (``PEERHOST_FAULTS=all`` runs it; CI runs the embedded store's ``store-down``): about three
minutes, most of it the gateway and the workers restarted on the daemon and back, and the calls
that wait out the gateway's result timeout while no worker can fetch the code."""

from __future__ import annotations

import os

import pytest
from fault_scenarios import TicketStack, ipfs_down

from peerhost.storage.daemon import find_jsipfs


@pytest.mark.slow
def test_store__ipfs_daemon_killed_while_a_new_version_is_published_and_called__clear_errors_and_nothing_lost(
    faults_stack: TicketStack, seed: int
) -> None:
    if find_jsipfs() is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail("js-ipfs is not installed: bin/setup installs it (tools/ipfs/install.sh)")
        pytest.skip("js-ipfs is not installed: bash tools/ipfs/install.sh")
    outcome = ipfs_down(faults_stack, seed)
    print(outcome.line(), outcome.notes)
    assert outcome.failed_calls >= 2 and outcome.answered >= 10
    assert not outcome.slashed
    assert outcome.paid + outcome.refunded == outcome.posted
