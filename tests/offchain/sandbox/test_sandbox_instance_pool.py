"""The run engine's instance pool never decides an outcome (peerhost.sandbox.engine)."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime
from sandbox_helpers import (
    BLOCK_TIMESTAMP,
    REQUEST_ID,
    SMALL,
    WASI_IMPORTS,
    RunFn,
    sample_input,
    wat_module,
    write_stdout_wat,
)

from peerhost.sandbox import Limits, RunRequest, Sandbox
from peerhost.sandbox.engine import (
    POOL_INSTANCES,
    POOL_KEEP_RESIDENT_BYTES,
    POOL_TABLES_PER_INSTANCE,
    make_engine,
)
from peerhost.wire import ErrorKind

HELLO = wat_module(write_stdout_wat('{"status":200,"body":"hi"}'))


def _request(code: bytes, limits: Limits = SMALL) -> RunRequest:
    return RunRequest(
        runtime="wasi",
        code=code,
        code_id="pool",
        input=sample_input(),
        request_id=REQUEST_ID,
        block_timestamp=BLOCK_TIMESTAMP,
        limits=limits,
    )


def test_run__more_tables_than_a_pool_slot__same_link_error_as_unpooled(run: RunFn) -> None:
    tables = " ".join(f"(table {i} funcref)" for i in range(POOL_TABLES_PER_INSTANCE + 1))
    code = wat_module(f'{tables} (func (export "_start"))')
    result = run(code)
    assert result.committable
    assert result.decoded.error_kind is ErrorKind.LINK_ERROR
    with pytest.raises(wasmtime.WasmtimeError, match="pooling"):
        wasmtime.Module(make_engine(pooled=True), code)  # the pool alone refuses it at load


def test_run__table_larger_than_a_pool_slot__loaded_unpooled(sandbox: Sandbox) -> None:
    big = wat_module('(table 2000000 funcref) (func (export "_start"))')
    result = sandbox.run(_request(big))
    assert result.committable
    assert result.decoded.error_kind is ErrorKind.LINK_ERROR  # the store's table limit
    assert result.decoded.error_detail == "instantiation failed"
    assert sandbox.cache.outside_pool(sandbox.cache.get(big))
    assert not sandbox.cache.outside_pool(sandbox.cache.get(HELLO))


def test_run__pool_full__host_error_not_committed(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path, compile_in_subprocess=False)
    module = sandbox.cache.get(HELLO)
    held = []
    for _ in range(POOL_INSTANCES):
        store = wasmtime.Store(sandbox.engine)
        store.set_epoch_deadline(1)
        held.append((store, sandbox.linker.instantiate(store, module)))
    full = sandbox.run(_request(HELLO))
    assert not full.committable
    assert full.decoded.error_kind is ErrorKind.HOST_ERROR
    for store, _ in held:
        store.close()
    freed = sandbox.run(_request(HELLO))
    assert freed.committable and freed.decoded.ok
    sandbox.close()


def test_run__memory_beyond_the_resident_window__loaded_unpooled(sandbox: Sandbox) -> None:
    pages = POOL_KEEP_RESIDENT_BYTES // 65536 + 1
    body = write_stdout_wat('{"status":200,"body":"big"}')
    code = bytes(
        wasmtime.wat2wasm(f'(module {WASI_IMPORTS} {body} (memory (export "memory") {pages}))')
    )
    result = sandbox.run(_request(code, Limits(memory_bytes=64 * 1024 * 1024)))
    assert result.committable and result.decoded.body == "big"
    assert sandbox.cache.outside_pool(sandbox.cache.get(code))
