"""Register and stake (idempotently) and publish the X25519 public key."""

from __future__ import annotations

from peerhost.chain import Protocol
from peerhost.worker import logs
from peerhost.worker.errors import ContractsNotFound, WorkerNotRegistered


async def ensure_registered(
    protocol: Protocol, address: str, encryption_key: bytes, stake: int | None
) -> dict[str, object]:
    """Makes ``address`` an active worker with ``encryption_key``; returns its Worker struct.

    Registers with ``stake`` when not registered; replaces the on-chain key when it differs.
    Without ``stake`` an unregistered account raises :class:`WorkerNotRegistered`.
    """
    for name, contract in (
        ("WorkerRegistry", protocol.config.workers),
        ("ExecutionCoordinator", protocol.config.coordinator),
    ):
        if await protocol.rpc.call("eth_getCode", [contract, "latest"]) in ("0x", "0x0", None):
            raise ContractsNotFound(name, contract, protocol.rpc.url)
    info = await protocol.get_worker(address)
    if not info["registered"]:
        if not stake:
            raise WorkerNotRegistered(address)
        await protocol.confirm(await protocol.register(encryption_key, stake), "register")
        logs.event("registered", worker=address, stake=stake, encryption_key=encryption_key)
    elif bytes(info["encryptionKey"]) != encryption_key:
        await protocol.confirm(
            await protocol.set_encryption_key(encryption_key), "setEncryptionKey"
        )
        logs.event("encryption_key_published", worker=address, encryption_key=encryption_key)
    if not await protocol.is_active(address):
        raise WorkerNotRegistered(address)
    info = await protocol.get_worker(address)
    return dict(info)
