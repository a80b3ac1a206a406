"""Deterministic scheduled tickets and the hand-over rule between a schedule's issuers.

A project's scheduled runs may be signed by a **schedule key**: a gateway identity the owner
bonds and authorizes on the project's reserve, held by the primary gateway and the stand-in
workers the owner names (see ``docs/schedules.md``). Every holder builds the *same* ticket for a
due time, so two holders issuing one run sign one ticket: one request id, one seq, paid at most
once (the coordinator's seq bitmap). Duplicates collapse instead of having to be prevented.

Every field is a function of values all holders agree on:

- ``seq``: :func:`schedule_seq` of (function id, due time), in ``[2^62, 2^63)`` (below the upper
  half the coordinator gives contract requests);
- ``issuedAt``: the due time; ``deadline``: the due time plus the ticket life;
- ``version`` and ``secretsVersion``: read from the chain as of the last block *before* the due
  time (the caller reads them, :mod:`peerhost.chain.schedule_runs`; ``secretsVersion`` is that
  block's number): read after the due time, no later block changes it, so a publish right at the
  due time cannot split holders; ``reward``: the protocol's ``minReward`` (the project's price);
- ``mode``: ``fast`` (orphans are audited in full by their committee anyway);
- ``inputHash``: the :func:`~peerhost.wire.schedule.scheduled_request` with the request id the
  seq gives;
- ``issuedTotal``: the reward times the ordinal of the due time among the schedule's due times
  since the key was authorized (:func:`run_ordinal`).

The hand-over rule (:func:`standin_may_issue`): a stand-in issues a due time that is at least
``takeover`` late and at most ``catch_up`` old unless the primary issued it: decided by what the
primary says it issued, not by whether it answers. A primary that answers after the due time's
``takeover`` without having issued it, or that has not answered for ``takeover`` seconds (down,
restarting, or too slow to answer), leaves it to the stand-ins.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from eth_utils import keccak

from peerhost.wire.schedule import Schedule, scheduled_request
from peerhost.wire.ticket import Ticket, input_hash_of, request_id

#: Scheduled seqs live in ``[SCHEDULE_SEQ_BASE, 2 * SCHEDULE_SEQ_BASE)``.
SCHEDULE_SEQ_BASE = 1 << 62
_SEQ_MASK = SCHEDULE_SEQ_BASE - 1


def schedule_seq(function_id: bytes, due: int) -> int:
    """The seq of the run of ``function_id`` due at ``due``: ``2^62 | keccak(id ‖ due)[..62 bits]``.

    A collision (two runs, one seq) can only make the later run unpayable (the bitmap is set),
    never pay a run twice.
    """
    if len(function_id) != 32:
        raise ValueError(f"function id must be 32 bytes, got {len(function_id)}")
    if not 0 <= due < 1 << 40:
        raise ValueError(f"due time {due} is not a uint40")
    digest = keccak(function_id + due.to_bytes(8, "big"))
    return SCHEDULE_SEQ_BASE | (int.from_bytes(digest[:8], "big") & _SEQ_MASK)


def is_schedule_seq(seq: int) -> bool:
    """Whether ``seq`` is in the range of deterministic scheduled tickets."""
    return SCHEDULE_SEQ_BASE <= seq < 2 * SCHEDULE_SEQ_BASE


def run_ordinal(schedule: Schedule, since: int, due: int) -> int:
    """How many of ``schedule``'s due times fall in ``(since, due]`` (``due`` included)."""
    if due <= since:
        raise ValueError(f"due time {due} is not after the key's authorization at {since}")
    return len(schedule.due(since, due))


@dataclass(frozen=True)
class ScheduledRun:
    """What every holder of the schedule key agrees on for one due time.

    Attributes:
        schedule_key: The schedule key's address (the tickets' ``gateway``).
        chain_id: The chain id.
        coordinator: The settlement coordinator's address.
        function_id: ``FunctionRegistry`` id of the scheduled function.
        wallet: The project owner's wallet.
        project: The project's name.
        function: The function's name.
        expression: The cron expression the active version declares.
        due: The due time (Unix seconds).
        since: When the schedule key was authorized (Unix seconds).
        version: The active version as of the block at or before ``due``.
        reward: The project's price as of that block.
        secrets_version: That block's number.
        ticket_life: Seconds from the due time to the ticket's deadline.
        mode: The ticket mode.
        engine_profile: The protocol's engine profile.
    """

    schedule_key: str
    chain_id: int
    coordinator: str
    function_id: bytes
    wallet: str
    project: str
    function: str
    expression: str
    due: int
    since: int
    version: int
    reward: int
    secrets_version: int
    ticket_life: int
    mode: int
    engine_profile: bytes

    @property
    def seq(self) -> int:
        return schedule_seq(self.function_id, self.due)

    @property
    def request_id(self) -> bytes:
        return request_id(self.chain_id, self.coordinator, self.schedule_key, self.seq)

    def input(self) -> bytes:
        """The run's canonical request."""
        return scheduled_request(
            self.expression,
            self.due,
            request_id=self.request_id,
            wallet=self.wallet,
            project=self.project,
            function=self.function,
        )

    def ticket(self) -> Ticket:
        """The ticket every holder signs for this due time."""
        ordinal = run_ordinal(Schedule.parse(self.expression), self.since, self.due)
        return Ticket(
            gateway=self.schedule_key,
            seq=self.seq,
            function_id=self.function_id,
            version=self.version,
            input_hash=input_hash_of(self.input()),
            reward=self.reward,
            issued_at=self.due,
            deadline=self.due + self.ticket_life,
            mode=self.mode,
            secrets_version=self.secrets_version,
            engine_profile=self.engine_profile,
            issued_total=self.reward * ordinal,
        )


def scheduled_ticket_problem(ticket: Ticket, now: int) -> str | None:
    """Why a worker refuses a ticket in the scheduled seq range, or None when it may run it:
    its seq must be :func:`schedule_seq` of its function and ``issuedAt`` (a holder cannot sign
    a due time twice under two seqs), and the due time must have come (no run before it is due).
    """
    if ticket.seq != schedule_seq(ticket.function_id, ticket.issued_at):
        return (
            f"seq {ticket.seq} is in the scheduled range but is not the deterministic seq of "
            f"its function's run due {ticket.issued_at}"
        )
    if ticket.issued_at > now:
        return f"the scheduled run is due at {ticket.issued_at}, not yet (now {now})"
    return None


def standin_may_issue(
    due: int,
    now: float,
    *,
    heard_at: float,
    issued: Collection[int] | None,
    takeover: float,
    catch_up: float,
) -> bool:
    """Whether a stand-in issues the run due at ``due`` now.

    Args:
        due: The due time.
        now: The stand-in's clock.
        heard_at: When the primary last answered its status (before any answer: when the
            stand-in began to listen).
        issued: The due times that answer says the primary issued; None when it does not run
            the function (or before any answer).
        takeover: Seconds a due time is the primary's alone.
        catch_up: Due times older than this are never issued (a schedule is not a queue).

    Returns:
        True when the due time is at least ``takeover`` late, at most ``catch_up`` old, and the
        primary did not issue it: it answered after the due time's ``takeover`` without having
        issued it, or it has not answered for ``takeover`` seconds. A primary that answers but
        does not run the function (the owner stopped it) leaves it alone.
    """
    if not takeover <= now - due <= catch_up:
        return False
    if issued is not None and due in issued:
        return False  # the primary issued it
    if now - heard_at >= takeover:
        return True  # silent a whole takeover: down, restarting or hung
    return issued is not None and heard_at >= due + takeover


__all__ = [
    "SCHEDULE_SEQ_BASE",
    "ScheduledRun",
    "is_schedule_seq",
    "run_ordinal",
    "schedule_seq",
    "scheduled_ticket_problem",
    "standin_may_issue",
]
