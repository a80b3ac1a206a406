"""Reads, from the chain, what every holder of a schedule key agrees on for one due time.

:class:`ScheduleRuns` builds the :class:`~peerhost.wire.schedule_ticket.ScheduledRun` of a
function's due time: the function's owner, project and name, its active version, and that
version's declared cron expression as of the **anchor block** (the last block whose timestamp is
before the due time: read after the due time, no block mined later can change it, so the primary
gateway and every stand-in read the same one), the protocol's ``minReward`` as the reward, the
anchor's number as ``secretsVersion``, and the key's authorization start on the project as the
ordinal's origin. Committee members use :meth:`ScheduleRuns.rebuild_input` to rebuild a
scheduled ticket's input from the ticket alone (nobody serves it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from eth_utils import to_checksum_address

from peerhost.chain.settlement import SettlementView
from peerhost.wire import declarations
from peerhost.wire.batch import Leaf
from peerhost.wire.feed import ENGINE_PROFILE
from peerhost.wire.ids import function_id_of, project_id_of
from peerhost.wire.schedule import InvalidSchedule, Schedule, scheduled_request
from peerhost.wire.schedule_ticket import ScheduledRun, is_schedule_seq
from peerhost.wire.ticket import MODE_FAST, input_hash_of

#: Reads a version's code by its CID (raises when it cannot).
CodeReader = Callable[[bytes], bytes]


class ScheduleRuns:
    """Chain reads behind scheduled tickets (see the module docstring).

    Args:
        view: Settlement contract reads.
        read_code: Reads code by CID (the declared schedule lives in the code).
    """

    def __init__(self, view: SettlementView, read_code: CodeReader) -> None:
        self.view = view
        self.read_code = read_code
        self._stamps: dict[int, int] = {}
        self._expressions: dict[tuple[bytes, int], str | None] = {}

    async def _stamp(self, number: int) -> int:
        if number not in self._stamps:
            block = await self.view.rpc.call("eth_getBlockByNumber", [hex(number), False])
            self._stamps[number] = int(block["timestamp"], 16)
        return self._stamps[number]

    async def anchor(self, due: int) -> int:
        """The last block whose timestamp is before ``due`` (0 when none is)."""
        low, high = 0, await self.view.block_number()
        if await self._stamp(high) < due:
            return high
        while low < high:  # invariant: stamp(high) >= due; answer in [low, high)
            mid = (low + high + 1) // 2
            if await self._stamp(mid) < due:
                low = mid
            else:
                high = mid - 1
        return low

    async def expression(self, function_id: bytes, version: int) -> str | None:
        """The cron expression version ``version`` declares (None: none, or unreadable)."""
        key = (function_id, version)
        if key not in self._expressions:
            v = await self.view.function_version(function_id, version)
            try:
                code = await asyncio.to_thread(self.read_code, bytes(v["codeCid"]))
            except Exception:
                return None  # not cached: the store may come back
            self._expressions[key] = declarations.read(code).schedule
        return self._expressions[key]

    async def run(
        self,
        *,
        key: str,
        owner: str,
        project: str,
        function: str,
        due: int,
        ticket_life: int,
    ) -> ScheduledRun | None:
        """The run of ``function`` due at ``due`` signed by schedule key ``key``; None when
        nothing runs at that due time (no such function then, disabled, no declared schedule,
        a schedule that is not due then, the key not authorized before it)."""
        function_id = function_id_of(owner, project, function)
        since, _ = await self.view.authorization_of(project_id_of(owner, project), key)
        if since == 0 or due <= since:
            return None
        anchor = await self.anchor(due)
        try:
            info = await self.view.function_info(function_id, block=anchor)
        except Exception:
            return None  # not registered yet at the anchor
        version = int(info["activeVersion"])
        if version == 0 or bool(info["disabled"]):
            return None
        expression = await self.expression(function_id, version)
        if expression is None:
            return None
        try:
            schedule = Schedule.parse(expression)
        except InvalidSchedule:
            return None
        if schedule.due(due - 1, due) != [due]:
            return None
        params = await self.view.params()
        return ScheduledRun(
            schedule_key=to_checksum_address(key),  # as a signature recovers it
            chain_id=self.view.config.chain_id,
            coordinator=self.view.config.settlement,
            function_id=function_id,
            wallet=str(info["owner"]),
            project=str(info["project"]),
            function=str(info["name"]),
            expression=expression,
            due=due,
            since=since,
            version=version,
            reward=int(params["minReward"]),
            secrets_version=anchor,
            ticket_life=ticket_life,
            mode=MODE_FAST,
            engine_profile=ENGINE_PROFILE,
        )

    async def rebuild_input(self, gateway: str, leaf: Leaf, rid: bytes) -> bytes | None:
        """A scheduled leaf's input, rebuilt from the leaf (None: not a scheduled ticket, or
        what it rebuilds does not hash to the leaf's ``inputHash``)."""
        if not is_schedule_seq(leaf.seq):
            return None
        expression = await self.expression(leaf.function_id, leaf.version)
        if expression is None:
            return None
        info = await self.view.function_info(leaf.function_id)
        data = scheduled_request(
            expression,
            leaf.issued_at,
            request_id=rid,
            wallet=str(info["owner"]),
            project=str(info["project"]),
            function=str(info["name"]),
        )
        return data if input_hash_of(data) == leaf.input_hash else None


__all__ = ["CodeReader", "ScheduleRuns"]
