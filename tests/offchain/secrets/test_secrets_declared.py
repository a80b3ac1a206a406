"""Publishing's check: declared secrets must all have values."""

from __future__ import annotations

import pytest
from secrets_support import PROJECT, VALUES

from peerhost.errors import PeerHostError
from peerhost.secrets import SecretsMissing, missing_secrets, require_secrets


def test_missing_secrets__some_missing__sorted_unique_names():
    assert missing_secrets(["B", "A", "DB_URL", "B"], ["DB_URL"]) == ["A", "B"]


def test_missing_secrets__all_present__empty():
    assert missing_secrets(["DB_URL"], ["DB_URL", "OTHER"]) == []


def test_require_secrets__bundle_has_all__passes(bundle):
    require_secrets(["DB_URL", "STRIPE_KEY"], bundle, project=PROJECT)
    require_secrets([], None, project=PROJECT)


def test_require_secrets__missing_names__refused_naming_them(bundle):
    with pytest.raises(SecretsMissing) as info:
        require_secrets(["DB_URL", "SMTP_PASSWORD", "API_TOKEN"], bundle, project=PROJECT)
    error = info.value
    assert isinstance(error, PeerHostError) and isinstance(error, LookupError)
    assert error.missing == ["API_TOKEN", "SMTP_PASSWORD"]
    assert "API_TOKEN, SMTP_PASSWORD" in str(error)
    assert "ape run secrets set shop API_TOKEN" in str(error)
    assert not any(value in str(error) for value in VALUES.values())


def test_require_secrets__no_bundle__every_declared_name_missing():
    with pytest.raises(SecretsMissing, match="DB_URL"):
        require_secrets(["DB_URL"], None, project=PROJECT)
