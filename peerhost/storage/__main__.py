"""Command line: ``python -m peerhost.storage cid|put|get ...``.

python -m peerhost.storage cid functions/orders-create.wasm
python -m peerhost.storage put --store ipfs:http://127.0.0.1:5001 functions/orders-create.wasm
python -m peerhost.storage get --store local:.peerhost/store bafk... -o code.wasm
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from peerhost.storage.cid import cid_to_bytes
from peerhost.storage.errors import StorageError
from peerhost.storage.spec import DEFAULT_STORE_SPEC, open_store
from peerhost.storage.unixfs import compute_cid


def main(argv: list[str] | None = None) -> int:
    """Run one command; print CIDs (and their on-chain hex) or content."""
    parser = argparse.ArgumentParser(prog="python -m peerhost.storage", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    cid = commands.add_parser("cid", help="print the CID of files (no store needed)")
    cid.add_argument("files", nargs="+", type=Path)
    put = commands.add_parser("put", help="store files, print their CIDs")
    put.add_argument("files", nargs="+", type=Path)
    get = commands.add_parser("get", help="fetch verified content by CID")
    get.add_argument("cid")
    get.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    for command in (put, get):
        command.add_argument("--store", default=DEFAULT_STORE_SPEC, help="store spec")
    args = parser.parse_args(argv)
    try:
        if args.command == "cid":
            for path in args.files:
                _print(compute_cid(path.read_bytes()), path)
        elif args.command == "put":
            store = open_store(args.store)
            for path in args.files:
                _print(store.put(path.read_bytes()), path)
        else:
            data = open_store(args.store).get(args.cid)
            if args.output:
                args.output.write_bytes(data)
            else:
                sys.stdout.buffer.write(data)
    except (StorageError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _print(cid: str, path: Path) -> None:
    print(f"{cid}  0x{cid_to_bytes(cid).hex()}  {path}")


if __name__ == "__main__":
    raise SystemExit(main())
