"""Run in a fresh process by the determinism tests: prints envelope hashes as JSON.

Usage: python determinism_probe.py CACHE_DIR
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from sandbox_helpers import example_requests, load_corpus

from peerhost.sandbox import Sandbox


def probe(cache_dir: Path) -> dict[str, str]:
    sandbox = Sandbox(cache_dir=cache_dir)
    requests = {**example_requests(), **{c.name: c.request for c in load_corpus()}}
    return {
        name: hashlib.sha256(sandbox.run(request).envelope).hexdigest()
        for name, request in sorted(requests.items())
    }


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1])), sort_keys=True))
