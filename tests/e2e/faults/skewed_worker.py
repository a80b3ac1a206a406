"""A worker node whose wall clock runs ``PEERHOST_FAULT_SKEW`` seconds off (``+`` ahead), for the
clock-skew scenario: ``python skewed_worker.py`` takes the same flags and environment as ``python
-m peerhost.worker``. The whole process sees the skewed ``time.time()`` (patched before anything
else is imported); monotonic clocks are untouched, as on a machine whose clock is set wrong.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

#: What :func:`peerhost.worker.launcher.start_worker` runs to start this node.
PROGRAM = (str(Path(__file__).resolve()),)
SKEW_ENV = "PEERHOST_FAULT_SKEW"

if __name__ == "__main__":
    skew = float(os.environ.get(SKEW_ENV, "0"))
    real = time.time
    time.time = lambda: real() + skew

    from peerhost.worker.cli import main

    sys.exit(main())
