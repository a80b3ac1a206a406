"""Announced gateway endpoints: what a worker agrees to dial."""

from __future__ import annotations

import pytest

from peerhost.wire.endpoint import MAX_ENDPOINT_BYTES, endpoint_problem


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "https://gw.example.org", "wss://gw.example.org:8443/feeds/a"],
)
def test_endpoint_problem__usable_url__none(url: str) -> None:
    assert endpoint_problem(url) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "empty"),
        ("ftp://gw.example.org", "scheme"),
        ("gw.example.org:8080", "scheme"),
        ("http://", "no host"),
        ("http://user:pw@gw.example.org", "credentials"),
        ("http://gw.example.org/?next=evil", "query"),
        ("http://gw.example.org:99999", "parse"),
        ("http://gw.example.org\n/x", "whitespace"),
        ("http://gw.example.org/" + "a" * MAX_ENDPOINT_BYTES, "bytes"),
    ],
)
def test_endpoint_problem__bad_url__names_the_reason(url: str, reason: str) -> None:
    problem = endpoint_problem(url)
    assert problem is not None and reason in problem
