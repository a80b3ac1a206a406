"""The schedule keys this gateway holds: it signs those projects' runs with them.

A project owner who set up stand-ins (``ape run schedules authorize``, docs/schedules.md) seals
the project's schedule key to this gateway too, with the gateway's X25519 key
(``<data_dir>/x25519.key``, created at first start; its public half is in ``GET /_schedules`` as
``seal_key``). The operator drops the key file in ``<data_dir>/schedule-keys/``; it is read at
each heartbeat, so no restart is needed. A file that does not open here (no share for this
gateway, another chain, tampered, expired) is logged once and ignored: the project's runs are
then signed with the gateway's own identity, as without a key.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from nacl.public import PrivateKey

from peerhost.secrets.keys import load_or_create_worker_key
from peerhost.secrets.schedule_key import (
    ScheduleKeyFile,
    ScheduleKeyUnusable,
    key_files,
    open_schedule_key,
)
from peerhost.wire.secrets import normalize_address

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldKey:
    """A schedule key this gateway opened."""

    file: ScheduleKeyFile
    key: bytes = field(repr=False)


class ScheduleKeys:
    """Key files in ``<data_dir>/schedule-keys`` opened with the gateway's X25519 key."""

    def __init__(self, data_dir: Path, address: str, chain_id: int, registry: str) -> None:
        self.data_dir = data_dir
        self.address = address
        self.chain_id = chain_id
        self.registry = registry
        self._encryption_key: PrivateKey = load_or_create_worker_key(data_dir / "x25519.key")
        self._held: dict[tuple[str, str], HeldKey] = {}
        self._seen: set[Path] = set()

    @property
    def seal_key(self) -> bytes:
        """The X25519 public key owners seal schedule keys to."""
        return bytes(self._encryption_key.public_key)

    def refresh(self) -> None:
        """Opens key files added since the last call."""
        for path in key_files(self.data_dir):
            if path in self._seen:
                continue
            self._seen.add(path)
            try:
                file = ScheduleKeyFile.load(path)
                key = open_schedule_key(
                    file,
                    holder=self.address,
                    holder_key=self._encryption_key,
                    chain_id=self.chain_id,
                    registry=self.registry,
                    now=int(time.time()),
                    path=str(path),
                )
            except ScheduleKeyUnusable as exc:
                log.warning("schedule keys: %s; its project's runs use this gateway's key", exc)
                continue
            self._held[(file.owner, file.project)] = HeldKey(file, key)
            log.info(
                "schedule keys: signing the runs of %s/%s with schedule key %s",
                file.owner,
                file.project,
                file.address,
            )

    def of(self, owner: str, project: str) -> HeldKey | None:
        """The key this gateway holds for ``owner``'s ``project`` (None: it holds none)."""
        return self._held.get((normalize_address(owner), project))


__all__ = ["HeldKey", "ScheduleKeys"]
