"""private_key_of: the key the gateway and worker scripts sign with."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from eth_account import Account

from peerhost.accounts import private_key_of

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


def _no_prompt(question: str) -> str:
    raise AssertionError(f"prompted: {question}")


def test_private_key_of__test_account__its_own_key(accounts: Any) -> None:
    account = accounts[0]
    key = private_key_of(account, _no_prompt, {})
    assert Account.from_key(key).address == account.address


def test_private_key_of__keyfile_with_passphrase_variable__decrypted_without_prompt() -> None:
    keyfile = SimpleNamespace(alias="gw", keyfile=Account.encrypt(KEY, "s3cret"))
    env = {"APE_ACCOUNTS_gw_PASSPHRASE": "s3cret"}
    assert private_key_of(keyfile, _no_prompt, env) == KEY


def test_private_key_of__keyfile_without_variable__asks_once_and_wrong_passphrase_raises() -> None:
    keyfile = SimpleNamespace(alias="gw", keyfile=Account.encrypt(KEY, "s3cret"))
    asked: list[str] = []
    assert private_key_of(keyfile, lambda q: asked.append(q) or "s3cret", {}) == KEY
    assert asked == ["Passphrase of account 'gw'"]
    with pytest.raises(ValueError):
        private_key_of(keyfile, lambda q: "wrong", {})
