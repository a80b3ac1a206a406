"""Properties: any values round-trip; no single-byte change of a bundle is ever accepted."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from secrets_support import VALUES

from peerhost.secrets import SecretsError
from peerhost.wire.secrets import MAX_SECRETS

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
values = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=200
)
fixtures_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


@fixtures_ok
@given(secrets=st.dictionaries(names, values, max_size=8))
def test_seal_then_open__any_names_and_values__round_trip(seal, open_as, secrets):
    assert len(secrets) <= MAX_SECRETS
    assert open_as(seal(secrets)) == secrets


@fixtures_ok
@given(data=st.data())
def test_open__any_single_byte_changed__refused(bundle, open_as, data):
    index = data.draw(st.integers(0, len(bundle) - 1))
    flip = data.draw(st.integers(1, 255))
    mutated = bytearray(bundle)
    mutated[index] ^= flip
    with pytest.raises(SecretsError) as info:
        open_as(bytes(mutated))
    for value in VALUES.values():
        assert value not in str(info.value)
