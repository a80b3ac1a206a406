"""``python -m peerhost.chain.export_abis``: refresh the package's ``abis.json`` after
``ape compile`` (see :mod:`peerhost.chain.abis`)."""

from __future__ import annotations

import sys

from peerhost.chain.abis import export

if __name__ == "__main__":
    print(f"wrote {export()}", file=sys.stderr)
