"""The devnet's accounts: derived from the test mnemonic, one role per index.

Index 0 deploys, 1 publishes the examples, 2 signs for the gateway, 3 is a spare requester,
4 and up are the workers (as in tests/conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from eth_account import Account

TEST_MNEMONIC = "test test test test test test test test test test test junk"
DEPLOYER, DEVELOPER, GATEWAY, REQUESTER, FIRST_WORKER = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Key:
    """An account's address and hex private key (never printed)."""

    index: int
    address: str
    private_key: str

    def __repr__(self) -> str:
        return f"Key({self.index}, {self.address})"


@lru_cache(maxsize=64)
def derive(index: int, mnemonic: str = TEST_MNEMONIC) -> Key:
    """The key at ``m/44'/60'/0'/0/<index>`` of ``mnemonic`` (anvil's and ape's test accounts)."""
    Account.enable_unaudited_hdwallet_features()
    acct = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{index}")
    return Key(index=index, address=str(acct.address), private_key=acct.key.hex())


def worker_key(n: int, mnemonic: str = TEST_MNEMONIC) -> Key:
    """The key of worker ``n`` (0-based)."""
    return derive(FIRST_WORKER + n, mnemonic)
