"""Single-shot: the Compare tab's, the challenges' and the sweep's runs in this process against through a worker
(opened, followed to the end and read back), ms, median [min–max] of 7: `python -m benchmarks.worker_trip`.

What ui/page/state.py's rule rests on (NumPy and exact runs of at most 500 steps stay in the page's process,
everything else trains in a worker when the deployment has workers); BENCHMARKS.md's workshop section quotes it.
"""
from __future__ import annotations

import statistics
import time
from typing import Callable

from fitcore import Run, RunConfig, WorkerPool

JOBS = (
    ("recovery, exact SGD, 1,000,001 steps (the sweep's)",
     RunConfig.notebook("quadratic-recovery", impl="analytic", dtype="float64", steps=1_000_001)),
    ("recovery, exact momentum, 100,000 steps (the sweep's)",
     RunConfig.notebook("quadratic-recovery", impl="analytic", dtype="float64", optimizer="momentum", steps=100_000)),
    ("sine-cubic, exact, 2,000 steps (a reference)",
     RunConfig.notebook("sine-cubic", impl="analytic", dtype="float64", steps=2000)),
    ("sine-cubic, NumPy eager, 2,000 steps (frameworks)", RunConfig.notebook("sine-cubic", impl="numpy", steps=2000)),
    ("sine-cubic, NumPy Gram, 20,000 steps (optimizers)",
     RunConfig.notebook("sine-cubic", impl="numpy", compiled=True, steps=20_000)),
    ("sine-cubic, NumPy Gram Adam, 5,000 steps (the sweep's loop)",
     RunConfig.notebook("sine-cubic", impl="numpy", compiled=True, optimizer="adam", lr=0.01, steps=5000)),
    ("quadratic-bias, NumPy, 2,000 steps (a challenge)",
     RunConfig.notebook("quadratic-bias", impl="numpy", lr=0.0005, steps=2000)),
)


def _ms(run_once: Callable[[], None], runs: int = 7) -> str:
    values = []
    for _ in range(runs):
        began = time.perf_counter()
        run_once()
        values.append(1e3 * (time.perf_counter() - began))
    return f"{statistics.median(values):.1f} [{min(values):.1f}–{max(values):.1f}]"


def main() -> None:
    pool = WorkerPool(1).start()
    try:
        pool.open(RunConfig.notebook("linear-2x")).advance()  # the worker is up before timing
        for label, config in JOBS:
            def here(config: RunConfig = config) -> None:
                for _ in Run(config).follow(0.1):
                    pass

            def there(config: RunConfig = config) -> None:
                for _ in pool.open(config).follow(0.1):
                    pass

            print(f"{label}: in this process {_ms(here)} ms / through a worker {_ms(there)} ms")
    finally:
        pool.shutdown()


if __name__ == "__main__":
    main()
