"""SandboxPool: spawned processes, same envelopes as in-process runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sandbox_helpers import example_requests

from peerhost.sandbox import Sandbox, SandboxPool


def test_pool__examples_in_parallel__same_envelopes_as_in_process(
    cache_dir: Path, sandbox: Sandbox
) -> None:
    requests = example_requests()
    sandbox.warm("js")

    async def main() -> dict[str, bytes]:
        async with SandboxPool(processes=2, cache_dir=cache_dir) as pool:
            await pool.warm("js")
            names = list(requests) * 2
            results = await asyncio.gather(*(pool.run(requests[n]) for n in names))
            return {n: r.envelope for n, r in zip(names, results, strict=True)}

    envelopes = asyncio.run(main())
    assert envelopes == {name: sandbox.run(r).envelope for name, r in requests.items()}
