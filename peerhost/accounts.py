"""The private key of an ape account, for the parts that sign locally (gateway, worker).

Test accounts carry their key; a keyfile account is decrypted here with
``APE_ACCOUNTS_<alias>_PASSPHRASE`` or, when that is not set, a passphrase from ``prompt``. The key
stays in this process.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from eth_account import Account

PASSPHRASE_ENV = "APE_ACCOUNTS_{alias}_PASSPHRASE"


def private_key_of(
    account: Any,
    prompt: Callable[[str], str],
    environ: Mapping[str, str] | None = None,
) -> bytes:
    """The 32-byte key of ``account`` (an ape test or keyfile account).

    Args:
        account: The ape account.
        prompt: Asks for a passphrase (shown the question) when no variable holds it.
        environ: Where the passphrase variable is looked up (default: the process's).
    """
    key = getattr(account, "private_key", None)
    if key:
        return bytes.fromhex(str(key).removeprefix("0x"))
    env = os.environ if environ is None else environ
    alias = getattr(account, "alias", None) or ""
    passphrase = env.get(PASSPHRASE_ENV.format(alias=alias)) or prompt(
        f"Passphrase of account '{alias}'"
    )
    return bytes(Account.decrypt(account.keyfile, passphrase))
