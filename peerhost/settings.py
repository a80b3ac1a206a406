"""Settings from flags, the environment and a file: one builder for the gateway and the worker.

A settings class is a frozen dataclass that subclasses :class:`Settings`. Every field can come
from a flag (``--fast-timeout 3``) or an environment variable (``<PREFIX>FAST_TIMEOUT=3``);
precedence is flag, then variable, then the settings file, then the default. An empty flag or
variable counts as unset. Values are converted by the field's annotation (``bool``, ``int``
(``0x`` hex too), ``float``, ``Path``, else text) and a value that does not convert is refused
with the setting's name. ``replace`` is the one way to get a copy with changes.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, Self

from peerhost.errors import PeerHostError

_TRUE = ("1", "true", "yes", "on")


class InvalidSetting(PeerHostError, ValueError):
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(f"Invalid setting {name}: {reason}.")


Invalid = Callable[[str, str], Exception]
"""Builds the error for a setting ``name`` whose value is refused for ``reason``."""


class Settings:
    """Base of the frozen settings dataclasses."""

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (and checked again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def flag(name: str) -> str:
    """``fast_timeout`` → ``--fast-timeout``."""
    return "--" + name.replace("_", "-")


def env_name(prefix: str, name: str) -> str:
    """``PEERHOST_GATEWAY_`` + ``fast_timeout`` → ``PEERHOST_GATEWAY_FAST_TIMEOUT``."""
    return prefix + name.upper()


def add_flags(
    parser: argparse.ArgumentParser,
    cls: type[Settings],
    env_prefix: str,
    *,
    skip: Collection[str] = (),
    hidden: Collection[str] = (),
) -> None:
    """One flag per field (default None, so the environment and the file can fill gaps).

    The help text is the field's line in the class's ``Attributes:`` docstring section.
    """
    docs = attribute_docs(cls)
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in skip:
            continue
        if f.name in hidden:
            text = argparse.SUPPRESS
        else:
            text = f"{docs.get(f.name, '')} [env {env_name(env_prefix, f.name)}]".strip()
        parser.add_argument(flag(f.name), dest=f.name, default=None, help=text)


def gather(
    cls: type[Settings],
    flags: Mapping[str, Any],
    environ: Mapping[str, str],
    env_prefix: str,
    *,
    file_values: Mapping[str, Any] | None = None,
    skip: Collection[str] = (),
    invalid: Invalid = InvalidSetting,
) -> dict[str, Any]:
    """The field values from flags, then the environment, then ``file_values``, converted.

    Fields given nowhere are left out (the class's defaults apply); so are ``skip`` fields
    unless ``file_values`` holds them.
    """
    values: dict[str, Any] = dict(file_values or {})
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in skip:
            continue
        raw = flags.get(f.name)
        if raw is None or raw == "":
            raw = environ.get(env_name(env_prefix, f.name))
        if raw is None or raw == "":
            continue
        values[f.name] = convert(f.name, f.type, str(raw), invalid)
    return values


def convert(name: str, annotation: Any, raw: str, invalid: Invalid = InvalidSetting) -> Any:
    """``raw`` as the type the field's annotation names; raises ``invalid(name, reason)``."""
    text = str(annotation)
    try:
        if text == "bool":
            return raw.strip().lower() in _TRUE
        if "Path" in text:
            return Path(raw).expanduser()
        if text.startswith("int"):
            return int(raw, 0)
        if text.startswith("float"):
            return float(raw)
        return raw
    except ValueError as exc:
        raise invalid(name, f"cannot parse {raw!r}") from exc


def to_flags(settings: Settings, skip: Collection[str] = ()) -> list[str]:
    """Flags that make :func:`gather` rebuild ``settings`` (None values are left out)."""
    args: list[str] = []
    for f in dataclasses.fields(settings):  # type: ignore[arg-type]
        value = getattr(settings, f.name)
        if value is None or f.name in skip:
            continue
        args += [flag(f.name), str(value)]
    return args


def attribute_docs(cls: type) -> dict[str, str]:
    """The ``Attributes:`` section of ``cls``'s docstring, by name (for ``--help``)."""
    out: dict[str, str] = {}
    current = ""
    for line in (cls.__doc__ or "").splitlines():
        stripped = line.strip()
        if ":" in stripped and stripped.split(":", 1)[0].isidentifier():
            current, text = stripped.split(":", 1)
            out[current] = text.strip()
        elif current and stripped:
            out[current] += " " + stripped
    return out
