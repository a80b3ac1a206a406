"""A deterministic WASI preview1 host written for the sandbox.

Every ``wasi_snapshot_preview1`` function is defined here, so nothing of the
worker's machine leaks in: no files (no preopens; ``path_*`` answer
ENOTCAPABLE), no sockets, no ambient environment, no sleeping (``poll_oneoff``
answers ENOTSUP), clocks frozen at the block timestamp, ``random_get`` reading
a stream seeded from the request id. stdin is the request; stdout and stderr
are captured with caps. Host calls are charged fuel (50 per call plus 1 per
byte moved), so a loop of host calls runs out of fuel like any other loop.

The functions are defined through wasmtime's *unchecked* C callbacks: the
arguments arrive as raw i32/i64 slots, with none of wasmtime-py's per-call
boxing into ``Val`` objects (most of a small call's host overhead before). An
exception a function raises (``proc_exit``, a cap, a host bug) travels back the
way wasmtime-py's own callbacks send it: a trap, then the exception re-raised
where the guest was called.
"""

from __future__ import annotations

import ctypes
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime import _func as wasmtime_func

from peerhost.sandbox.randomness import RandomStream

MODULE = "wasi_snapshot_preview1"
CALL_FUEL = 50

ERRNO_SUCCESS = 0
ERRNO_BADF = 8
ERRNO_FAULT = 21
ERRNO_INVAL = 28
ERRNO_NOTSUP = 58
ERRNO_SPIPE = 70
ERRNO_NOTCAPABLE = 76

FILETYPE_CHARACTER_DEVICE = 2
RIGHTS_FD_READ = 1 << 1
RIGHTS_FD_WRITE = 1 << 6

# name -> (params, results); "i" is i32, "I" is i64.
SIGNATURES: dict[str, tuple[str, str]] = {
    "args_get": ("ii", "i"),
    "args_sizes_get": ("ii", "i"),
    "environ_get": ("ii", "i"),
    "environ_sizes_get": ("ii", "i"),
    "clock_res_get": ("ii", "i"),
    "clock_time_get": ("iIi", "i"),
    "fd_advise": ("iIIi", "i"),
    "fd_allocate": ("iII", "i"),
    "fd_close": ("i", "i"),
    "fd_datasync": ("i", "i"),
    "fd_fdstat_get": ("ii", "i"),
    "fd_fdstat_set_flags": ("ii", "i"),
    "fd_fdstat_set_rights": ("iII", "i"),
    "fd_filestat_get": ("ii", "i"),
    "fd_filestat_set_size": ("iI", "i"),
    "fd_filestat_set_times": ("iIIi", "i"),
    "fd_pread": ("iiiIi", "i"),
    "fd_prestat_get": ("ii", "i"),
    "fd_prestat_dir_name": ("iii", "i"),
    "fd_pwrite": ("iiiIi", "i"),
    "fd_read": ("iiii", "i"),
    "fd_readdir": ("iiiIi", "i"),
    "fd_renumber": ("ii", "i"),
    "fd_seek": ("iIii", "i"),
    "fd_sync": ("i", "i"),
    "fd_tell": ("ii", "i"),
    "fd_write": ("iiii", "i"),
    "path_create_directory": ("iii", "i"),
    "path_filestat_get": ("iiiii", "i"),
    "path_filestat_set_times": ("iiiiIIi", "i"),
    "path_link": ("iiiiiii", "i"),
    "path_open": ("iiiiiIIii", "i"),
    "path_readlink": ("iiiiii", "i"),
    "path_remove_directory": ("iii", "i"),
    "path_rename": ("iiiiii", "i"),
    "path_symlink": ("iiiii", "i"),
    "path_unlink_file": ("iii", "i"),
    "poll_oneoff": ("iiii", "i"),
    "proc_exit": ("i", ""),
    "proc_raise": ("i", "i"),
    "sched_yield": ("", "i"),
    "random_get": ("ii", "i"),
    "sock_accept": ("iii", "i"),
    "sock_recv": ("iiiiii", "i"),
    "sock_send": ("iiiii", "i"),
    "sock_shutdown": ("ii", "i"),
}

_VALTYPES = {"i": wasmtime.ValType.i32(), "I": wasmtime.ValType.i64()}
_MASKS = {"i": 0xFFFFFFFF, "I": 0xFFFFFFFFFFFFFFFF}
#: Most iovecs one fd_read/fd_write may pass (POSIX IOV_MAX); more is EINVAL.
IOV_MAX = 1024


_VOID = ctypes.c_void_p


def _direct(name: str, restype: Any, *argtypes: Any) -> Any:
    """The wasmtime C function ``name``, called holding the GIL.

    wasmtime-py's bindings release the GIL around every call (a Python wrapper, then ctypes'
    release and re-take). A host call makes five or six calls that each return in well under a
    microsecond (the caller's context, the fuel read and set, the memory's base and size): holding
    the GIL through them costs less, and no other thread can take the GIL in the middle of one.
    Never for a call that runs guest code (``wasmtime_func_call`` keeps releasing it).
    """
    return ctypes.PYFUNCTYPE(restype, *argtypes)((name, ffi.dll))


_caller_context = _direct("wasmtime_caller_context", _VOID, _VOID)
# the fuel calls return an error only when the engine does not consume fuel (the sandbox's does)
_get_fuel = _direct("wasmtime_context_get_fuel", _VOID, _VOID, ctypes.POINTER(ctypes.c_uint64))
_set_fuel = _direct("wasmtime_context_set_fuel", _VOID, _VOID, ctypes.c_uint64)
_memory_data = _direct("wasmtime_memory_data", _VOID, _VOID, _VOID)
_memory_data_size = _direct("wasmtime_memory_data_size", ctypes.c_size_t, _VOID, _VOID)
_trap_new = _direct("wasmtime_trap_new", _VOID, ctypes.c_char_p, ctypes.c_size_t)
_TRAP_MESSAGE = b"python exception"  # what wasmtime-py's own callbacks trap with


def func_type(name: str) -> wasmtime.FuncType:
    params, results = SIGNATURES[name]
    return wasmtime.FuncType([_VALTYPES[p] for p in params], [_VALTYPES[r] for r in results])


class ProcExit(Exception):
    """``proc_exit`` was called."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class OutputTooLarge(Exception):
    """The function wrote more than its stdout cap."""


class HostOutOfFuel(Exception):
    """A host call cost more fuel than was left."""


@dataclass
class RunIO:
    """Everything one run's WASI calls read and write."""

    stdin: bytes
    args: list[bytes]
    env: list[bytes]
    clock_ns: int
    random: RandomStream
    max_stdout: int
    max_stderr: int
    stdin_pos: int = 0
    memory: wasmtime.Memory | None = None  # the instance's exported memory, once known
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)


class HostCaller:
    """The calling instance during one host call: its raw caller and its store context (the
    context's address)."""

    __slots__ = ("ptr", "context")

    def __init__(self, ptr: Any, context: int) -> None:
        self.ptr = ptr
        self.context = context

    def _context(self) -> Any:  # a wasmtime "Storelike", for Memory and Global methods
        return ctypes.cast(self.context, ctypes.POINTER(ffi.wasmtime_context_t))

    def memory(self) -> wasmtime.Memory | None:
        """The caller's exported ``memory`` (looked up by name)."""
        item = ffi.wasmtime_extern_t()
        found = ffi.wasmtime_caller_export_get(self.ptr, b"memory", 6, ctypes.byref(item))
        if not found or item.kind != ffi.WASMTIME_EXTERN_MEMORY.value:
            return None
        return wasmtime.Memory._from_raw(item.of.memory)


class _Mem:
    """Bounds-checked access to the caller's exported ``memory``."""

    __slots__ = ("base", "size")

    def __init__(self, caller: HostCaller, known: wasmtime.Memory | None = None) -> None:
        memory = known or caller.memory()
        if memory is None:
            raise _Fault
        raw = ctypes.addressof(memory._memory)
        self.base = _memory_data(caller.context, raw) or 0
        self.size = _memory_data_size(caller.context, raw)

    def check(self, ptr: int, n: int) -> None:
        if ptr < 0 or n < 0 or ptr + n > self.size:
            raise _Fault

    def read(self, ptr: int, n: int) -> bytes:
        self.check(ptr, n)
        return ctypes.string_at(self.base + ptr, n)

    def write(self, ptr: int, data: bytes) -> None:
        self.check(ptr, len(data))
        ctypes.memmove(self.base + ptr, data, len(data))

    def u32(self, ptr: int, value: int) -> None:
        self.write(ptr, _U32.pack(value & 0xFFFFFFFF))

    def u64(self, ptr: int, value: int) -> None:
        self.write(ptr, _U64.pack(value & 0xFFFFFFFFFFFFFFFF))

    def iovecs(self, ptr: int, count: int) -> list[tuple[int, int]]:
        if count > IOV_MAX:
            raise _Invalid
        raw = self.read(ptr, 8 * count)
        return list(_IOVEC.iter_unpack(raw))


_NO_FINALIZER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)()  # a NULL function pointer
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_IOVEC = struct.Struct("<II")


class _Fault(Exception):
    pass


class _Invalid(Exception):
    pass


def _charge(caller: HostCaller, cost: int) -> None:
    ctx = caller.context
    remaining = ctypes.c_uint64(0)
    _get_fuel(ctx, remaining)
    left = remaining.value
    if left < cost:
        _set_fuel(ctx, 0)
        raise HostOutOfFuel
    _set_fuel(ctx, left - cost)


def _trap_with(error: BaseException) -> int:
    """Hands ``error`` to wasmtime-py's slot and returns a trap for wasmtime to raise."""
    wasmtime_func.LAST_EXCEPTION = error  # type: ignore[assignment]  # re-raised by the caller
    trap: int | None = _trap_new(_TRAP_MESSAGE, len(_TRAP_MESSAGE))  # owned by wasmtime now
    return trap or 0


class WasiHost:
    """Defines the deterministic WASI functions on a Linker.

    The definitions are store-independent (usable with ``instantiate_pre``);
    the current run's :class:`RunIO` is found per thread.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._callbacks: list[Any] = []  # kept alive as long as the host

    def define(self, linker: wasmtime.Linker) -> None:
        module = MODULE.encode()
        for name in SIGNATURES:
            impl = getattr(self, f"_{name}", None)
            callback = ffi.wasmtime_func_unchecked_callback_t(self._wrap(name, impl))
            self._callbacks.append(callback)
            raw = name.encode()
            ty = func_type(name)  # alive across the call (ptr() is borrowed)
            error = ffi.wasmtime_linker_define_func_unchecked(
                linker.ptr(),
                module,
                len(module),
                raw,
                len(raw),
                ty.ptr(),
                callback,
                None,
                _NO_FINALIZER,
            )
            if error:
                raise wasmtime.WasmtimeError._from_ptr(error)

    def _mem(self, caller: HostCaller) -> _Mem:
        return _Mem(caller, self.io.memory)

    def bind(self, io: RunIO | None) -> None:
        self._local.io = io

    @property
    def io(self) -> RunIO:
        io: RunIO | None = getattr(self._local, "io", None)
        if io is None:
            raise RuntimeError("no run bound to this thread")
        return io

    def _wrap(self, name: str, impl: Callable[..., int | None] | None) -> Callable[..., int]:
        denied = ERRNO_NOTCAPABLE
        params, results = SIGNATURES[name]
        # wasmtime passes i32/i64 as signed ints; WASI means them unsigned.
        slots = [("i32" if p == "i" else "i64", _MASKS[p]) for p in params]
        returns = bool(results)
        context_of = _caller_context

        def call(_env: Any, caller_ptr: Any, values: Any, _count: int) -> int:
            try:
                caller = HostCaller(caller_ptr, context_of(caller_ptr))
                _charge(caller, CALL_FUEL)
                if impl is None:
                    errno: int | None = denied
                else:
                    args = [getattr(values[i], slot) & mask for i, (slot, mask) in enumerate(slots)]
                    try:
                        errno = impl(caller, *args)
                    except _Fault:
                        errno = ERRNO_FAULT
                    except _Invalid:
                        errno = ERRNO_INVAL
                if returns:
                    values[0].i32 = errno
                return 0
            except BaseException as error:  # the guest's caller re-raises it
                return _trap_with(error)

        call.__name__ = name
        return call

    # --- args and environment -------------------------------------------------

    def _write_strings(self, caller: HostCaller, items: list[bytes], ptrs: int, buf: int) -> int:
        mem = self._mem(caller)
        offset = buf
        for i, item in enumerate(items):
            mem.u32(ptrs + 4 * i, offset)
            mem.write(offset, item + b"\0")
            offset += len(item) + 1
        return ERRNO_SUCCESS

    def _write_sizes(self, caller: HostCaller, items: list[bytes], count: int, size: int) -> int:
        mem = self._mem(caller)
        mem.u32(count, len(items))
        mem.u32(size, sum(len(item) + 1 for item in items))
        return ERRNO_SUCCESS

    def _args_get(self, caller: HostCaller, argv: int, buf: int) -> int:
        return self._write_strings(caller, self.io.args, argv, buf)

    def _args_sizes_get(self, caller: HostCaller, count: int, size: int) -> int:
        return self._write_sizes(caller, self.io.args, count, size)

    def _environ_get(self, caller: HostCaller, environ: int, buf: int) -> int:
        return self._write_strings(caller, self.io.env, environ, buf)

    def _environ_sizes_get(self, caller: HostCaller, count: int, size: int) -> int:
        return self._write_sizes(caller, self.io.env, count, size)

    # --- clocks, randomness, scheduling ---------------------------------------

    def _clock_res_get(self, caller: HostCaller, clock_id: int, out: int) -> int:
        if clock_id not in (0, 1, 2, 3):
            return ERRNO_INVAL
        self._mem(caller).u64(out, 1_000_000_000)
        return ERRNO_SUCCESS

    def _clock_time_get(self, caller: HostCaller, clock_id: int, _prec: int, out: int) -> int:
        if clock_id in (0, 1):  # realtime, monotonic: frozen at the block timestamp
            self._mem(caller).u64(out, self.io.clock_ns)
        elif clock_id in (2, 3):  # process / thread CPU time: always zero
            self._mem(caller).u64(out, 0)
        else:
            return ERRNO_INVAL
        return ERRNO_SUCCESS

    def _random_get(self, caller: HostCaller, buf: int, length: int) -> int:
        mem = self._mem(caller)
        mem.check(buf, length)
        _charge(caller, length)
        mem.write(buf, self.io.random.read(length))
        return ERRNO_SUCCESS

    def _sched_yield(self, caller: HostCaller) -> int:
        return ERRNO_SUCCESS

    def _poll_oneoff(self, caller: HostCaller, *_args: int) -> int:
        return ERRNO_NOTSUP

    def _proc_exit(self, caller: HostCaller, code: int) -> None:
        raise ProcExit(code & 0xFFFFFFFF)

    def _proc_raise(self, caller: HostCaller, _signal: int) -> int:
        return ERRNO_NOTSUP

    # --- the three standard streams -------------------------------------------

    def _fd_read(self, caller: HostCaller, fd: int, iovs: int, count: int, out: int) -> int:
        if fd != 0:
            return ERRNO_BADF
        mem = self._mem(caller)
        io = self.io
        total = 0
        for ptr, length in mem.iovecs(iovs, count):
            chunk = io.stdin[io.stdin_pos : io.stdin_pos + length]
            if not chunk:
                break
            _charge(caller, len(chunk))
            mem.write(ptr, chunk)
            io.stdin_pos += len(chunk)
            total += len(chunk)
            if len(chunk) < length:
                break
        mem.u32(out, total)
        return ERRNO_SUCCESS

    def _fd_write(self, caller: HostCaller, fd: int, iovs: int, count: int, out: int) -> int:
        if fd not in (1, 2):
            return ERRNO_BADF
        mem = self._mem(caller)
        io = self.io
        vectors = mem.iovecs(iovs, count)
        total = sum(length for _, length in vectors)
        for ptr, length in vectors:
            mem.check(ptr, length)
        if fd == 1:
            if len(io.stdout) + total > io.max_stdout:
                raise OutputTooLarge
            _charge(caller, total)
            for ptr, length in vectors:
                io.stdout += mem.read(ptr, length)
        else:
            room = io.max_stderr - len(io.stderr)
            _charge(caller, min(total, max(room, 0)))
            for ptr, length in vectors:
                if room <= 0:
                    break
                take = min(length, room)
                io.stderr += mem.read(ptr, take)
                room -= take
        mem.u32(out, total)
        return ERRNO_SUCCESS

    def _fd_fdstat_get(self, caller: HostCaller, fd: int, out: int) -> int:
        if fd not in (0, 1, 2):
            return ERRNO_BADF
        rights = RIGHTS_FD_READ if fd == 0 else RIGHTS_FD_WRITE
        self._mem(caller).write(
            out, struct.pack("<BxHxxxxQQ", FILETYPE_CHARACTER_DEVICE, 0, rights, 0)
        )
        return ERRNO_SUCCESS

    def _fd_filestat_get(self, caller: HostCaller, fd: int, out: int) -> int:
        if fd not in (0, 1, 2):
            return ERRNO_BADF
        stat = bytearray(64)
        stat[16] = FILETYPE_CHARACTER_DEVICE
        self._mem(caller).write(out, bytes(stat))
        return ERRNO_SUCCESS

    def _std_only(self, fd: int, ok: int) -> int:
        return ok if fd in (0, 1, 2) else ERRNO_BADF

    def _fd_close(self, caller: HostCaller, fd: int) -> int:
        return self._std_only(fd, ERRNO_SUCCESS)

    def _fd_sync(self, caller: HostCaller, fd: int) -> int:
        return self._std_only(fd, ERRNO_SUCCESS)

    def _fd_datasync(self, caller: HostCaller, fd: int) -> int:
        return self._std_only(fd, ERRNO_SUCCESS)

    def _fd_fdstat_set_flags(self, caller: HostCaller, fd: int, _flags: int) -> int:
        return self._std_only(fd, ERRNO_NOTSUP)

    def _fd_seek(self, caller: HostCaller, fd: int, _off: int, _wh: int, _out: int) -> int:
        return self._std_only(fd, ERRNO_SPIPE)

    def _fd_tell(self, caller: HostCaller, fd: int, _out: int) -> int:
        return self._std_only(fd, ERRNO_SPIPE)

    def _fd_prestat_get(self, caller: HostCaller, fd: int, _out: int) -> int:
        return ERRNO_BADF  # no preopened directories: ends libc's preopen scan

    def _fd_prestat_dir_name(self, caller: HostCaller, fd: int, _p: int, _n: int) -> int:
        return ERRNO_BADF
