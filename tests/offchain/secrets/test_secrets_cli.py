"""The helpers behind `ape run secrets`: reading values and reporting without showing them."""

from __future__ import annotations

import io

from secrets_support import NOW

from peerhost.secrets.cli import describe, listing, read_value
from peerhost.secrets.manage import BundleStatus, SealResult


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_read_value__piped__whole_input_minus_one_newline():
    assert read_value("DB_URL", io.StringIO("line one\nline two\n")) == "line one\nline two"
    assert read_value("DB_URL", io.StringIO("crlf\r\n")) == "crlf"
    assert read_value("DB_URL", io.StringIO("no newline")) == "no newline"


def test_read_value__terminal__hidden_confirmed_prompt():
    asked = {}

    def prompt(text: str, **options: object) -> str:
        asked.update(options, text=text)
        return "typed"

    assert read_value("DB_URL", Tty(), prompt=prompt) == "typed"
    assert asked == {"text": "Value of DB_URL", "hide_input": True, "confirmation_prompt": True}


def test_describe__published__names_workers_and_cid_only():
    result = SealResult(cid="bafkexample", names=["A", "B"], workers=["0x01"], expires_at=NOW)
    lines = list(describe("shop", result))
    assert lines[0] == "Sealed 2 secret(s) of 'shop' to 1 worker(s): A, B"
    assert "bafkexample" in lines[1] and "2026-01-01 00:00:00 UTC" in lines[1]


def test_describe__no_workers__warns_to_reseal():
    lines = list(describe("shop", SealResult(cid="bafk", names=["A"], workers=[], expires_at=NOW)))
    assert "reseal" in lines[-1]


def test_describe__pointer_cleared__says_so():
    assert "no secrets left" in next(describe("shop", SealResult(None, [], [], 0)))


def _status(**overrides: object) -> BundleStatus:
    fields: dict[str, object] = {
        "cid": "bafkexample",
        "names": [("A", NOW), ("LONGER", NOW)],
        "expires_at": NOW + 86400,
        "expired": False,
        "sealed": ["0x01", "0x02"],
        "reseal_needed": [],
    }
    fields.update(overrides)
    return BundleStatus(**fields)  # type: ignore[arg-type]


def test_listing__all_workers_sealed__names_set_times_and_bundle_line():
    assert list(listing("shop", _status())) == [
        "A       set 2026-01-01 00:00:00 UTC",
        "LONGER  set 2026-01-01 00:00:00 UTC",
        "bundle bafkexample, expires 2026-01-02 00:00:00 UTC, sealed to 2 of 2 active worker(s)",
    ]


def test_listing__worker_without_share__names_it_and_says_reseal():
    lines = list(listing("shop", _status(sealed=["0x01"], reseal_needed=["0x03"])))
    assert "sealed to 1 of 2 active worker(s)" in lines[2]
    assert lines[3:] == ["  re-seal needed for 0x03", "  run `ape run secrets reseal shop`"]


def test_listing__expired__says_so_and_reseal():
    lines = list(listing("shop", _status(expired=True)))
    assert "EXPIRED" in lines[2]
    assert lines[-1] == "  run `ape run secrets reseal shop`"


def test_listing__no_secrets__says_so():
    assert list(listing("shop", None)) == ["Project 'shop' has no secrets."]
