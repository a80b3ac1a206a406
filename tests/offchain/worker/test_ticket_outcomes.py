"""Which run outcomes a worker attests, remembered by the envelope's bytes."""

from __future__ import annotations

from peerhost.wire.envelope import Envelope, ErrorKind, failure
from peerhost.worker.tickets import _unattestable


def test_unattestable__machine_outcomes__never_attested_each_time() -> None:
    for kind in (ErrorKind.TIMEOUT, ErrorKind.HOST_ERROR, ErrorKind.STACK_OVERFLOW):
        envelope = failure(kind, "x").encode()
        assert _unattestable(envelope) is kind
        assert _unattestable(envelope) is kind  # remembered: the same answer


def test_unattestable__function_outcomes__attested() -> None:
    ok = Envelope(ok=True, status=200, headers={}, body="hi").encode()
    for envelope in (ok, failure(ErrorKind.TRAP, "unreachable").encode(), ok):
        assert _unattestable(envelope) is None
