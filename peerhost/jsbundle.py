"""Bundling a js function: the file and what it imports, into one ES module.

A js function may import the project's own modules (``../lib/*.js``) and npm packages (from the
``node_modules`` folder nearest to it). Publishing runs esbuild (npm, pinned in package.json and
installed by ``bin/setup``) through ``tools/bundle/bundle.mjs``: the result is one ES module with
an inline source map (paths relative to the project folder, no sources content), so the runtime
maps stack traces back to the original files and lines. Imports that cannot run in the sandbox
(Node built-ins such as ``fs``, ``net``, ``child_process``) are refused with the import and the
file that makes it. The bundle is deterministic: the same files give the same bytes (and CID).

Publishing (``peerhost.publishing``) and the ``peerhost-sandbox`` command both bundle through
here, so this module depends on neither.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from peerhost.errors import PeerHostError

#: Seconds one bundling may take (esbuild itself takes milliseconds).
BUNDLE_TIMEOUT = 60.0
_TOOL = Path(__file__).resolve().parents[1] / "tools" / "bundle" / "bundle.mjs"


class BundleFailed(PeerHostError, ValueError):
    """A js function and its imports could not be bundled into one module."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        listed = "\n  ".join(problems) or "esbuild reported no details"
        super().__init__(f"Cannot bundle {path.name} with its imports:\n  {listed}")


def bundle_js(entry: Path, root: Path, banner: str = "") -> bytes:
    """Bundles ``entry`` (a function file inside project folder ``root``) into one ES module.

    ``banner`` (one line, e.g. the function's declarations) becomes the bundle's first line.

    Raises:
        BundleFailed: an import is refused or cannot be resolved, the code does not parse,
            or node/esbuild is missing (with what to do about it).
    """
    node = shutil.which("node")
    if node is None:
        raise BundleFailed(entry, ["node is not on PATH: run bin/setup, then . bin/env"])
    try:
        done = subprocess.run(
            [node, str(_TOOL), str(entry), str(root), *([banner] if banner else [])],
            capture_output=True,
            timeout=BUNDLE_TIMEOUT,
            check=False,
            env={**os.environ, "NODE_OPTIONS": ""},
        )
    except subprocess.TimeoutExpired:
        raise BundleFailed(entry, [f"esbuild took longer than {BUNDLE_TIMEOUT:.0f} s"]) from None
    try:
        result = json.loads(done.stdout)
    except ValueError:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        hint = "is esbuild installed? run bin/setup"
        raise BundleFailed(entry, [detail[-1] if detail else hint, hint]) from None
    if not result.get("ok"):
        raise BundleFailed(entry, [_where(error) for error in result.get("errors", [])])
    return str(result["code"]).encode("utf-8")


def _where(error: dict[str, object]) -> str:
    text = str(error.get("text"))
    if error.get("file"):
        return f"{error['file']}:{error.get('line')}:{error.get('column')}: {text}"
    return text
