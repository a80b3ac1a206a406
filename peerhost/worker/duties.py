"""What a worker committed to on-chain and must still open, in its own SQLite file.

A seat's vector and salt (and a tier-2/3 vote and its salt) are written *before* the commitment
is sent, so a worker restarted between commit and reveal still reveals (a no-show is slashed
like a wrong reveal). A duty is keyed by what it is for (``seat:<batch>``,
``vote:<batch>:<leaf>:<tier>``, ``challenge:<batch>:<leaf>:<tier>``) and marked once done.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from peerhost.chain.errors import RpcError
from peerhost.chain.settlement import SettlementView

#: seconds without a block before a devnet that mines on transactions is made to mine the blocks a
#: seed needs (a batch's: ``Committee._blocks_stalled``; a panel's: ``Accountability._seat_panel``)
MINE_QUIET = 0.3


def quiet_spell() -> float:
    """:data:`MINE_QUIET` and a random share more, so that the workers waiting for the same seed
    block do not all mine it."""
    return MINE_QUIET * (1.0 + random.random())


_SCHEMA = """
CREATE TABLE IF NOT EXISTS duties (
    key    TEXT PRIMARY KEY,
    value  BLOB NOT NULL,
    salt   BLOB NOT NULL,
    done   INTEGER NOT NULL DEFAULT 0
);
"""


#: A seat or voter commits this share of the chain's commit window before its deadline, within
#: these bounds (seconds): time for the commitment to be sent and mined on a loaded machine (at
#: load 22-32 on 2 cores a seat's commitment took 5.3 and 6.8 s from its cutoff to its block, past
#: the 4 s a fifth of a 20 s window left it: two no-shows of an honest worker).
_COMMIT_MARGIN_SHARE, _COMMIT_MARGIN_MIN, _COMMIT_MARGIN_MAX = 0.35, 2.0, 30.0
#: A seat holds its leaves' inputs this share of the commit window before the commit cutoff, or
#: abstains on the leaves whose inputs it does not have (time left to run what it got).
_INPUT_MARGIN_SHARE = 0.15


def commit_margin(window: int) -> float:
    """Seconds before a commit deadline at which a seat (or a tier voter) stops working out its
    value and commits what it has, abstaining on the rest: 35 % of the chain's commit window
    ``window``, at least 2 s and at most 30 s (7 s of a 20 s window, 15.75 s of 45 s, 30 s of the
    default 120 s, 3.5 s of the devnet courts' 10 s)."""
    return min(max(window * _COMMIT_MARGIN_SHARE, _COMMIT_MARGIN_MIN), _COMMIT_MARGIN_MAX)


def input_margin(window: int) -> float:
    """Seconds before a commit deadline by which a seat must hold a leaf's input (from its
    gateway, or published through a data-availability challenge), else it abstains on the leaf:
    :func:`commit_margin` and 15 % of the window more (10 s of a 20 s window, 48 s of 120 s). The
    challenge goes on; the commitment never waits for its transactions or its window."""
    return commit_margin(window) + window * _INPUT_MARGIN_SHARE


async def chain_lead(view: SettlementView, clock: Callable[[], float]) -> float:
    """Seconds the chain's clock runs ahead of ``clock`` (negative: behind), as the contracts
    will judge a deadline (a seat's, a tier vote's): by the timestamp the node gives the block it
    would mine next (``pending``; a devnet's clock while it is idle, or after a snapshot's revert
    set it back), or the head's when later. A node whose ``pending`` is no block being built (not
    numbered past the head: op-geth by default, and some other nodes, answer the latest block) or
    that does not answer it is judged by its head alone, and only when ahead: the head's age (up
    to 12 s on L1, more after a missed slot) is no lead, counted it moved deadlines later by it."""
    number, head = await view.head()  # before the pending block: never numbered past it
    try:
        pending = await view.rpc.call("eth_getBlockByNumber", ["pending", False])
        stamp, building = int(pending["timestamp"], 16), int(pending["number"], 16) > number
    except (RpcError, TypeError, KeyError, ValueError):
        building = False
    if not building:
        return max(0.0, head - clock())
    return max(stamp, head) - clock()


async def chain_clock(view: SettlementView) -> tuple[int, float]:
    """The head block's timestamp and the chain's clock now: the timestamp of the block the node
    would mine next (``pending``, numbered past the head) when it builds one, else this machine's
    clock (or the head's when later). A devnet that mines only on transactions is mined when its
    clock ran past its head's (phases that end by time end); judged by this machine's clock, a
    chain whose clock lags it (anvil's after a reorg: 8-16 s) was mined on every pass of every
    duty, hundreds of empty blocks a minute, and the workers' own transactions waited seconds
    each (tier votes committed past their deadline: honest voters slashed as no-shows)."""
    number, head = await view.head()
    try:
        pending = await view.rpc.call("eth_getBlockByNumber", ["pending", False])
        if int(pending["number"], 16) > number:
            return head, float(int(pending["timestamp"], 16))
    except (RpcError, TypeError, KeyError, ValueError):
        pass
    return head, max(float(head), time.time())


def seat_key(batch_id: int) -> str:
    return f"seat:{batch_id}"


def vote_key(batch_id: int, index: int, tier: int) -> str:
    return f"vote:{batch_id}:{index}:{tier}"


def challenge_key(batch_id: int, index: int, tier: int) -> str:
    return f"challenge:{batch_id}:{index}:{tier}"


class DutyLog:
    """Commitments' openings and finished duties (module docstring); ``":memory:"`` for tests."""

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        if str(path) != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def save(self, key: str, value: bytes, salt: bytes) -> None:
        """Records what ``key`` committed to (replacing an earlier record; not done)."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO duties(key, value, salt, done) VALUES (?, ?, ?, 0)",
                (key, value, salt),
            )

    def get(self, key: str) -> tuple[bytes, bytes] | None:
        """(value, salt) recorded for ``key``."""
        with self._lock:
            row = self._db.execute(
                "SELECT value, salt FROM duties WHERE key = ?", (key,)
            ).fetchone()
        return (bytes(row[0]), bytes(row[1])) if row is not None else None

    def mark(self, key: str) -> None:
        """Marks ``key`` done (recording it if it was not)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO duties(key, value, salt, done) VALUES (?, x'', x'', 1)"
                " ON CONFLICT(key) DO UPDATE SET done = 1",
                (key,),
            )

    def undone(self, prefix: str) -> list[str]:
        """The keys starting with ``prefix`` recorded and not marked done (saved before the
        commitment went out, and not revealed), in the order they were recorded."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key FROM duties WHERE done = 0 AND substr(key, 1, ?) = ? ORDER BY rowid",
                (len(prefix), prefix),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def done(self, key: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT done FROM duties WHERE key = ?", (key,)).fetchone()
        return bool(row and row[0])
