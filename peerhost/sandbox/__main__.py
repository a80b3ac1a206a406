"""Run a function once from the command line.

    peerhost-sandbox js examples/functions/orders-create.js \\
        --method POST --body '{"customer":"a","items":[{"sku":"A","qty":1,"price_cents":5}]}'

A ``--body`` that parses as JSON is sent with ``content-type: application/json``
unless a ``--header content-type:…`` says otherwise (so a js ``req.body`` is the
parsed object). As at the gateway, a function receives only the allow-listed
headers and those it declares (project.json ``"headers"``): ``--declare NAME``
declares one, and a ``--header`` that would not reach the function is reported
on stderr. A js file that imports modules is bundled first, as publishing
bundles it (project modules and npm packages in, Node built-ins refused), so
its stack traces name the original files and lines.

Prints the envelope (the bytes workers hash) and its keccak256 on stdout, and
the function's log on stderr. Exits 0 when the envelope is a success, 1 when
it is a failure, 2 when a js file's imports cannot be bundled (nothing ran).

A ``clf`` source (Chainlink Functions style) takes its ``args`` and ``bytesArgs`` from
``--arg TEXT`` and ``--bytes-arg 0xHEX`` (repeatable; they become the JSON body), its
``secrets`` from ``--env``::

    peerhost-sandbox clf examples/clf/functions/price.js --arg ETH --arg 2 --env API_KEY=dev
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from peerhost.sandbox.limits import Limits
from peerhost.sandbox.request import RunRequest
from peerhost.sandbox.sandbox import Sandbox
from peerhost.wire.clf import json_args
from peerhost.wire.request import allowed_headers, canonical_request


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="peerhost-sandbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("runtime", choices=["wasi", "js", "python", "clf"])
    parser.add_argument("code", type=Path, help="the function's code file")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--path", default="/")
    parser.add_argument("--body", default="", help="request body, or @FILE")
    parser.add_argument("--query", action="append", default=[], metavar="K=V")
    parser.add_argument("--header", action="append", default=[], metavar="NAME:VALUE")
    parser.add_argument(
        "--declare",
        action="append",
        default=[],
        metavar="NAME",
        help='a request header the function declares (project.json "headers")',
    )
    parser.add_argument(
        "--arg",
        action="append",
        default=None,
        metavar="TEXT",
        help='clf: one of the source\'s args (the body becomes {"args": [...], "bytesArgs": [...]})',
    )
    parser.add_argument(
        "--bytes-arg", action="append", default=None, metavar="0xHEX", help="clf: one of bytesArgs"
    )
    parser.add_argument("--env", action="append", default=[], metavar="K=V")
    parser.add_argument("--request-id", default="0x" + "00" * 32)
    parser.add_argument("--timestamp", type=int, default=0, help="block timestamp (s)")
    parser.add_argument("--fuel", type=int, default=Limits().fuel)
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/wasm"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """``peerhost-sandbox`` (also ``python -m peerhost.sandbox``)."""
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    body = Path(args.body[1:]).read_bytes() if args.body.startswith("@") else args.body.encode()
    if args.arg is not None or args.bytes_arg is not None:
        if body:
            print("peerhost-sandbox: pass --body or --arg/--bytes-arg, not both", file=sys.stderr)
            return 2
        try:
            bytes_args = [bytes.fromhex(b.removeprefix("0x")) for b in args.bytes_arg or []]
        except ValueError:
            print("peerhost-sandbox: --bytes-arg takes 0x-prefixed hex", file=sys.stderr)
            return 2
        body = json_args(args.arg or [], bytes_args)
    query: dict[str, list[str]] = {}
    for item in args.query:
        key, _, value = item.partition("=")
        query.setdefault(key, []).append(value)
    headers = {k.strip(): v.strip() for k, v in (h.split(":", 1) for h in args.header)}
    if body and not any(k.lower() == "content-type" for k in headers) and _is_json(body):
        headers["content-type"] = "application/json"
    declared = tuple(d.strip().lower() for d in args.declare)
    for name in sorted({k.lower() for k in headers} - set(allowed_headers(headers, declared))):
        print(
            f"peerhost-sandbox: header {name!r} does not reach the function: it receives only "
            f'allow-listed headers and those it declares (project.json "headers"); '
            f"pass --declare {name}",
            file=sys.stderr,
        )
    request_id = bytes.fromhex(args.request_id.removeprefix("0x"))
    payload = canonical_request(
        args.method,
        args.path,
        {k: v[0] if len(v) == 1 else v for k, v in query.items()},
        headers,
        body,
        request_id=request_id,
        block_timestamp=args.timestamp,
        wallet="0x" + "00" * 20,
        project="local",
        function=args.code.stem,
        extra_headers=declared,
    )
    code = args.code.read_bytes()
    if args.runtime == "js" and _IMPORTS.search(code):
        from peerhost.jsbundle import BundleFailed, bundle_js

        try:
            code = bundle_js(args.code, _project_root(args.code))
        except BundleFailed as refused:
            print(f"peerhost-sandbox: {refused}", file=sys.stderr)
            return 2
    result = Sandbox(cache_dir=args.cache_dir).run(
        RunRequest(
            runtime=args.runtime,
            code=code,
            code_id=str(args.code),
            input=payload,
            env=dict(e.split("=", 1) for e in args.env),
            request_id=request_id,
            block_timestamp=args.timestamp,
            limits=Limits(fuel=args.fuel),
        )
    )
    sys.stderr.buffer.write(result.logs)
    print(result.envelope.decode())
    print(f"resultHash 0x{result.result_hash.hex()} committable={result.committable}")
    return 0 if result.decoded.ok else 1


#: A static ``import`` or ``export … from`` at the start of a line.
_IMPORTS = re.compile(
    rb"^[ \t]*(import([ \t]+[\w{*]|[ \t]*[{*\"'])|export[^\n;]*\bfrom[ \t]*[\"'])", re.M
)


def _project_root(code: Path) -> Path:
    """The project folder of a function file: the nearest folder with a project.json, else the
    folder holding ``functions/``, else the file's own folder."""
    folder = code.resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / "project.json").is_file():
            return candidate
    return folder.parent if folder.name == "functions" else folder


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
