"""Submits ``requestExecution`` transactions with many in flight, and matches their receipts.

The request id is ``keccak256(abi.encode(chainId, coordinator, requester, sequence))``. The
gateway keeps the sequence locally next to the nonce (both advance under one lock, so the
node receives transactions in sequence order), registers the waiter under the predicted id
*before* sending, and only then sends (signed bytes go out in JSON-RPC batches, see
:mod:`~peerhost.gateway.batcher`): an output a worker posts right after the block is found at
once. The log follower's ExecutionRequested events confirm requests within milliseconds; a
background loop fetches the receipts of older pending transactions in one JSON-RPC batch per
``poll_interval`` (reverts leave no log). The real id comes from the ExecutionRequested log; the
waiter is re-keyed when the prediction was wrong (another process using the key, or a reverted request
before it). A reverted transaction fails its waiter with the decoded custom error.

The local sequence is read from the chain once, corrected by the observed offset when a
prediction misses, and re-read (when nothing is in flight) after a send failed or a mined id
could not be placed, so it heals itself without an extra read per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hexbytes import HexBytes

from peerhost.chain.errors import ChainUnavailable
from peerhost.gateway.batcher import BatchSender
from peerhost.gateway.chainview import GatewayProtocol, request_gas
from peerhost.gateway.errors import (
    FunctionDisabled,
    FunctionNotFound,
    PayloadTooLarge,
    PaymentUnavailable,
    RequestReverted,
)
from peerhost.gateway.functions import ResolvedFunction
from peerhost.gateway.waiters import Waiter, Waiters

log = logging.getLogger(__name__)

#: Seconds before a transaction's receipt is polled (the log follower usually confirms it first).
RECEIPT_DELAY = 0.25
_SEARCH = 64  # how far from the prediction a mismatched id's sequence is looked for
_PAYMENT_ERRORS = (
    "GatewayNotAuthorized",
    "InsufficientProjectBalance",
    "PriceTooLow",
    "RewardTooLow",
)


@dataclass
class _Pending:
    waiter: Waiter
    fn: ResolvedFunction
    tx_hash: bytes
    predicted_sequence: int
    epoch: int
    sent_at: float


class Submitter:
    """Sends requests for one gateway account.

    Args:
        protocol: Chain access (with a sender).
        sender: The gateway account's signer.
        waiters: Where waiters are registered.
        poll_interval: Seconds between receipt batches.
        tx_timeout: Seconds after which an unmined transaction fails its waiter.
    """

    def __init__(
        self,
        protocol: GatewayProtocol,
        sender: BatchSender,
        waiters: Waiters,
        *,
        poll_interval: float = 0.02,
        tx_timeout: float = 60.0,
    ) -> None:
        self.protocol = protocol
        self.sender = sender
        self.waiters = waiters
        self.poll_interval = poll_interval
        self.tx_timeout = tx_timeout
        self._lock = asyncio.Lock()
        self._sequence: int | None = None
        self._stale = False
        self._epoch = 0
        self._pending: dict[bytes, _Pending] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._topic = protocol.coordinator.event_topic("ExecutionRequested")
        self.mispredicted = 0

    @property
    def address(self) -> str:
        return self.sender.address

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        self._task = asyncio.create_task(self._confirm_loop(), name="gateway-receipts")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for p in list(self._pending.values()):
            p.waiter.cancel()

    async def submit(
        self,
        fn: ResolvedFunction,
        build_input: Callable[[bytes], bytes],
        reply_to: bytes,
        value: int,
        mode: str,
    ) -> Waiter:
        """Registers a waiter under the predicted id and sends the request; returns the waiter.

        ``build_input(request_id)`` makes the input once the id is known (it may raise, e.g.
        PayloadTooLarge, and then nothing is sent). Returns once the node accepted the
        transaction; raises what the node said otherwise.
        """
        async with self._lock:
            if self._stale and not self._pending:
                self._sequence, self._stale = None, False  # re-read after a failure, once idle
            if self._sequence is None:
                self._sequence = await self.protocol.request_sequence(self.address)
                self._epoch += 1
            await self.sender.prepare()
            sequence = self._sequence
            request_id = self.protocol.request_id(self.address, sequence)
            input_ = build_input(request_id)
            data = self.protocol.coordinator.encode_call(
                "requestExecution", fn.function_id, input_, reply_to
            )
            waiter = Waiter(request_id, mode)
            self.waiters.add(waiter)
            tx_hash, sent = self.sender.sign(
                self.protocol.config.coordinator,
                data,
                gas=request_gas(input_, reply_to),
                value=value,
            )
            self._sequence = sequence + 1
            waiter.tx_hash = tx_hash
            self._pending[tx_hash] = _Pending(
                waiter, fn, tx_hash, sequence, self._epoch, time.monotonic()
            )
        try:
            await sent
        except BaseException:
            self._pending.pop(tx_hash, None)
            self.waiters.remove(waiter)
            self._stale = True  # the id was not used: later predictions may be off by one
            raise
        self._wake.set()
        return waiter

    def observed(self, tx_hash: bytes, request_id: bytes) -> None:
        """An ExecutionRequested log of ours was seen by the log follower: confirm it early."""
        pending = self._pending.pop(tx_hash, None)
        if pending is not None:
            asyncio.get_running_loop().create_task(self._succeeded(pending, request_id))

    async def _confirm_loop(self) -> None:
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
            await asyncio.sleep(self.poll_interval)
            try:
                await self._check_receipts()
            except ChainUnavailable as exc:
                log.warning("cannot fetch receipts: %s", exc)
                await asyncio.sleep(0.5)
            except Exception:
                log.exception("receipt check failed")

    async def _check_receipts(self) -> None:
        # The log follower confirms most requests within milliseconds; receipts are for the rest
        # (reverts leave no log), so only transactions older than RECEIPT_DELAY are polled.
        now = time.monotonic()
        hashes = [h for h, p in self._pending.items() if now - p.sent_at >= RECEIPT_DELAY]
        if not hashes:
            return
        results = await self.protocol.rpc.batch(
            [("eth_getTransactionReceipt", [HexBytes(h).to_0x_hex()]) for h in hashes]
        )
        for tx_hash, receipt in zip(hashes, results, strict=True):
            if tx_hash not in self._pending:
                continue  # confirmed meanwhile by the log follower
            if isinstance(receipt, dict):
                pending = self._pending.pop(tx_hash)
                if int(receipt["status"], 16) == 1:
                    await self._succeeded(pending, self._request_id_in(receipt))
                else:
                    await self._reverted(pending, receipt)
            elif now - self._pending[tx_hash].sent_at > self.tx_timeout:
                pending = self._pending.pop(tx_hash)
                await self.waiters.confirmed(pending.waiter, None)
                pending.waiter.fail(
                    TimeoutError(f"request transaction not mined after {self.tx_timeout:.0f} s")
                )
                self._stale = True

    def _request_id_in(self, receipt: dict[str, Any]) -> bytes | None:
        coordinator = self.protocol.config.coordinator.lower()
        for entry in receipt.get("logs", []):
            topics = entry.get("topics", [])
            if (
                str(entry.get("address", "")).lower() == coordinator
                and topics
                and bytes(HexBytes(topics[0])) == self._topic
            ):
                return bytes(HexBytes(topics[1]))
        return None

    async def _succeeded(self, pending: _Pending, actual: bytes | None) -> None:
        waiter = pending.waiter
        if actual is not None and actual != waiter.request_id:
            self.mispredicted += 1
            log.info(
                "request id predicted 0x%s, mined as 0x%s; re-keyed",
                waiter.request_id.hex(),
                actual.hex(),
            )
            self._correct(pending, actual)
        await self.waiters.confirmed(waiter, actual)

    def _correct(self, pending: _Pending, actual: bytes) -> None:
        if pending.epoch != self._epoch or self._sequence is None:
            return
        base = pending.predicted_sequence
        for delta in range(-_SEARCH, _SEARCH + 1):
            if base + delta >= 0 and self.protocol.request_id(self.address, base + delta) == actual:
                self._sequence += delta
                self._epoch += 1
                return
        self._stale = True

    async def _reverted(self, pending: _Pending, receipt: dict[str, Any]) -> None:
        waiter = pending.waiter
        await self.waiters.confirmed(waiter, None)
        self.waiters.remove(waiter)
        if pending.epoch == self._epoch and self._sequence is not None:
            self._sequence -= 1  # the reverted request consumed no sequence number
            self._epoch += 1
        try:
            reason = await self.protocol.revert_reason(receipt)
        except Exception as exc:  # the reason is a nicety; the failure is certain
            reason = f"reverted (reason unavailable: {exc})"
        waiter.fail(translate_revert(pending.fn, reason))


def translate_revert(fn: ResolvedFunction, reason: str) -> Exception:
    """The gateway error for a requestExecution that reverted with ``reason``."""
    name = reason.split("(", 1)[0]
    if name == "UnknownFunction":
        return FunctionNotFound(fn.wallet, fn.project, fn.name)
    if name == "FunctionIsDisabled":
        return FunctionDisabled(fn.wallet, fn.project, fn.name)
    if name == "InputTooLarge":
        sizes = [int(n) for n in re.findall(r"=(\d+)", reason)] + [0, 0]
        return PayloadTooLarge("The canonical request", sizes[0], sizes[1])
    if name in _PAYMENT_ERRORS:
        return PaymentUnavailable(reason)
    return RequestReverted(reason)
