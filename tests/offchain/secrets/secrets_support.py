"""Constants and types shared by the secrets tests (imported by conftest and the test modules)."""

from __future__ import annotations

from dataclasses import dataclass

from nacl.public import PrivateKey

CHAIN_ID = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
PROJECT = "shop"
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
EXPIRY = NOW + 30 * 86400
VALUES = {
    "DB_URL": "postgres://shop:s3cr3t-pa55@db.internal:5432/shop",
    "STRIPE_KEY": "sk_live_51HxYzAbCdEfGhIjKlMnOpQr",
}


@dataclass(frozen=True)
class WorkerIdentity:
    """A worker's address and X25519 key pair."""

    address: str
    private_key: PrivateKey
    public_key: bytes
