"""Generated hostile modules (hostile_wasm.py), each run in two fresh processes: no process
crashes or hangs, every module gets a committable envelope, and both processes give the same
bytes. The CI-sized slice of ``bench/hostile_wasm.py`` (which runs 1,000)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import hostile_wasm
import wasmtime

from peerhost.wire import ErrorKind

SEEDS = range(32)
PROBE = Path(hostile_wasm.__file__)


def _probe(cache_dir: Path) -> dict[int, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, str(PROBE), str(cache_dir), str(SEEDS.start), str(len(SEEDS))],
        capture_output=True,
        timeout=600,
        check=True,
    )
    records = [json.loads(line) for line in done.stdout.decode().splitlines()]
    return {int(r["seed"]): r for r in records}


def test_generator__same_seed__same_module_and_seeds_differ() -> None:
    assert hostile_wasm.module(3) == hostile_wasm.module(3)
    assert len({hostile_wasm.module(seed) for seed in SEEDS}) == len(SEEDS)
    wasmtime.Module.validate(wasmtime.Engine(), hostile_wasm.module(0))  # unflipped: valid


def test_hostile_modules__two_fresh_processes__same_committable_envelopes(
    cache_dir: Path,
) -> None:
    first, second = _probe(cache_dir), _probe(cache_dir)

    assert sorted(first) == sorted(second) == list(SEEDS)
    for seed in SEEDS:
        assert first[seed]["sha256"] == second[seed]["sha256"], seed
        assert first[seed]["committable"] is True, first[seed]
        assert first[seed]["kind"] != str(ErrorKind.HOST_ERROR), first[seed]
    # the generator reaches the sandbox's failure paths, not only one of them
    assert len({r["kind"] for r in first.values()}) >= 4
