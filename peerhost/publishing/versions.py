"""A published function's versions: list them, roll back, disable and enable.

Every version the registry ever accepted is immutable and stays callable by number; one is
active. These commands only move the active pointer or the disabled flag (owner only, one
transaction each) and say what they did and the URL that now answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from peerhost.publishing.errors import PublishError, RegistryRefused
from peerhost.publishing.manifest import MODES
from peerhost.publishing.urls import function_url
from peerhost.storage import cid_from_bytes


class UnknownVersion(PublishError, LookupError):
    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"{label}: {reason}.")


@dataclass(frozen=True)
class VersionRow:
    function: str
    version: int
    cid: str
    runtime: str
    fuel: int
    memory: int
    mode: str
    published_at: int
    active: bool
    disabled: bool


def _function_names(registry: Any, owner: str, project: str) -> list[str]:
    """Names of ``owner``'s functions in ``project``, from the registry's FunctionPublished log."""
    names: set[str] = set()
    # An explicit stop: with ``range(0)`` ape first binary-searches the contract's creation block,
    # which a forked chain cannot answer below its fork point.
    head = registry.chain_manager.blocks.height
    for log in registry.FunctionPublished.range(0, head + 1, search_topics={"owner": owner}):
        if log.project == project:
            names.add(str(log.name))
    return sorted(names)


def _function(registry: Any, owner: str, project: str, name: str) -> tuple[bytes, Any]:
    """The function id and info; raises UnknownVersion when it was never published."""
    from ape.exceptions import ContractLogicError

    fid = registry.functionIdOf(owner, project, name)
    try:
        info = registry.getFunction(fid)
    except ContractLogicError:  # UnknownFunction (anvil's view errors come undecoded)
        info = None
    if info is None or int(info.versionCount) == 0:
        raise UnknownVersion(f"{project}/{name}", f"no such function of {owner}")
    return bytes(fid), info


def list_versions(
    registry: Any, owner: str, project: str, function: str | None = None
) -> list[VersionRow]:
    """Every version of one function (or of every function of ``project``), oldest first."""
    names = [function] if function else _function_names(registry, owner, project)
    rows: list[VersionRow] = []
    for name in names:
        fid, info = _function(registry, owner, project, name)
        for number in range(1, int(info.versionCount) + 1):
            v = registry.getVersion(fid, number)
            rows.append(
                VersionRow(
                    function=name,
                    version=number,
                    cid=cid_from_bytes(bytes(v.codeCid)),
                    runtime=str(v.runtime),
                    fuel=int(v.fuelLimit),
                    memory=int(v.memoryLimit),
                    mode=MODES[int(v.mode)],
                    published_at=int(v.publishedAt),
                    active=number == int(info.activeVersion),
                    disabled=bool(info.disabled),
                )
            )
    return rows


def format_versions(rows: list[VersionRow]) -> Iterator[str]:
    yield f"{'function':<24} {'ver':>3}  {'runtime':<7} {'fuel':>13} {'memory':>11} {'mode':<8} {'published':<19}  cid"
    for r in rows:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.published_at))
        flag = (" active" + (", DISABLED" if r.disabled else "")) if r.active else ""
        yield (
            f"{r.function:<24} {r.version:>3}  {r.runtime:<7} {r.fuel:>13,} {r.memory:>11,} "
            f"{r.mode:<8} {stamp:<19}  {r.cid}{flag}"
        )


class VersionManager:
    """Moves the active version and the disabled flag of one owner's functions (via ape)."""

    def __init__(self, registry: Any, account: Any, gateway_url: str) -> None:
        self.registry = registry
        self.account = account
        self.gateway_url = gateway_url

    @property
    def owner(self) -> str:
        return str(self.account.address)

    def _info(self, project: str, name: str) -> tuple[bytes, Any]:
        return _function(self.registry, self.owner, project, name)

    def _send(self, label: str, call: Any, *args: Any) -> None:
        from ape.exceptions import ApeException

        try:
            call(*args, sender=self.account)
        except ApeException as exc:
            raise RegistryRefused(label, str(exc)) from exc

    def url(self, project: str, name: str) -> str:
        return function_url(self.gateway_url, self.owner, project, name)

    def rollback(self, project: str, name: str, to: int | None = None) -> str:
        """Makes version ``to`` (default: the one before the active one) active; returns a line."""
        fid, info = self._info(project, name)
        active, count = int(info.activeVersion), int(info.versionCount)
        target = active - 1 if to is None else to
        if not 1 <= target <= count:
            raise UnknownVersion(
                f"{project}/{name}",
                f"no version {target} (versions 1..{count}; version {active} is active)",
            )
        if target == active:
            return (
                f"{project}/{name}: version {active} is already active; {self.url(project, name)}"
            )
        self._send(f"{project}/{name}", self.registry.setActiveVersion, fid, target)
        return (
            f"{project}/{name}: active version {active} -> {target}; "
            f"{self.url(project, name)} answers with version {target}"
        )

    def set_disabled(self, project: str, name: str, disabled: bool) -> str:
        fid, info = self._info(project, name)
        word = "disabled" if disabled else "enabled"
        if bool(info.disabled) == disabled:
            return f"{project}/{name} was already {word}; {self.url(project, name)}"
        self._send(f"{project}/{name}", self.registry.setDisabled, fid, disabled)
        effect = (
            "answers 410 Gone" if disabled else f"answers again (version {int(info.activeVersion)})"
        )
        return f"{project}/{name} {word}: {self.url(project, name)} {effect}"
