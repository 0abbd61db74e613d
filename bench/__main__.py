"""`python -m bench`: the figures of issue 17 in one command (see bench/README.md).

It runs as `python -m bench.harness`, so that `pgrep -f "bench\\."` (how this machine's users see
that a benchmark is running) finds it.
"""

import os
import sys

os.execv(sys.executable, [sys.executable, "-m", "bench.harness", *sys.argv[1:]])  # noqa: S606
