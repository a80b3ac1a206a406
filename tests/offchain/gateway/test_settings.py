from __future__ import annotations

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.gateway.settings import KEY_ENV, GatewaySettings, key_from_env

KEY = "0x" + "42" * 32
CHAIN = ChainConfig("http://n", "ws://n", 31337, "0x" + "1" * 40, "0x" + "2" * 40, "0x" + "3" * 40)


def test_settings__key_never_shown() -> None:
    settings = GatewaySettings(chain=CHAIN, private_key=KEY)
    assert "42424242" not in repr(settings)
    assert "private_key" not in settings.public_dict()
    assert "42424242" not in str(settings.public_dict())


def test_settings__public_dict_round_trips() -> None:
    settings = GatewaySettings(chain=CHAIN, private_key=KEY, domain="Example.ORG.", reward_wei=5)
    again = GatewaySettings.from_mapping(settings.public_dict(), KEY)
    assert again == settings
    assert again.domain == "example.org"


def test_settings__reply_to__public_url_inbox_unless_overridden() -> None:
    assert (
        GatewaySettings(chain=CHAIN, private_key=KEY, public_url="http://h:1/").reply_to
        == "http://h:1/_inbox"
    )
    explicit = GatewaySettings(chain=CHAIN, private_key=KEY, inbox_url="http://lb/replica-2/_inbox")
    assert explicit.reply_to == "http://lb/replica-2/_inbox"


def test_settings__bad_mode__refused() -> None:
    with pytest.raises(ValueError, match="default_mode"):
        GatewaySettings(chain=CHAIN, private_key=KEY, default_mode="slow")


def test_settings__unknown_key__refused() -> None:
    data = GatewaySettings(chain=CHAIN, private_key=KEY).public_dict()
    data["colour"] = "blue"
    with pytest.raises(ValueError, match="colour"):
        GatewaySettings.from_mapping(data, KEY)


def test_key_from_env__missing__names_the_variable() -> None:
    with pytest.raises(KeyError, match=KEY_ENV):
        key_from_env({})
    assert key_from_env({KEY_ENV: KEY}) == KEY
