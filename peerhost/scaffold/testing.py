"""Running a project's function in the local sandbox from its own tests (see the templates).

answer = run_local(Path("my-project"), "hello", "GET", "/", query={"name": "ada"})
answer.status, answer.json(), answer.log
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from peerhost.publishing.checks import default_cache_dir
from peerhost.publishing.manifest import load_project
from peerhost.sandbox import Limits, RunRequest, Sandbox
from peerhost.wire import Envelope, canonical_request

REQUEST_ID = bytes.fromhex("7e" * 32)


@dataclass(frozen=True)
class LocalAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    log: str
    envelope: Envelope

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


@lru_cache(maxsize=1)
def _sandbox() -> Sandbox:
    cache = default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    return Sandbox(cache)


def run_local(
    project_dir: Path | str,
    function: str,
    method: str = "GET",
    path: str = "/",
    *,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes | str = b"",
    env: Mapping[str, str] | None = None,
    block_timestamp: int = 1_700_000_000,
) -> LocalAnswer:
    """Runs ``function`` of the project in ``project_dir`` once, as a worker would."""
    project = load_project(project_dir)
    spec = project.function(function)
    data = canonical_request(
        method,
        path,
        dict(query or {}),
        dict(headers or {}),
        body,
        request_id=REQUEST_ID,
        block_timestamp=block_timestamp,
        wallet="0x" + "00" * 20,
        project=project.name,
        function=function,
        extra_headers=spec.headers,  # the headers project.json declares, as the gateway keeps
    )
    result = _sandbox().run(
        RunRequest(
            runtime=spec.runtime,
            code=spec.code(),
            code_id=f"local:{function}",
            input=data,
            env=dict(env or {}),
            request_id=REQUEST_ID,
            block_timestamp=block_timestamp,
            limits=Limits(fuel=spec.fuel, memory_bytes=spec.memory),
        )
    )
    envelope = result.decoded
    status, out_headers, content = envelope.to_http()
    return LocalAnswer(
        status, out_headers, content, result.logs.decode("utf-8", "replace"), envelope
    )
