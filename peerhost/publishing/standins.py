"""``ape run schedules authorize``: create a project's schedule key and hand it to its holders.

Steps (the owner's account sends every transaction but one):

1. the primary gateway's address and X25519 seal key are read from its ``GET /_schedules``; each
   named stand-in's X25519 key from the WorkerRegistry (a stand-in without a registered key, or
   not active, is refused before anything is sent);
2. a fresh secp256k1 key is generated in memory;
3. the owner sends it the bond plus the gas of one transaction; the key bonds itself
   (``GatewayRegistry.bond``, its only transaction ever). The bond is the protocol's
   ``minGatewayBond`` plus ``runs`` times its ``orphanRefund``: each of the key's tickets is posted
   as an orphan and refunds its poster from the bond, and workers refuse the key's tickets once
   the bond is below the minimum;
4. the owner authorizes the key on the project (``setGatewayAuthorization``): its tickets draw on
   the project's reserve like any authorized gateway's;
5. the key is sealed (:func:`~peerhost.secrets.schedule_key.seal_schedule_key`) to the gateway
   and the stand-ins, and the key file is written. The key itself is never printed or stored
   in the clear; the file is safe to copy to the holders' ``<data_dir>/schedule-keys/``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_utils import keccak

from peerhost.chain.rpc import RpcClient
from peerhost.chain.sender import TxSender
from peerhost.errors import PeerHostError
from peerhost.secrets.bundle import WorkerKey
from peerhost.secrets.schedule_key import KEY_DIR, ScheduleKeyFile, seal_schedule_key
from peerhost.secrets.signing import ape_signer

#: Gas the key's one transaction (``bond()``) may use.
BOND_GAS = 120_000


class StandInSetupError(PeerHostError, ValueError):
    """The schedule key could not be set up (nothing was sent when raised before funding)."""


@dataclass(frozen=True)
class Authorized:
    """What ``authorize`` did."""

    file: ScheduleKeyFile
    path: Path
    bond: int
    holders: tuple[str, ...]


def gateway_seal_key(gateway_url: str, get: Callable[..., Any] = httpx.get) -> WorkerKey:
    """The primary gateway's address and X25519 seal key (``GET /_schedules``)."""
    url = f"{gateway_url.rstrip('/')}/_schedules"
    try:
        doc = get(url, timeout=10.0).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise StandInSetupError(f"cannot read {url}: {exc}") from None
    if not doc.get("seal_key") or not doc.get("gateway"):
        raise StandInSetupError(
            f"the gateway at {gateway_url} holds no schedule keys (its chain has no settlement "
            "contracts, or it predates schedule keys)"
        )
    return str(doc["gateway"]), bytes.fromhex(str(doc["seal_key"]).removeprefix("0x"))


def standin_keys(worker_registry: Any, standins: Sequence[str]) -> list[WorkerKey]:
    """Each stand-in's registered X25519 key; refuses one without a key or not active."""
    found: list[WorkerKey] = []
    for address in standins:
        key = bytes(worker_registry.getWorker(address).encryptionKey)
        if not any(key):
            raise StandInSetupError(
                f"worker {address} has no encryption key registered: it cannot open a sealed "
                "schedule key (a worker registers one when it first starts)"
            )
        if not worker_registry.isActive(address):
            raise StandInSetupError(f"worker {address} is not active: name an active worker")
        found.append((str(address), key))
    return found


def authorize(
    *,
    owner: Any,
    project_name: str,
    gateways: Any,
    worker_registry: Any,
    registry_address: str,
    chain_id: int,
    rpc_url: str,
    min_bond: int,
    orphan_refund: int,
    gateway_url: str,
    standins: Sequence[str],
    functions: Sequence[str],
    out: Path,
    bond: int = 0,
    runs: int = 1000,
    ticket_life: int = 600,
    ttl: int = 365 * 86400,
    now: int,
    gateway_key: Callable[[str], WorkerKey] = gateway_seal_key,
) -> Authorized:
    """Creates, bonds, authorizes and seals a schedule key (module docstring)."""
    if not functions:
        raise StandInSetupError("name the scheduled functions the key signs (--function)")
    if out.exists():
        raise StandInSetupError(f"{out} exists: a schedule key file is never overwritten")
    holders = [gateway_key(gateway_url), *standin_keys(worker_registry, standins)]
    # each run posted as an orphan refunds its poster from this bond; workers refuse the key's
    # tickets once it falls below the minimum: the bond covers ``runs`` runs above it
    amount = max(bond, min_bond + runs * orphan_refund)
    private_key = os.urandom(32)
    address = Account.from_key(private_key).address
    gas_price = int(owner.provider.gas_price)
    owner.transfer(address, amount + BOND_GAS * gas_price * 2)
    asyncio.run(_bond(rpc_url, chain_id, private_key, str(gateways.address), amount))
    gateways.setGatewayAuthorization(project_name, address, True, sender=owner)
    file = seal_schedule_key(
        private_key,
        holders,
        ape_signer(owner),
        owner=str(owner.address),
        project=project_name,
        chain_id=chain_id,
        registry=registry_address,
        functions=functions,
        ticket_life=ticket_life,
        gateway_url=gateway_url,
        expiry=now + ttl,
        now=now,
    )
    file.save(out)
    return Authorized(file, out, amount, tuple(h for h, _ in holders))


async def _bond(
    rpc_url: str, chain_id: int, private_key: bytes, gateways: str, amount: int
) -> None:
    rpc = RpcClient(rpc_url)
    try:
        sender = TxSender(rpc, "0x" + private_key.hex(), chain_id)
        tx = await sender.send(gateways, keccak(text="bond()")[:4], gas=BOND_GAS, value=amount)
        receipt = await sender.wait(tx, timeout=60.0)
        if int(str(receipt.get("status", "0x1")), 16) != 1:
            raise StandInSetupError("the schedule key's bond() transaction reverted")
    finally:
        await rpc.aclose()


__all__ = ["KEY_DIR", "Authorized", "StandInSetupError", "authorize", "gateway_seal_key"]
