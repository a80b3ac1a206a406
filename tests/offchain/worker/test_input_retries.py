"""A seat's data-availability decision: a refused input is asked for again, with backoff, before
the seat challenges its availability (a bond); a gateway that keeps refusing, or answers with
other bytes than the leaf commits to, is still challenged."""

from __future__ import annotations

import asyncio

from peerhost.wire.ticket import input_hash_of
from peerhost.worker.accountability import fetch_input

INPUT = b'{"name": "ada"}'


class Gateway:
    """Answers a seat's asks from a script: None is a refusal (403/404 or unreachable)."""

    def __init__(self, *answers: bytes | None) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def fetch(self) -> bytes | None:
        self.asked += 1
        return self.answers.pop(0) if self.answers else None


def decide(gateway: Gateway, retries: int = 3) -> bytes | None:
    return asyncio.run(
        fetch_input(gateway.fetch, input_hash_of(INPUT), retries=retries, backoff=0.0)
    )


def test_fetch_input__gateway_serves_after_two_refusals__input_and_no_challenge() -> None:
    gateway = Gateway(None, None, INPUT)
    assert decide(gateway) == INPUT
    assert gateway.asked == 3


def test_fetch_input__gateway_withholds__none_after_every_retry_so_the_seat_challenges() -> None:
    gateway = Gateway()
    assert decide(gateway, retries=3) is None
    assert gateway.asked == 3


def test_fetch_input__gateway_serves_other_bytes__none_so_the_seat_challenges() -> None:
    gateway = Gateway(b"forged", b"forged", b"forged")
    assert decide(gateway) is None
    assert gateway.asked == 3


def test_fetch_input__no_retries__none_without_asking() -> None:
    gateway = Gateway(INPUT)
    assert decide(gateway, retries=0) is None
    assert gateway.asked == 0
