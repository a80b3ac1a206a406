"""A deterministic WASI preview1 host written for the sandbox.

Every ``wasi_snapshot_preview1`` function is defined here, so nothing of the
worker's machine leaks in: no files (no preopens; ``path_*`` answer
ENOTCAPABLE), no sockets, no ambient environment, no sleeping (``poll_oneoff``
answers ENOTSUP), clocks frozen at the block timestamp, ``random_get`` reading
a stream seeded from the request id. stdin is the request; stdout and stderr
are captured with caps. Host calls are charged fuel (50 per call plus 1 per
byte moved), so a loop of host calls runs out of fuel like any other loop.
"""

from __future__ import annotations

import ctypes
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import wasmtime
from wasmtime import _ffi as ffi

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


class _Mem:
    """Bounds-checked access to the caller's exported ``memory``."""

    def __init__(self, caller: wasmtime.Caller, known: wasmtime.Memory | None = None) -> None:
        memory = known or caller.get("memory")
        if not isinstance(memory, wasmtime.Memory):
            raise _Fault
        self.base = ctypes.cast(memory.data_ptr(caller), ctypes.c_void_p).value or 0
        self.size = memory.data_len(caller)

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
        self.write(ptr, struct.pack("<I", value & 0xFFFFFFFF))

    def u64(self, ptr: int, value: int) -> None:
        self.write(ptr, struct.pack("<Q", value & 0xFFFFFFFFFFFFFFFF))

    def iovecs(self, ptr: int, count: int) -> list[tuple[int, int]]:
        if count > IOV_MAX:
            raise _Invalid
        raw = self.read(ptr, 8 * count)
        return [struct.unpack_from("<II", raw, 8 * i) for i in range(count)]


class _Fault(Exception):
    pass


class _Invalid(Exception):
    pass


def _charge(caller: wasmtime.Caller, cost: int) -> None:
    ctx = caller._context()
    remaining = ctypes.c_uint64(0)
    ffi.wasmtime_context_get_fuel(ctx, ctypes.byref(remaining))
    if remaining.value < cost:
        ffi.wasmtime_context_set_fuel(ctx, 0)
        raise HostOutOfFuel
    ffi.wasmtime_context_set_fuel(ctx, remaining.value - cost)


class WasiHost:
    """Defines the deterministic WASI functions on a Linker.

    The definitions are store-independent (usable with ``instantiate_pre``);
    the current run's :class:`RunIO` is found per thread.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def define(self, linker: wasmtime.Linker) -> None:
        for name in SIGNATURES:
            impl = getattr(self, f"_{name}", None)
            linker.define_func(MODULE, name, func_type(name), self._wrap(name, impl), True)

    def _mem(self, caller: wasmtime.Caller) -> _Mem:
        return _Mem(caller, self.io.memory)

    def bind(self, io: RunIO | None) -> None:
        self._local.io = io

    @property
    def io(self) -> RunIO:
        io: RunIO | None = getattr(self._local, "io", None)
        if io is None:
            raise RuntimeError("no run bound to this thread")
        return io

    def _wrap(self, name: str, impl: Callable[..., int] | None) -> Callable[..., int | None]:
        denied = ERRNO_NOTCAPABLE
        # wasmtime passes i32/i64 as signed ints; WASI means them unsigned.
        masks = [_MASKS[p] for p in SIGNATURES[name][0]]

        def call(caller: wasmtime.Caller, *args: int) -> int | None:
            _charge(caller, CALL_FUEL)
            if impl is None:
                return denied
            try:
                return impl(caller, *(a & m for a, m in zip(args, masks, strict=True)))
            except _Fault:
                return ERRNO_FAULT
            except _Invalid:
                return ERRNO_INVAL

        call.__name__ = name
        return call

    # --- args and environment -------------------------------------------------

    def _write_strings(
        self, caller: wasmtime.Caller, items: list[bytes], ptrs: int, buf: int
    ) -> int:
        mem = self._mem(caller)
        offset = buf
        for i, item in enumerate(items):
            mem.u32(ptrs + 4 * i, offset)
            mem.write(offset, item + b"\0")
            offset += len(item) + 1
        return ERRNO_SUCCESS

    def _write_sizes(
        self, caller: wasmtime.Caller, items: list[bytes], count: int, size: int
    ) -> int:
        mem = self._mem(caller)
        mem.u32(count, len(items))
        mem.u32(size, sum(len(item) + 1 for item in items))
        return ERRNO_SUCCESS

    def _args_get(self, caller: wasmtime.Caller, argv: int, buf: int) -> int:
        return self._write_strings(caller, self.io.args, argv, buf)

    def _args_sizes_get(self, caller: wasmtime.Caller, count: int, size: int) -> int:
        return self._write_sizes(caller, self.io.args, count, size)

    def _environ_get(self, caller: wasmtime.Caller, environ: int, buf: int) -> int:
        return self._write_strings(caller, self.io.env, environ, buf)

    def _environ_sizes_get(self, caller: wasmtime.Caller, count: int, size: int) -> int:
        return self._write_sizes(caller, self.io.env, count, size)

    # --- clocks, randomness, scheduling ---------------------------------------

    def _clock_res_get(self, caller: wasmtime.Caller, clock_id: int, out: int) -> int:
        if clock_id not in (0, 1, 2, 3):
            return ERRNO_INVAL
        self._mem(caller).u64(out, 1_000_000_000)
        return ERRNO_SUCCESS

    def _clock_time_get(self, caller: wasmtime.Caller, clock_id: int, _prec: int, out: int) -> int:
        if clock_id in (0, 1):  # realtime, monotonic: frozen at the block timestamp
            self._mem(caller).u64(out, self.io.clock_ns)
        elif clock_id in (2, 3):  # process / thread CPU time: always zero
            self._mem(caller).u64(out, 0)
        else:
            return ERRNO_INVAL
        return ERRNO_SUCCESS

    def _random_get(self, caller: wasmtime.Caller, buf: int, length: int) -> int:
        mem = self._mem(caller)
        mem.check(buf, length)
        _charge(caller, length)
        mem.write(buf, self.io.random.read(length))
        return ERRNO_SUCCESS

    def _sched_yield(self, caller: wasmtime.Caller) -> int:
        return ERRNO_SUCCESS

    def _poll_oneoff(self, caller: wasmtime.Caller, *_args: int) -> int:
        return ERRNO_NOTSUP

    def _proc_exit(self, caller: wasmtime.Caller, code: int) -> None:
        raise ProcExit(code & 0xFFFFFFFF)

    def _proc_raise(self, caller: wasmtime.Caller, _signal: int) -> int:
        return ERRNO_NOTSUP

    # --- the three standard streams -------------------------------------------

    def _fd_read(self, caller: wasmtime.Caller, fd: int, iovs: int, count: int, out: int) -> int:
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

    def _fd_write(self, caller: wasmtime.Caller, fd: int, iovs: int, count: int, out: int) -> int:
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

    def _fd_fdstat_get(self, caller: wasmtime.Caller, fd: int, out: int) -> int:
        if fd not in (0, 1, 2):
            return ERRNO_BADF
        rights = RIGHTS_FD_READ if fd == 0 else RIGHTS_FD_WRITE
        self._mem(caller).write(
            out, struct.pack("<BxHxxxxQQ", FILETYPE_CHARACTER_DEVICE, 0, rights, 0)
        )
        return ERRNO_SUCCESS

    def _fd_filestat_get(self, caller: wasmtime.Caller, fd: int, out: int) -> int:
        if fd not in (0, 1, 2):
            return ERRNO_BADF
        stat = bytearray(64)
        stat[16] = FILETYPE_CHARACTER_DEVICE
        self._mem(caller).write(out, bytes(stat))
        return ERRNO_SUCCESS

    def _std_only(self, fd: int, ok: int) -> int:
        return ok if fd in (0, 1, 2) else ERRNO_BADF

    def _fd_close(self, caller: wasmtime.Caller, fd: int) -> int:
        return self._std_only(fd, ERRNO_SUCCESS)

    def _fd_sync(self, caller: wasmtime.Caller, fd: int) -> int:
        return self._std_only(fd, ERRNO_SUCCESS)

    def _fd_datasync(self, caller: wasmtime.Caller, fd: int) -> int:
        return self._std_only(fd, ERRNO_SUCCESS)

    def _fd_fdstat_set_flags(self, caller: wasmtime.Caller, fd: int, _flags: int) -> int:
        return self._std_only(fd, ERRNO_NOTSUP)

    def _fd_seek(self, caller: wasmtime.Caller, fd: int, _off: int, _wh: int, _out: int) -> int:
        return self._std_only(fd, ERRNO_SPIPE)

    def _fd_tell(self, caller: wasmtime.Caller, fd: int, _out: int) -> int:
        return self._std_only(fd, ERRNO_SPIPE)

    def _fd_prestat_get(self, caller: wasmtime.Caller, fd: int, _out: int) -> int:
        return ERRNO_BADF  # no preopened directories: ends libc's preopen scan

    def _fd_prestat_dir_name(self, caller: wasmtime.Caller, fd: int, _p: int, _n: int) -> int:
        return ERRNO_BADF
