"""A project's schedule key, sealed to the holders the owner names.

The schedule key is one more gateway identity (bonded, authorized on the project's reserve) whose
only use is signing the project's deterministic scheduled tickets
(:mod:`peerhost.wire.schedule_ticket`). Its private key travels in a **key file**: the public
part (key address, project, the scheduled functions, the ticket life every holder must agree on,
the primary gateway's URL) in the clear, and the key itself in a secrets bundle
(:func:`~peerhost.secrets.bundle.seal_bundle`, the project's secrets format: X25519 sealed boxes,
signed by the owner, bound to chain, registry, project and an expiry) with one share per holder.
It is never put in the project's secrets bundle, which every active worker opens and every run
sees.

A holder (the primary gateway, a stand-in worker) opens its share with its X25519 key
(:func:`open_schedule_key`); the file alone reveals nothing, so it may be copied around like a
config file. Nothing here formats the key into a message.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from nacl.public import PrivateKey

from peerhost.secrets.bundle import WorkerKey, open_bundle, seal_bundle
from peerhost.secrets.errors import ResealNeeded, SecretsError
from peerhost.wire.secrets import Signer, normalize_address

#: The bundle's one secret: the schedule key's 32-byte private key, hex.
KEY_NAME = "PEERHOST_SCHEDULE_KEY"
#: Key files a gateway or worker reads: ``<data_dir>/schedule-keys/*.json``.
KEY_DIR = "schedule-keys"


class ScheduleKeyUnusable(ValueError):
    """A key file that cannot be used by this holder (the reason never holds the key)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"schedule key file {path}: {reason}")


@dataclass(frozen=True)
class ScheduleKeyFile:
    """The key file (see the module docstring)."""

    address: str
    owner: str
    project: str
    chain_id: int
    registry: str
    functions: tuple[str, ...]
    ticket_life: int
    gateway_url: str
    bundle: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "owner": self.owner,
            "project": self.project,
            "chainId": self.chain_id,
            "registry": self.registry,
            "functions": list(self.functions),
            "ticketLife": self.ticket_life,
            "gatewayUrl": self.gateway_url,
            "bundle": base64.b64encode(self.bundle).decode(),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ScheduleKeyFile:
        return cls(
            address=normalize_address(str(doc["address"])),
            owner=normalize_address(str(doc["owner"])),
            project=str(doc["project"]),
            chain_id=int(doc["chainId"]),
            registry=normalize_address(str(doc["registry"])),
            functions=tuple(str(f) for f in doc["functions"]),
            ticket_life=int(doc["ticketLife"]),
            gateway_url=str(doc.get("gatewayUrl", "")),
            bundle=base64.b64decode(str(doc["bundle"])),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> ScheduleKeyFile:
        try:
            return cls.from_json(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ScheduleKeyUnusable(str(path), f"not a key file ({type(exc).__name__})") from None


def seal_schedule_key(
    private_key: bytes,
    holders: Iterable[WorkerKey],
    owner_signer: bytes | str | Signer,
    *,
    owner: str,
    project: str,
    chain_id: int,
    registry: str,
    functions: Iterable[str],
    ticket_life: int,
    gateway_url: str,
    expiry: int,
    now: int | None = None,
) -> ScheduleKeyFile:
    """Seals ``private_key`` to ``holders`` (address, X25519 public key) as the owner."""
    bundle = seal_bundle(
        {KEY_NAME: private_key.hex()},
        holders,
        owner_signer,
        owner,
        project,
        expiry,
        chain_id,
        registry,
        now=now,
        owner_share=True,  # the owner can read it back (its vault key) to withdraw the bond
    )
    return ScheduleKeyFile(
        address=normalize_address(Account.from_key(private_key).address),
        owner=normalize_address(owner),
        project=project,
        chain_id=chain_id,
        registry=normalize_address(registry),
        functions=tuple(functions),
        ticket_life=ticket_life,
        gateway_url=gateway_url,
        bundle=bundle,
    )


def open_schedule_key(
    key_file: ScheduleKeyFile,
    *,
    holder: str,
    holder_key: PrivateKey,
    chain_id: int,
    registry: str,
    now: int,
    path: str = "",
) -> bytes:
    """This holder's copy of the schedule key.

    Raises:
        ScheduleKeyUnusable: another chain or registry, no share for this holder, expired,
            tampered (not signed by the owner it names), or a key that is not the file's address.
    """
    where = path or key_file.project
    if key_file.chain_id != chain_id or key_file.registry != normalize_address(registry):
        raise ScheduleKeyUnusable(where, "made for another chain or registry")
    try:
        values = open_bundle(
            key_file.bundle,
            worker_address=holder,
            worker_private_key=holder_key,
            expected_owner=key_file.owner,
            project=key_file.project,
            chain_id=chain_id,
            registry=registry,
            now=now,
        )
        key = bytes.fromhex(values[KEY_NAME])
    except ResealNeeded:
        raise ScheduleKeyUnusable(
            where,
            f"not sealed to {holder} (the owner names the holders: ape run schedules authorize)",
        ) from None
    except (SecretsError, ValueError, KeyError) as exc:
        raise ScheduleKeyUnusable(where, f"{type(exc).__name__}: {exc}") from None
    if normalize_address(Account.from_key(key).address) != key_file.address:
        raise ScheduleKeyUnusable(where, "the sealed key is not the file's address")
    return key


def key_files(data_dir: Path) -> list[Path]:
    """The key files in ``<data_dir>/schedule-keys`` (sorted)."""
    return sorted((data_dir / KEY_DIR).glob("*.json"))


__all__ = [
    "KEY_DIR",
    "KEY_NAME",
    "ScheduleKeyFile",
    "ScheduleKeyUnusable",
    "key_files",
    "open_schedule_key",
    "seal_schedule_key",
]
