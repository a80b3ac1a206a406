"""Content-store throughput: put / get / verify for 1 KB, 1 MB and 50 MB objects.

Prints one JSON document. ``verify`` is the CID check every read performs
(``content_matches``); ``local`` is the embedded store in a tmp dir (fsync on
every put); ``ipfs`` is a js-ipfs daemon through its RPC API (started here in a
tmp repo unless ``--ipfs URL`` is given; skipped with ``--ipfs none`` or when
js-ipfs is not installed).

    python bench/storage_bench.py [--ipfs auto|none|URL] [--sizes 1000,1000000,50000000]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from peerhost.storage import ContentStore, IpfsStore, LocalStore, compute_cid, content_matches
from peerhost.storage.daemon import find_jsipfs, start_daemon

DEFAULT_SIZES = (1_000, 1_000_000, 50_000_000)
BUDGET_BYTES = 200_000_000  # per (store, size, op): enough repetitions, bounded time
MAX_REPEAT = 200


def _repeat(size: int) -> int:
    return max(3, min(MAX_REPEAT, BUDGET_BYTES // max(size, 1)))


def _measure(op: Callable[[int], object], repeat: int, size: int) -> dict[str, float]:
    op(-1)  # warm-up
    started = time.perf_counter()
    for i in range(repeat):
        op(i)
    seconds = time.perf_counter() - started
    return {
        "repeat": repeat,
        "ms_per_op": round(seconds / repeat * 1000, 3),
        "ops_per_s": round(repeat / seconds, 1),
        "mb_per_s": round(repeat * size / seconds / 1e6, 1),
    }


def _bench_store(store: ContentStore, size: int) -> dict[str, Any]:
    repeat = _repeat(size)
    rng = random.Random(size)
    blobs = [rng.randbytes(size) for _ in range(min(repeat + 1, 4))]
    salt = iter(range(10**9))

    def fresh(_: int) -> bytes:  # distinct bytes each put, so nothing deduplicates
        data = bytearray(blobs[0])
        data[:8] = next(salt).to_bytes(8, "big")
        return bytes(data)

    put = _measure(lambda _: store.put(fresh(_)), repeat, size)
    cids = [store.put(blob) for blob in blobs]
    get = _measure(lambda i: store.get(cids[i % len(cids)]), repeat, size)
    return {"put": put, "get": get}


def _bench_verify(size: int) -> dict[str, Any]:
    data = random.Random(size).randbytes(size)
    cid = compute_cid(data)
    return {
        "compute_cid": _measure(lambda _: compute_cid(data), _repeat(size), size),
        "verify": _measure(lambda _: content_matches(data, cid), _repeat(size), size),
    }


@contextmanager
def _ipfs(choice: str, tmp: Path) -> Iterator[IpfsStore | None]:
    if choice == "none" or (choice == "auto" and find_jsipfs() is None):
        yield None
        return
    if choice != "auto":
        yield IpfsStore(choice, timeout=300, lookup_timeout=120)
        return
    with start_daemon(tmp / "ipfs") as daemon:
        yield IpfsStore(daemon.api_url, timeout=300, lookup_timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ipfs", default="auto", help="auto (start js-ipfs), none, or an API URL")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "sizes": sizes,
        "verify": {},
        "local": {},
        "ipfs": {},
    }
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="storage-bench-")))
        local = LocalStore(tmp / "local")
        ipfs = stack.enter_context(_ipfs(args.ipfs, tmp))
        if ipfs is not None:
            results["ipfs_version"] = ipfs.version().get("Version")
        for size in sizes:
            results["verify"][str(size)] = _bench_verify(size)
            results["local"][str(size)] = _bench_store(local, size)
            if ipfs is not None:
                results["ipfs"][str(size)] = _bench_store(ipfs, size)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
