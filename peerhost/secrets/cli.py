"""The logic behind ``ape run secrets``: find the deployment and store, build the tool, report.

Defaults follow ``ape run publish``: a devnet running on the connected chain supplies
its deployments file and store, else ``$PEERHOST_STORE``, else the default store.
Nothing here ever formats a secret value.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

from peerhost.deployments import find_deployment
from peerhost.secrets.manage import (
    DEFAULT_TTL,
    ApeSecretsChain,
    BundleStatus,
    SealResult,
    SecretsTool,
)
from peerhost.secrets.signing import ape_signer
from peerhost.storage import DEFAULT_STORE_SPEC, open_store

STORE_ENV = "PEERHOST_STORE"


def open_tool(
    project: Any,
    chain: Any,
    account: Any,
    *,
    store: str | None = None,
    deployments: str | None = None,
    ttl: int = DEFAULT_TTL,
) -> tuple[SecretsTool, str]:
    """A :class:`SecretsTool` for ``account`` on the connected network, and a line saying where.

    Raises:
        DeploymentNotFound: no live PeerHost deployment is recorded for this network.
    """
    found = find_deployment(project, chain, deployments)
    deployment, devnet = found.deployment, found.devnet
    spec = (
        store
        or (devnet.store if devnet else None)
        or os.environ.get(STORE_ENV)
        or DEFAULT_STORE_SPEC
    )
    tool = SecretsTool(
        chain=ApeSecretsChain(deployment.registry, deployment.workers, account),
        store=open_store(spec),
        signer=ape_signer(account),
        owner=str(account.address),
        chain_id=int(chain.chain_id),
        registry=str(deployment.registry.address),
        ttl=ttl,
    )
    return tool, f"{deployment.key}, registry {deployment.registry.address}, store {spec}"


def read_value(name: str, stdin: IO[str] | None = None, prompt: Any = None) -> str:
    """The value of ``name``: from a hidden, confirmed prompt on a terminal, else all of stdin.

    One trailing newline of piped input is dropped (``echo "$URL" | ape run secrets set ...``).
    """
    stream = stdin or sys.stdin
    if stream.isatty():
        if prompt is None:
            import click

            prompt = click.prompt
        return str(prompt(f"Value of {name}", hide_input=True, confirmation_prompt=True))
    value = stream.read()
    if value.endswith("\r\n"):
        return value[:-2]
    return value[:-1] if value.endswith("\n") else value


def when(timestamp: int) -> str:
    """A unix time as ``2026-01-01 12:00:00 UTC``."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def describe(project: str, result: SealResult) -> Iterator[str]:
    """Lines reporting a published change (names, workers, CID; never values)."""
    if result.cid is None:
        yield f"Project '{project}' has no secrets left; its bundle pointer was cleared."
        return
    yield f"Sealed {len(result.names)} secret(s) of '{project}' to {len(result.workers)} worker(s): {', '.join(result.names)}"
    yield f"  bundle {result.cid}, expires {when(result.expires_at)}"
    if not result.workers:
        yield "  warning: no active worker has an encryption key; run `reseal` once workers join."


def listing(project: str, status: BundleStatus | None) -> Iterator[str]:
    """Lines listing names and set-times (never values), then whether a re-seal is needed."""
    if status is None or not status.names:
        yield f"Project '{project}' has no secrets."
        return
    width = max(len(n) for n, _ in status.names)
    for name, set_at in status.names:
        yield f"{name.ljust(width)}  set {when(set_at)}"
    total = len(status.sealed) + len(status.reseal_needed)
    state = "EXPIRED" if status.expired else "expires"
    yield (
        f"bundle {status.cid}, {state} {when(status.expires_at)}, "
        f"sealed to {len(status.sealed)} of {total} active worker(s)"
    )
    if status.expired or status.reseal_needed:
        for worker in status.reseal_needed:
            yield f"  re-seal needed for {worker}"
        yield f"  run `ape run secrets reseal {project}`"
