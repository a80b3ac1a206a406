"""peerhost.settings: flags beat the environment, which beats the file; values typed by field."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import pytest

from peerhost.settings import InvalidSetting, Settings, add_flags, gather, to_flags

PREFIX = "PEERHOST_DEMO_"


@dataclass(frozen=True)
class Demo(Settings):
    """Demo settings.

    Attributes:
        rate: Requests per second.
        count: How many.
        on: A switch.
        where: A directory.
        label: Free text.
    """

    rate: float = 1.0
    count: int = 2
    on: bool = False
    where: Path | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("count must be 0 or more")


def _parse(argv: list[str]) -> dict[str, str | None]:
    parser = argparse.ArgumentParser()
    add_flags(parser, Demo, PREFIX, hidden={"label"})
    return vars(parser.parse_args(argv))


def test_gather__flag_env_file__flag_wins_then_env_then_file() -> None:
    env = {PREFIX + "RATE": "5", PREFIX + "COUNT": "0x10", PREFIX + "ON": "yes"}
    file = {"rate": 9.0, "count": 1, "label": "from file"}
    values = gather(Demo, _parse(["--rate", "3"]), env, PREFIX, file_values=file)
    assert Demo(**values) == Demo(rate=3.0, count=16, on=True, label="from file")


def test_gather__empty_values__count_as_unset() -> None:
    values = gather(Demo, _parse(["--rate", ""]), {PREFIX + "COUNT": ""}, PREFIX)
    assert Demo(**values) == Demo()


def test_gather__unparsable__names_the_setting() -> None:
    with pytest.raises(InvalidSetting, match="count: cannot parse 'many'"):
        gather(Demo, _parse(["--count", "many"]), {}, PREFIX)


def test_to_flags__any_settings__gather_rebuilds_them(tmp_path: Path) -> None:
    demo = Demo(rate=0.5, count=7, on=True, where=tmp_path, label="x y")
    assert Demo(**gather(Demo, _parse(to_flags(demo)), {}, PREFIX)) == demo


def test_replace__copy_with_changes__same_type_and_checked_again() -> None:
    demo = Demo()
    assert demo.replace(count=3) == Demo(count=3) and demo.count == 2
    with pytest.raises(ValueError, match="count"):
        demo.replace(count=-1)


def test_add_flags__help__attribute_docs_and_env_names_hidden_ones_absent() -> None:
    parser = argparse.ArgumentParser()
    add_flags(parser, Demo, PREFIX, hidden={"label"})
    text = parser.format_help()
    assert "Requests per second. [env PEERHOST_DEMO_RATE]" in " ".join(text.split())
    assert "--label" not in text
