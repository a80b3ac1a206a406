"""The wasmtime engine configuration, and its fingerprint for the module cache.

Everything that can change what a module computes or where it traps is fixed
here: fuel metering, NaN canonicalization, no threads, no relaxed SIMD, no
shared memory, and a fixed wasm stack size.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib.metadata import version

import wasmtime

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


def make_config() -> wasmtime.Config:
    config = wasmtime.Config()
    for name, value in SETTINGS.items():
        setattr(config, name, value)
    return config


def make_engine() -> wasmtime.Engine:
    return wasmtime.Engine(make_config())


def fingerprint() -> str:
    """Identifies (wasmtime version, CPU architecture, engine settings)."""
    doc = {
        "wasmtime": version("wasmtime"),
        "machine": platform.machine(),
        "settings": SETTINGS,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
