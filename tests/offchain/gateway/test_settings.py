from __future__ import annotations

import json
from pathlib import Path

import pytest

from peerhost.chain.config import ChainConfig
from peerhost.gateway.cli import build_parser, settings_from
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


def test_cli_settings__flag_beats_env_beats_file(tmp_path: Path) -> None:
    chain_path = tmp_path / "chain.json"
    CHAIN.save(chain_path)
    file = tmp_path / "gateway.json"
    data = GatewaySettings(
        chain=CHAIN, private_key=KEY, fast_timeout=1.0, rate_limit=1.0
    ).public_dict()
    file.write_text(json.dumps(data))
    args = build_parser().parse_args(
        ["--settings", str(file), "--fast-timeout", "3", "--chain-config", str(chain_path)]
    )
    env = {
        KEY_ENV: KEY,
        "PEERHOST_GATEWAY_FAST_TIMEOUT": "2",
        "PEERHOST_GATEWAY_RATE_LIMIT": "5",
        "PEERHOST_GATEWAY_TRUST_FORWARDED_FOR": "true",
        "PEERHOST_GATEWAY_REWARD_WEI": "0x10",
    }
    settings = settings_from(args, env)
    assert settings.fast_timeout == 3.0
    assert settings.rate_limit == 5.0
    assert settings.trust_forwarded_for is True
    assert settings.reward_wei == 16
    assert settings.chain == CHAIN
    assert settings.private_key == KEY


def test_cli_settings__no_chain__says_how_to_give_one() -> None:
    with pytest.raises(ValueError, match="--chain-config"):
        settings_from(build_parser().parse_args([]), {KEY_ENV: KEY})
