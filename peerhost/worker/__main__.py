"""``python -m peerhost.worker`` (see :mod:`peerhost.worker.cli`)."""

from __future__ import annotations

import sys

from peerhost.worker.cli import main

if __name__ == "__main__":
    sys.exit(main())
