"""SandboxPool: spawned processes, same envelopes as in-process runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sandbox_helpers import example_requests

from peerhost.sandbox import Sandbox, SandboxPool
from peerhost.sandbox.errors import PythonRuntimeMismatch, SandboxProcessDied


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


def test_pool__process_dies__raises_then_recovers(cache_dir: Path) -> None:
    request = example_requests()["hello"]

    async def main() -> tuple[bool, bool]:
        async with SandboxPool(processes=1, cache_dir=cache_dir) as pool:
            process = pool._slots[0].process
            process.kill()
            process.join()
            with pytest.raises(SandboxProcessDied):
                await pool.run(request)
            return True, (await pool.run(request)).decoded.ok

    assert asyncio.run(main()) == (True, True)


def test_pool__python_runtime_tampered__raises_its_error_and_keeps_the_pool(
    cache_dir: Path, tmp_path: Path
) -> None:
    fake = tmp_path / "python.wasm"
    fake.write_bytes(b"\0asm\x01\0\0\0")
    requests = example_requests()

    async def main() -> bool:
        async with SandboxPool(processes=1, cache_dir=cache_dir, python_runtime=fake) as pool:
            with pytest.raises(PythonRuntimeMismatch, match="tools/python/build.sh --force"):
                await pool.run(requests["report"])
            return (await pool.run(requests["hello"])).decoded.ok  # the same pool, still up

    assert asyncio.run(main())
