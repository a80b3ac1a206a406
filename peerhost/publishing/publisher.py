"""Publish a project's functions: code into the content store, new versions into the registry.

Every function passes the checks of :mod:`peerhost.publishing.checks` before anything is stored
or sent. Publishing is idempotent: a function whose active version already has the same code CID and
settings (runtime, fuel, memory, mode) is left alone, so running it twice sends nothing.
Transactions go through ape (the developer's account), like every other developer-side command.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from peerhost.functionlogs.access import SET_HTTP, account_signer, sign_access
from peerhost.publishing.checks import Checker
from peerhost.publishing.errors import RegistryRefused
from peerhost.publishing.manifest import MODES, FunctionSpec, ProjectSpec
from peerhost.publishing.urls import DEFAULT_GATEWAY_URL, function_url
from peerhost.secrets.declared import require_secrets
from peerhost.storage import ContentStore, cid_from_bytes, cid_to_bytes, compute_cid


@dataclass(frozen=True)
class Published:
    """What publishing did with one function.

    Attributes:
        name: The function name.
        runtime: Its runtime.
        cid: The code's CID (base32 CIDv1).
        version: The active version after publishing.
        action: ``"published"`` (first version), ``"updated"`` (new version) or ``"unchanged"``.
        reason: Why (``"new function"``, ``"code changed"``, ``"settings changed: fuel"``, ...).
        disabled: The function is disabled on-chain (publishing does not re-enable it).
        url: Its live URL.
        fuel: The fuel limit published.
        memory: The memory limit published (bytes).
        mode: The default answer mode.
    """

    name: str
    runtime: str
    cid: str
    version: int
    action: str
    reason: str
    disabled: bool
    url: str
    fuel: int
    memory: int
    mode: str

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"


@dataclass(frozen=True)
class PublishReport:
    """The outcome of publishing one project."""

    owner: str
    project: str
    functions: tuple[Published, ...]

    @property
    def changed(self) -> tuple[Published, ...]:
        return tuple(f for f in self.functions if f.changed)

    def urls(self) -> dict[str, str]:
        return {f.name: f.url for f in self.functions}


def _web3_contract(contract: Any) -> Any:
    """A web3.py view of an ape contract, for reads that may revert (ape logs a trace for those)."""
    abi = [a.model_dump(mode="json", by_alias=True) for a in contract.contract_type.abi]
    return contract.provider.web3.eth.contract(address=str(contract.address), abi=abi)


def active_version(registry: Any, owner: str, project: str, name: str) -> dict[str, Any] | None:
    """The active version of (owner, project, name) as a plain dict, or None if never published.

    Keys: ``version``, ``runtime``, ``cid`` (str), ``fuel``, ``memory``, ``mode`` (str),
    ``disabled``, ``function_id`` (bytes).
    """
    from web3.exceptions import ContractLogicError

    w3 = _web3_contract(registry)
    try:
        function_id, info, version = w3.functions.resolve(owner, project, name).call()
    except ContractLogicError:
        return None
    # FunctionInfo: owner, project, name, versionCount, activeVersion, disabled
    # Version: runtime, codeCid, fuelLimit, memoryLimit, mode, publishedAt
    if int(info[4]) == 0:
        return None
    return {
        "function_id": bytes(function_id),
        "version": int(info[4]),
        "disabled": bool(info[5]),
        "runtime": str(version[0]),
        "cid": cid_from_bytes(bytes(version[1])),
        "fuel": int(version[2]),
        "memory": int(version[3]),
        "mode": MODES[int(version[4])],
    }


class Publisher:
    """Publishes projects for one account against one registry and content store.

    Args:
        registry: The FunctionRegistry (an ape contract instance).
        account: The developer's ape account (the functions' owner).
        store: Where the code goes (workers must be able to read it from there).
        gateway_url: Base of the live URLs printed (``{wallet}`` in it makes them host-style).
        log: Receives one progress line per step (``print`` in the CLI; nothing by default).
        checker: Runs the publish checks (default: one on the local sandbox's default cache).
    """

    def __init__(
        self,
        registry: Any,
        account: Any,
        store: ContentStore,
        gateway_url: str = DEFAULT_GATEWAY_URL,
        log: Callable[[str], None] | None = None,
        checker: Checker | None = None,
    ) -> None:
        self.registry = registry
        self.account = account
        self.store = store
        self.gateway_url = gateway_url
        self.log = log or (lambda _line: None)
        self._max: tuple[int, int] | None = None
        self.checker = checker

    @property
    def owner(self) -> str:
        return str(self.account.address)

    def limits(self) -> tuple[int, int]:
        """The registry's (max fuel, max memory)."""
        if self._max is None:
            self._max = (int(self.registry.maxFuelLimit()), int(self.registry.maxMemoryLimit()))
        return self._max

    def publish(
        self, project: ProjectSpec, dry_run: bool = False, sample_check: bool = False
    ) -> PublishReport:
        """Stores and publishes every function of ``project`` whose code or settings changed.

        Args:
            project: The project, from :func:`~peerhost.publishing.manifest.load_project`.
            dry_run: Work out what would change, store nothing and send nothing.
            sample_check: Also run each function once on a sample request in the local sandbox.

        Raises:
            CheckFailed: a function breaks a publish rule (nothing is stored or sent then).
            SecretsMissing: a declared secret has no value in the project's bundle (nothing is
                published then).
            InvalidCode: a function's code cannot be read or compiled.
            RegistryRefused: the registry reverted a publish.
            StorageError: the content store failed (nothing is published then: every
                function's code is stored before the first registry transaction).
        """
        self.check(project, sample_check)
        self.check_secrets(project)
        # all the code first: a store that fails part-way must not leave some functions
        # published and the rest not
        cids = [
            compute_cid(spec.code()) if dry_run else self.store.put(spec.code())
            for spec in project.functions
        ]
        results = [
            self._publish_one(project.name, spec, cid, dry_run)
            for spec, cid in zip(project.functions, cids, strict=True)
        ]
        return PublishReport(owner=self.owner, project=project.name, functions=tuple(results))

    def check(self, project: ProjectSpec, sample: bool = False) -> None:
        """The publish checks; with ``sample``, one run per function (its outcome is logged)."""
        checker = self.checker or Checker()
        try:
            for run in checker.check_project(project, sample=sample):
                lines = run.log.splitlines()
                self.log(
                    f"  check {run.name}: GET / answered {run.status} ({run.body_bytes} bytes, "
                    f"fuel {run.fuel_used:,}), {len(lines)} log line(s)"
                )
                for line in lines[:5]:
                    self.log(f"    | {line}")
        finally:
            if checker is not self.checker:
                checker.close()

    def send_http_settings(self, project: ProjectSpec) -> str:
        """Sends the project's CORS policy to the gateway (signed by the owner); returns a line.

        Never raises for an unreachable gateway: the functions are published either way, and
        publishing again sends the policy again.
        """
        if project.cors is None:
            return ""
        body = json.dumps({"cors": project.cors.to_json()}, sort_keys=True).encode()
        base = self.gateway_url.rstrip("/").replace("{wallet}", self.owner.lower())
        url = f"{base}/_projects/{self.owner}/{project.name}/http"
        headers = sign_access(
            account_signer(self.account),
            self.owner,
            project.name,
            action=SET_HTTP,
            content=body,
        )
        try:
            response = httpx.put(url, content=body, headers=headers, timeout=15.0)
        except httpx.HTTPError as exc:
            return f"  CORS policy NOT sent: cannot reach {base} ({type(exc).__name__}); publish again when it is up"
        if response.status_code != 200:
            return f"  CORS policy NOT sent: {base} answered {response.status_code}: {response.text[:200]}"
        return f"  CORS policy sent to {base}: origins {', '.join(project.cors.origins)}"

    def check_secrets(self, project: ProjectSpec) -> None:
        """Refuses a project whose functions declare secrets its current bundle lacks."""
        if not project.secrets:
            return
        cid = bytes(self.registry.secretsBundle(self.owner, project.name))
        bundle = self.store.get(cid_from_bytes(cid)) if cid else None
        require_secrets(project.secrets, bundle, project=project.name)

    def _publish_one(self, project: str, spec: FunctionSpec, cid: str, dry_run: bool) -> Published:
        max_fuel, max_memory = self.limits()
        fuel, memory = min(spec.fuel, max_fuel), min(spec.memory, max_memory)
        if (fuel, memory) != (spec.fuel, spec.memory):
            self.log(
                f"  {spec.name}: limits capped to the registry's maxima "
                f"(fuel {fuel:,}, memory {memory:,} bytes)"
            )
        active = active_version(self.registry, self.owner, project, spec.name)
        wanted: dict[str, Any] = {
            "runtime": spec.runtime,
            "cid": cid,
            "fuel": fuel,
            "memory": memory,
            "mode": spec.mode,
        }
        url = function_url(self.gateway_url, self.owner, project, spec.name)

        def outcome(version: int, action: str, reason: str, disabled: bool) -> Published:
            return Published(
                name=spec.name,
                runtime=spec.runtime,
                cid=cid,
                version=version,
                action=action,
                reason=reason,
                disabled=disabled,
                url=url,
                fuel=fuel,
                memory=memory,
                mode=spec.mode,
            )

        if active is None:
            reason = "new function"
        else:
            differs = [key for key, value in wanted.items() if active[key] != value]
            if not differs:
                return outcome(
                    active["version"],
                    "unchanged",
                    "same code and settings as the active version",
                    active["disabled"],
                )
            reason = (
                "code changed" if "cid" in differs else "settings changed: " + ", ".join(differs)
            )
        version = (active["version"] + 1) if active else 1
        if not dry_run:
            version = self._send(project, spec, cid, fuel, memory)
        return outcome(
            version,
            "updated" if active else "published",
            reason,
            bool(active and active["disabled"]),
        )

    def _send(self, project: str, spec: FunctionSpec, cid: str, fuel: int, memory: int) -> int:
        from ape.exceptions import ApeException

        try:
            receipt = self.registry.publish(
                project,
                spec.name,
                spec.runtime,
                cid_to_bytes(cid),
                fuel,
                memory,
                MODES.index(spec.mode),
                sender=self.account,
            )
        except ApeException as exc:
            raise RegistryRefused(spec.name, str(exc)) from exc
        for event in receipt.events:
            if getattr(event, "event_name", "") == "FunctionPublished":
                return int(event.version)
        found = active_version(self.registry, self.owner, project, spec.name)
        return int(found["version"]) if found else 0
