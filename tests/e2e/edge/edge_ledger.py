"""What a request could have cost: the gateway's ticket book and the project's reserve on-chain."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ticket_stack import TicketStack

from peerhost.wire.ids import project_id_of


@dataclass(frozen=True)
class Ledger:
    tickets: int
    issued_total: int
    reserve: int
    unsettled: int  # tickets whose batch has not settled yet (the reserve may still move)


def ledger(stack: TicketStack) -> Ledger:
    """Tickets in the gateway's book, its running total issued, the examples project's reserve."""
    path = stack.devnet.state_dir / "gateway" / "tickets.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tickets = db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        row = db.execute("SELECT value FROM meta WHERE key = 'issued_total'").fetchone()
        unsettled = db.execute(
            "SELECT COUNT(*) FROM tickets LEFT JOIN batches USING (batch_id) "
            "WHERE batches.state IS NULL OR batches.state != 'settled'"
        ).fetchone()[0]
    project = project_id_of(stack.owner, stack.examples)
    reserve = stack.view(lambda view: view.reserve_of(project))
    return Ledger(int(tickets), int(row[0]) if row else 0, int(reserve), int(unsettled))


def assert_no_cost(before: Ledger, after: Ledger) -> None:
    """No ticket issued, nothing added to what the gateway claims against the reserve, and (when
    no earlier ticket was still settling, so the reserve could not move for another reason) the
    reserve unchanged."""
    assert after.tickets == before.tickets, "a ticket was issued"
    assert after.issued_total == before.issued_total, "the gateway claimed more of the reserve"
    if before.unsettled == 0:
        assert after.reserve == before.reserve, "the project's reserve moved"
