"""Jobs no chain announced and a tiny wasi command, for the worker's unit tests."""

from __future__ import annotations

import wasmtime

from peerhost.storage import cid_to_bytes
from peerhost.wire.ticket import input_hash_of
from peerhost.worker.job import Job

#: A GET request's input (what the gateway sends for a plain call).
GET = b'{"method":"GET"}'

#: The requester of every job here (the devnet's developer account).
REQUESTER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def wasi_printing(text: bytes) -> bytes:
    """A wasi command writing ``text`` (a JSON response: the ``echo`` shape) to stdout."""
    escaped = "".join(f"\\{b:02x}" for b in text)
    return bytes(
        wasmtime.wat2wasm(f"""(module
          (import "wasi_snapshot_preview1" "fd_write"
            (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 64) "{escaped}")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 64))
            (i32.store (i32.const 4) (i32.const {len(text)}))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))""")
    )


def local_job(n: int = 1, code_cid: str = "", runtime: str = "js", data: bytes = b"{}") -> Job:
    """Job ``n`` (its request id is ``n`` repeated, so ``n`` < 256) of ``runtime`` code
    ``code_cid`` (a CID string; none for jobs that never reach the store) on ``data``."""
    return Job(
        request_id=bytes([n]) * 32,
        function_id=b"\x02" * 32,
        requester=REQUESTER,
        version=1,
        runtime=runtime,
        code_cid=cid_to_bytes(code_cid) if code_cid else b"",
        fuel_limit=10_000_000,
        memory_limit=16 * 2**20,
        mode=0,
        input=data,
        input_cid=b"",
        input_hash=input_hash_of(data),
        reward=10**15,
        requested_at=1_700_000_000,
        commit_deadline=0,
        reveal_deadline=0,
        reply_to=b"",
    )
