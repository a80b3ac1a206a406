"""The wasmtime engine configuration, and its fingerprint for the module cache.

Everything that can change what a module computes or where it traps is fixed
here: fuel metering, NaN canonicalization, no threads, no relaxed SIMD, no
shared memory, and a fixed wasm stack size.

The engine that runs functions allocates instances from a *pool* (wasmtime's
pooling allocator): memory slots are reused and their first pages kept
resident, so a fresh instance costs no mmap, and touching the snapshot image of
a runtime costs no page faults. Every pool bound is at least the matching
per-run store limit (:mod:`peerhost.sandbox.execution`) or the wasm32 maximum,
so the pool never decides where a run fails. It changes no compiled code: the
engines that only compile or validate modules do without it.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib.metadata import version

import wasmtime
from wasmtime import _ffi as ffi

#: Native stack for wasm frames. Deep recursion traps with ``stack_overflow``.
MAX_WASM_STACK = 1024 * 1024

SETTINGS: dict[str, object] = {
    "consume_fuel": True,
    "epoch_interruption": True,
    "cranelift_nan_canonicalization": True,
    "cranelift_opt_level": "speed",
    "wasm_threads": False,
    "shared_memory": False,
    "wasm_relaxed_simd": False,
    "wasm_memory64": False,
    "wasm_multi_memory": False,
    "wasm_gc": False,
    "wasm_function_references": False,
    "wasm_exceptions": False,
    "wasm_component_model": False,
    "wasm_stack_switching": False,
    "max_wasm_stack": MAX_WASM_STACK,
}


#: Instances (and memories) alive at once in one run engine: runs are serialized
#: per process and each run frees its store when it ends.
POOL_INSTANCES = 8
#: Largest memory a pooled instance may grow to: the wasm32 maximum (4 GiB).
POOL_MEMORY_BYTES = 1 << 32
#: Table slots per instance and elements per table: the store limits of a run.
POOL_TABLES_PER_INSTANCE = 8
POOL_TABLE_ELEMENTS = 1_000_000
#: Room for an instance's own bookkeeping (VMContext); far above any module
#: within the code size cap.
POOL_INSTANCE_BYTES = 256 * 1024 * 1024
#: Memory kept mapped between runs in a reused slot (reset in place).
POOL_KEEP_RESIDENT_BYTES = 8 * 1024 * 1024


def make_config(*, pooled: bool = False) -> wasmtime.Config:
    config = wasmtime.Config()
    for name, value in SETTINGS.items():
        setattr(config, name, value)
    if pooled:
        pool = ffi.wasmtime_pooling_allocation_config_new()
        try:
            ffi.wasmtime_pooling_allocation_config_total_core_instances_set(pool, POOL_INSTANCES)
            ffi.wasmtime_pooling_allocation_config_total_memories_set(pool, POOL_INSTANCES)
            ffi.wasmtime_pooling_allocation_config_total_tables_set(
                pool, POOL_INSTANCES * POOL_TABLES_PER_INSTANCE
            )
            ffi.wasmtime_pooling_allocation_config_max_tables_per_module_set(
                pool, POOL_TABLES_PER_INSTANCE
            )
            ffi.wasmtime_pooling_allocation_config_table_elements_set(pool, POOL_TABLE_ELEMENTS)
            ffi.wasmtime_pooling_allocation_config_max_memory_size_set(pool, POOL_MEMORY_BYTES)
            ffi.wasmtime_pooling_allocation_config_max_core_instance_size_set(
                pool, POOL_INSTANCE_BYTES
            )
            ffi.wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(
                pool, POOL_KEEP_RESIDENT_BYTES
            )
            ffi.wasmtime_pooling_allocation_strategy_set(config.ptr(), pool)
        finally:
            ffi.wasmtime_pooling_allocation_config_delete(pool)
    return config


def make_engine(*, pooled: bool = False) -> wasmtime.Engine:
    """An engine with the protocol's settings; ``pooled`` for the one that runs functions."""
    return wasmtime.Engine(make_config(pooled=pooled))


def fingerprint() -> str:
    """Identifies (wasmtime version, CPU architecture, engine settings)."""
    doc = {
        "wasmtime": version("wasmtime"),
        "machine": platform.machine(),
        "settings": SETTINGS,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
