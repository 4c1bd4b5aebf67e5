"""`python -m benchmarks [--smoke] [--only GROUP ...] [--runs N] [--output PATH]`."""
from __future__ import annotations

import sys

from .runner import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
