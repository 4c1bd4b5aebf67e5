"""History memory against the step count: a run keeps at most 2,000 recorded points, however long it is.

For runs of 10,000, 100,000 and 1,000,000 steps (the exact engine, and NumPy's Gram loop), the bytes
held by ``run.history`` (its step, loss and θ lists, counted object by object) and by the notebook
log; for the exact engine also the peak of Python allocations while the run trained (tracemalloc, which
would slow a Python loop several times over), bounded by one chunk's buffers, not by the step count.
The server's peak resident memory is in the live group.
"""
from __future__ import annotations

import sys
import tracemalloc
from typing import Any

from fitcore import HISTORY_CAP, Run, RunConfig

from .stats import Section, stat

STEP_COUNTS = (10_000, 100_000, 1_000_000)
SMOKE_COUNTS = (3_000, 30_000)  # both above the cap, so the check still means something


def deep_bytes(items: list[Any]) -> int:
    """A list's own size plus each element's (a NumPy array's getsizeof includes the data it owns)."""
    return sys.getsizeof(items) + sum(sys.getsizeof(item) for item in items)


def history_bytes(run: Run) -> int:
    history = run.history
    held = deep_bytes(history.steps) + deep_bytes(history.losses) + deep_bytes(history.params)
    log = sum(sys.getsizeof(line.text) + (line.params.nbytes if line.params is not None else 0) for line in run.log)
    return held + log + history.plan.nbytes


def measure(config: RunConfig, trace: bool) -> tuple[int, int, float]:
    """(recorded points, history bytes, peak traced MB while training, or NaN when not traced: tracing
    every allocation slows a Python loop of a million steps several times over)."""
    run = Run(config)
    run.prepare()
    if trace:
        tracemalloc.start()
    run.advance()
    peak = tracemalloc.get_traced_memory()[1] / 1e6 if trace else float("nan")
    if trace:
        tracemalloc.stop()
    return len(run.history), history_bytes(run), peak


def run_group(runs: int, smoke: bool) -> Section:
    section = Section("memory", "History memory against the step count")
    section.notes.append(__doc__.split("\n\n", 1)[1].replace("\n", " "))
    counts = SMOKE_COUNTS if smoke else STEP_COUNTS
    for impl, compiled in (("analytic", False), ("numpy", True)):
        sizes = {}
        for steps in counts:
            config = RunConfig.notebook("quadratic-recovery", impl=impl, compiled=compiled, steps=steps)
            trace = impl == "analytic"
            samples = [measure(config, trace) for _ in range(runs)]
            points = samples[0][0]
            kilobytes = stat([s[1] / 1e3 for s in samples], "kB")
            sizes[steps] = kilobytes.median
            label = "exact engine" if impl == "analytic" else "NumPy Gram loop"
            peak = f"; peak traced allocations while training {stat([s[2] for s in samples], 'MB').text()}" \
                if trace else ""
            section.add(f"{label}, {steps:,} steps: history + log", kilobytes,
                        note=f"{points:,} recorded points (cap {HISTORY_CAP:,}){peak}")
        smallest, largest = sizes[counts[0]], sizes[counts[-1]]
        growth = largest / smallest if smallest else float("inf")
        section.add(f"{'exact engine' if impl == 'analytic' else 'NumPy Gram loop'}: history at {counts[-1]:,} ÷ at "
                    f"{counts[0]:,} steps", f"{growth:.2f}×", "independent of the step count (≤ 1.5×)",
                    growth <= 1.5)
    return section
