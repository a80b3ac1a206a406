"""Credential headers: a salted commitment in the canonical request, the value opened off-chain."""

from __future__ import annotations

import json

import pytest

from peerhost.wire import canonical_request
from peerhost.wire.credentials import (
    SEALED_PREFIX,
    CredentialMismatch,
    Disclosed,
    seal,
    sealed_names,
    unseal,
)

TOKEN = "Bearer tok-5d1e"


def build(
    headers: dict[str, str | list[str]], declared: tuple[str, ...]
) -> tuple[bytes, dict[str, Disclosed]]:
    public, openings = seal(headers, declared)
    data = canonical_request(
        "GET", "/", {}, public, b"", request_id=b"\1" * 32, block_timestamp=1,
        wallet="0x" + "00" * 20, project="p", function="f", extra_headers=declared,
    )  # fmt: skip
    return data, openings


def test_seal__declared_authorization__only_a_commitment_in_the_input() -> None:
    data, openings = build({"Authorization": TOKEN, "Cookie": "s=1"}, ("authorization",))
    headers = json.loads(data)["headers"]
    assert headers["authorization"].startswith(SEALED_PREFIX)
    assert b"tok-5d1e" not in data and "cookie" not in headers  # undeclared cookie dropped
    assert set(sealed_names(data)) == {"authorization"}
    assert json.loads(unseal(data, openings))["headers"]["authorization"] == TOKEN


def test_seal__same_token_twice__different_commitments() -> None:
    first, _ = build({"authorization": TOKEN}, ("authorization",))
    second, _ = build({"authorization": TOKEN}, ("authorization",))
    assert sealed_names(first) != sealed_names(second)


def test_unseal__tampered_or_missing_value__refused() -> None:
    data, openings = build({"authorization": TOKEN}, ("authorization",))
    forged = {"authorization": Disclosed(openings["authorization"].salt, "Bearer admin")}
    with pytest.raises(CredentialMismatch, match="does not match"):
        unseal(data, forged)
    with pytest.raises(CredentialMismatch, match="no value disclosed"):
        unseal(data, {})


def test_seal__undeclared_credentials__dropped_and_nothing_to_open() -> None:
    data, openings = build({"authorization": TOKEN}, ())
    assert openings == {} and sealed_names(data) == {} and b"authorization" not in data
