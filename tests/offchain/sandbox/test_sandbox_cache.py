"""The compiled-module cache: compile bounded in a child, load only what this host signed."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import wasmtime
from sandbox_helpers import wat_module, write_stdout_wat

from peerhost.sandbox import RunRequest, Sandbox
from peerhost.sandbox.cache import MAGIC, ModuleCache
from peerhost.sandbox.engine import fingerprint, make_engine
from peerhost.sandbox.errors import CompileTimeout, InvalidModule
from peerhost.wire import ErrorKind

CODE = wat_module(write_stdout_wat('{"status":200}'))


def _only_cwasm(directory: Path) -> Path:
    (path,) = directory.glob("*.cwasm")
    return path


def test_cache__compile_in_child__writes_signed_file_and_reloads(tmp_path: Path) -> None:
    cache = ModuleCache(tmp_path, make_engine())
    module = cache.get(CODE)
    stored = _only_cwasm(tmp_path)
    assert stored.read_bytes().startswith(MAGIC)
    assert fingerprint()[:16] in stored.name
    reloaded = ModuleCache(tmp_path, make_engine()).get(CODE)
    assert [i.name for i in reloaded.imports] == [i.name for i in module.imports]


def test_cache__tampered_file__discarded_and_recompiled(tmp_path: Path) -> None:
    ModuleCache(tmp_path, make_engine(), compile_in_subprocess=False).get(CODE)
    stored = _only_cwasm(tmp_path)
    data = bytearray(stored.read_bytes())
    data[-1] ^= 0xFF
    stored.write_bytes(bytes(data))
    cache = ModuleCache(tmp_path, make_engine(), compile_in_subprocess=False)
    assert cache._load(stored.name.split(".")[0]) is None
    assert not stored.exists()
    cache.get(CODE)
    assert _only_cwasm(tmp_path).exists()


def test_cache__foreign_cwasm__never_deserialized(tmp_path: Path) -> None:
    engine = make_engine()
    cache = ModuleCache(tmp_path, engine, compile_in_subprocess=False)
    digest = __import__("hashlib").sha256(CODE).hexdigest()
    foreign = bytes(wasmtime.Module(engine, CODE).serialize())
    cache.path_for(digest).write_bytes(MAGIC + bytes(32) + foreign)  # wrong tag
    assert cache._load(digest) is None


def test_cache__other_host_key__not_trusted(tmp_path: Path) -> None:
    ModuleCache(tmp_path / "a", make_engine(), compile_in_subprocess=False).get(CODE)
    (tmp_path / "b").mkdir()
    stored = _only_cwasm(tmp_path / "a")
    (tmp_path / "b" / stored.name).write_bytes(stored.read_bytes())
    other = ModuleCache(tmp_path / "b", make_engine(), compile_in_subprocess=False)
    assert other._load(stored.name.split(".")[0]) is None


def test_cache__malformed__raises_invalid_module(tmp_path: Path) -> None:
    with pytest.raises(InvalidModule):
        ModuleCache(tmp_path, make_engine()).get(b"\x00asm\x01\x00\x00\x00\x05")


def test_cache__compile_past_timeout__raises(tmp_path: Path) -> None:
    cache = ModuleCache(tmp_path, make_engine(), compile_timeout_seconds=0.001)
    with pytest.raises(CompileTimeout):
        cache.get(CODE)
    started = time.perf_counter()
    with pytest.raises(CompileTimeout):  # remembered: not compiled again
        cache.get(CODE)
    assert time.perf_counter() - started < 0.05


def test_run__compile_timeout__not_committable(tmp_path: Path) -> None:
    sandbox = Sandbox(cache_dir=tmp_path, compile_timeout_seconds=0.001)
    result = sandbox.run(RunRequest(runtime="wasi", code=CODE, code_id="x", input=b"{}"))
    assert not result.committable
    assert result.decoded.error_kind is ErrorKind.TIMEOUT


def test_cache__host_key__private_to_owner(tmp_path: Path) -> None:
    ModuleCache(tmp_path, make_engine())
    assert (tmp_path / "host.key").stat().st_mode & 0o077 == 0


def test_precompile__then_get__another_cache_loads_without_compiling(tmp_path: Path) -> None:
    prewarm = ModuleCache(tmp_path, make_engine())
    assert prewarm.precompile(CODE) is True
    assert prewarm.precompile(CODE) is False  # on disk already: nothing to do
    runner = ModuleCache(tmp_path, make_engine())  # a sandbox process over the same directory
    runner.get(CODE)
    runner.get(CODE)
    assert (prewarm.compiles, runner.compiles) == (1, 0)
    assert (runner.disk_loads, runner.memory_hits) == (1, 1)


def test_precompile__not_wasm__raises_invalid_module_and_writes_nothing(tmp_path: Path) -> None:
    cache = ModuleCache(tmp_path, make_engine())
    with pytest.raises(InvalidModule):
        cache.precompile(b"\x00asm\x01\x00\x00\x00garbage")
    assert cache.compiles == 0 and not list(tmp_path.glob("*.cwasm"))


def test_compile__two_caches_on_one_directory_at_once__compiled_once(tmp_path: Path) -> None:
    caches = [ModuleCache(tmp_path, make_engine()) for _ in range(2)]  # two processes, say
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda cache: cache.get(CODE), caches))
    assert sorted(cache.compiles for cache in caches) == [0, 1]
    assert sum(cache.disk_loads for cache in caches) == 1  # the other loaded what it stored
    assert not list(tmp_path.glob("*.lock"))
