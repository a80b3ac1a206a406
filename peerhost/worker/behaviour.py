"""Dishonest behaviour, for tests of slashing only (``WorkerSettings(behaviour="lie")``).

A lying worker runs the function like everyone else, then commits to other bytes. It goes
through the real commit-reveal path, so the coordinator must catch and slash it.
"""

from __future__ import annotations


def tamper(envelope: bytes) -> bytes:
    """A wrong but well-formed-looking envelope."""
    if envelope.endswith(b"}"):
        return envelope[:-1] + b',"lie":true}'
    return envelope + b"\n"
