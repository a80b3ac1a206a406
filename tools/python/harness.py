# PeerHost Python runtime harness: runs inside CPython 3.12 compiled to WASI.
#
# tools/python/build.sh starts the interpreter once with this file as its
# `-c` program. It imports what handlers commonly use, defines `main`, and
# stops inside `time.clock_getres`, where the build takes the snapshot of the
# interpreter's memory. The snapshot module's `_start` calls `main()` on that
# memory, so each run starts with an initialized interpreter.
#
# stdin : u32 LE source length, the function's source (UTF-8), u32 LE length
#         of the secrets (a JSON object of strings), the secrets, then the
#         canonical request JSON (the rest of stdin).
# stdout: the response JSON on success; on failure the error's text as a JSON
#         string. Functions never write here: sys.stdout is the log.
# stderr: the function's log: print(), print(..., file=sys.stderr), logging.
# exit  : 0 success, 3 the function raised (or its response is not JSON),
#         4 no callable `handler`, 5 out of memory (MemoryError), 2 bad framing.
# ruff: noqa: F401  (imported here so that every run finds them loaded)
import base64
import builtins
import collections
import contextlib
import dataclasses
import datetime
import decimal
import functools
import hashlib
import hmac
import importlib
import itertools
import json
import linecache
import logging
import math
import os
import random
import re
import secrets
import string
import sys
import time
import traceback
import typing
import urllib.parse
import uuid

EXIT_FRAMING = 2
EXIT_RAISED = 3
EXIT_NO_HANDLER = 4
EXIT_MEMORY = 5
MODULE_NAME = "function"
FILE_NAME = "function.py"
AWAIT_STEPS = 100_000
TRACEBACK_FRAMES = 20

# Modules a function may not import: they could only fail later, less clearly.
FORBIDDEN = {
    "socket": "there is no network",
    "_socket": "there is no network",
    "ssl": "there is no network",
    "select": "there is no network",
    "selectors": "there is no network",
    "asyncio": "there is no event loop (async def handler runs without one)",
    "subprocess": "there are no processes",
    "_posixsubprocess": "there are no processes",
    "multiprocessing": "there are no processes",
    "threading": "there are no threads",
    "_thread": "there are no threads",
    "concurrent": "there are no threads",
}

# Modules whose frames stand between the function and a finder: skipped to find who imports.
_MACHINERY = {
    "importlib",
    "importlib._bootstrap",
    "importlib._bootstrap_external",
    "importlib.util",
    "_frozen_importlib",
    "_frozen_importlib_external",
}
_HARNESS = globals()
_builtin_import = builtins.__import__
_import_module = importlib.import_module


def _refuse(name, frame):
    """Raises the clear ImportError when `name` is forbidden and the function's own code (not a
    standard module it uses) asked for it, by any path: `import`, `__import__`, importlib."""
    top = name.partition(".")[0]
    reason = FORBIDDEN.get(top)
    if reason is None:
        return
    while frame is not None and (
        frame.f_globals is _HARNESS or frame.f_globals.get("__name__") in _MACHINERY
    ):
        frame = frame.f_back
    if frame is not None and frame.f_globals.get("__name__") == MODULE_NAME:
        raise ImportError(
            f"module '{top}' is not available in PeerHost functions: {reason}", name=top
        )


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0:
        _refuse(name, sys._getframe(1))
    return _builtin_import(name, globals, locals, fromlist, level)


def _guarded_import_module(name, package=None):
    if not name.startswith("."):
        _refuse(name, sys._getframe(1))
    return _import_module(name, package)


class _ForbiddenFinder:
    """First on sys.meta_path: every import of a module not yet loaded asks it first, whatever
    path it took (importlib.util.find_spec, importlib._bootstrap, ...)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        _refuse(name, sys._getframe(1))
        return None


def _write_all(fd, data):
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _finish(code, message=None):
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    if message is not None:
        _write_all(1, json.dumps(message).encode())
    os._exit(code)


def _frame(data, pos):
    if len(data) < pos + 4:
        _finish(EXIT_FRAMING, "bad framing")
    size = int.from_bytes(data[pos : pos + 4], "little")
    end = pos + 4 + size
    if len(data) < end:
        _finish(EXIT_FRAMING, "bad framing")
    return data[pos + 4 : end], end


def _settle(result):
    """Runs a coroutine to its end without an event loop."""
    if not hasattr(result, "send") or not hasattr(result, "throw"):
        return result
    for _ in range(AWAIT_STEPS):
        try:
            result.send(None)
        except StopIteration as stop:
            return stop.value
    result.close()
    raise RuntimeError("the handler awaited something that never finished (no event loop)")


def _response_json(result):
    if isinstance(result, dict) and isinstance(result.get("body"), (bytes, bytearray)):
        result = dict(result)
        result["body"] = base64.b64encode(bytes(result["body"])).decode("ascii")
        result["body_encoding"] = "base64"
    return json.dumps(result, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def main():
    try:
        data = _read_all(0)
        source, pos = _frame(data, 0)
        env_json, pos = _frame(data, pos)
        env = json.loads(env_json)
        request = json.loads(data[pos:])
        os.environ.clear()
        os.environ.update(env)
        random.seed()  # from os.urandom: the run's own seeded stream
        module = type(sys)(MODULE_NAME)
        module.__file__ = FILE_NAME
        sys.modules[MODULE_NAME] = module
        text = source.decode("utf-8")
        linecache.cache[FILE_NAME] = (len(text), None, text.splitlines(True), FILE_NAME)
        code = compile(text, FILE_NAME, "exec", dont_inherit=True)
        exec(code, module.__dict__)
        handler = module.__dict__.get("handler")
        if not callable(handler):
            _finish(EXIT_NO_HANDLER, "the module defines no handler(req) function")
        output = _response_json(_settle(handler(request))).encode("utf-8")
    except MemoryError:
        _finish(EXIT_MEMORY, "MemoryError")
    except BaseException as exc:  # everything the function does ends as an envelope
        try:
            traceback.print_exc(limit=-TRACEBACK_FRAMES)
        except MemoryError:
            _finish(EXIT_MEMORY, "MemoryError")
        text = str(exc)
        _finish(EXIT_RAISED, f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
    sys.stderr.flush()
    _write_all(1, output)


builtins.__import__ = _guarded_import
importlib.__import__ = _guarded_import
importlib.import_module = _guarded_import_module
sys.meta_path.insert(0, _ForbiddenFinder)
sys.stdout = sys.stderr
_write_all(1, f"peerhost-python-ready {id(main)} {id(_settle)}\n".encode())
time.clock_getres(time.CLOCK_REALTIME)  # the snapshot is taken inside this call
