"""Steps per second against the number of points, per implementation and device: where an accelerator pays.

One point of the sweep builds sine-cubic's data at that size and one implementation's stepper on one
device, compiles it if asked (not timed), and times runs of a fixed number of steps, chosen so a run
lasts about ``seconds``. Every run ends with the losses read back to the host, so a device's queued
work is inside the time. The stepper is timed alone (no engine, no history), so the figures compare
devices, not bookkeeping; the data are any size the device holds, beyond what a page allows on the CPU.

The reference table is the H200 measurement that issue 14 quotes (seed 003's autograd loop on
sine-cubic in float32, the CPU column limited to 2 threads): it is what an accelerator would add on
a machine that has none.
"""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from .device import memory_problem, resolve_device
from .impl import IMPLEMENTATIONS, StepSettings, is_available, make_stepper
from .problems import PROBLEMS, get_problem, make_dataset

# The demo about many points (the first whose points may grow on an accelerator): sine-cubic, the fit the
# H200 table below was measured on.
SWEEP_PROBLEM = next(problem.id for problem in PROBLEMS.values() if problem.grows_on_accelerator)
SWEEP_DTYPE = "float32"
# The mean loss with seed 003's rate times its 2,000 points: the same steps as the notebook's summed loss
# at 2,000 points, and stable at any size (the summed loss's curvature grows with the points).
SWEEP_LR = 2e-3
PAGE_POINTS = (2_000, 20_000, 100_000)  # the Speed page on the CPU: up to sine-cubic's own limit
DEVICE_POINTS = (2_000, 20_000, 200_000, 2_000_000, 20_000_000)  # the table
TORCH_STYLES = ("torch-manual", "torch-autograd", "torch-nn")
COMPILED_CHUNK = 8  # fitcore.impl.torch_compiled.UNROLL: steps per compiled call

H200_SOURCE = ("issue 14: an NVIDIA H200 with torch 2.11 + CUDA 13, seed 003's autograd loop on sine-cubic, "
               "float32, µs per step; the CPU column limited to 2 threads like the machines the app runs on")
H200_COLUMNS = ("CPU, 2 threads", "CUDA, eager", "CUDA graph of 100 steps, hand-written gradient")


@dataclass(frozen=True)
class ReferenceRow:
    points: int
    cpu_us: float
    cuda_eager_us: float
    cuda_graph_us: float


H200_TABLE: tuple[ReferenceRow, ...] = (
    ReferenceRow(2_000, 226, 621, 8.95),
    ReferenceRow(20_000, 284, 678, 9.79),
    ReferenceRow(200_000, 2_570, 589, 18.5),
    ReferenceRow(2_000_000, 26_964, 671, 92.9),
    ReferenceRow(20_000_000, 564_780, 998, 1_074),
)


@dataclass(frozen=True)
class SweepEntry:
    """One line of the sweep: an implementation, eager or compiled, on one device."""

    impl: str
    compiled: bool
    device: str

    @property
    def label(self) -> str:
        names = {"numpy": "NumPy", "torch-manual": "PyTorch by hand", "torch-autograd": "PyTorch autograd",
                 "torch-nn": "PyTorch nn + optim"}
        path = ("Gram" if self.impl == "numpy" else "compiled") if self.compiled else "eager"
        return f"{names.get(self.impl, self.impl)} · {path} · {self.device}"


@dataclass(frozen=True)
class SweepPoint:
    entry: SweepEntry
    points: int
    samples_us: tuple[float, ...] = ()  # µs per step, one per timed run
    steps_per_run: int = 0
    error: str | None = None

    @property
    def microseconds_per_step(self) -> float:
        return float(statistics.median(self.samples_us)) if self.samples_us else float("nan")

    @property
    def steps_per_second(self) -> float:
        us = self.microseconds_per_step
        return 1e6 / us if us > 0 else float("nan")


def sweep_entries(devices: Sequence[str], compiled: bool = True, numpy: bool = False) -> tuple[SweepEntry, ...]:
    """Every installed PyTorch style, eager (and compiled), on each device; NumPy's loop on the CPU if asked."""
    entries = [SweepEntry("numpy", False, "cpu")] if numpy and "cpu" in devices else []
    for device in devices:
        for impl in TORCH_STYLES:
            if is_available(impl):
                entries += [SweepEntry(impl, kind, device) for kind in ((False, True) if compiled else (False,))]
    return tuple(entries)


def _run_seconds(stepper: object, steps: int) -> float:
    started = time.perf_counter()
    stepper.run(steps)  # returns NumPy arrays: waits for the device's queued work
    return time.perf_counter() - started


def measure_point(entry: SweepEntry, points: int, seconds: float = 0.2, runs: int = 3,
                  problem_id: str = SWEEP_PROBLEM) -> SweepPoint:
    """Time one entry at one size of a demo's data: µs per step over ``runs`` runs of about ``seconds`` each."""
    problem = get_problem(problem_id)
    device = resolve_device(entry.device)
    too_big = memory_problem(points, problem.n_params, SWEEP_DTYPE, device, IMPLEMENTATIONS[entry.impl].framework)
    if too_big is not None:
        return SweepPoint(entry, points, error=too_big)
    try:
        data = make_dataset(problem, 0, points, 0.0, SWEEP_DTYPE)
        settings = StepSettings(optimizer="sgd", lr=SWEEP_LR, reduction="mean", total_steps=10**9,
                                compiled=entry.compiled, device=device)
        stepper = make_stepper(entry.impl, data, settings)
        stepper.warmup()  # compiles (not timed)
        # A compiled call always computes a whole chunk of steps: time whole chunks, or one step would
        # be charged for eight.
        steps = COMPILED_CHUNK if entry.compiled and entry.impl != "numpy" else 1
        _run_seconds(stepper, steps)  # the first run also pays one-time allocations
        elapsed = min(_run_seconds(stepper, steps) for _ in range(2))  # a hiccup must not fix the count
        while elapsed < seconds and steps < 1 << 20:
            steps = max(steps * 2, min(steps * 16, int(steps * seconds / max(elapsed, 1e-9))))
            steps += -steps % COMPILED_CHUNK if entry.compiled else 0
            elapsed = min(_run_seconds(stepper, steps) for _ in range(2 if elapsed < seconds / 4 else 1))
        samples = [_run_seconds(stepper, steps) for _ in range(runs)]
        return SweepPoint(entry, points, tuple(1e6 * s / steps for s in samples), steps)
    except Exception as error:  # one size too large for a device must not end the sweep
        return SweepPoint(entry, points, error=f"{type(error).__name__}: {str(error).splitlines()[0][:200]}")


@dataclass(frozen=True)
class SweepProgress:
    done: int
    total: int
    label: str
    point: SweepPoint | None  # set once a point has just been measured


def sweep(entries: Sequence[SweepEntry], sizes: Sequence[int], seconds: float = 0.2, runs: int = 3,
          measure: Callable[[SweepEntry, int, float, int], SweepPoint] = measure_point) -> Iterator[SweepProgress]:
    """Measure every entry at every size, smallest first, yielding progress before and after each point.
    ``measure`` is ``measure_point`` wherever it runs (a worker process, so the framework loads there)."""
    jobs = [(entry, points) for entry in entries for points in sizes]
    for index, (entry, points) in enumerate(jobs):
        label = f"{entry.label}, {points:,} points"
        yield SweepProgress(index, len(jobs), label, None)
        try:
            point = measure(entry, points, seconds, runs)
        except Exception as error:  # where it ran failed (a worker that died): this point says so, the rest go on
            point = SweepPoint(entry, points, error=f"{type(error).__name__}: {str(error).splitlines()[0][:200]}")
        yield SweepProgress(index + 1, len(jobs), label, point)


def crossover(cpu: dict[int, float], accelerated: dict[int, float]) -> int | None:
    """The fewest points from which the accelerator's µs per step beats the CPU's at every larger size
    measured on both; None when it never does."""
    sizes = sorted(set(cpu) & set(accelerated))
    faster = [n for n in sizes if math.isfinite(accelerated[n]) and accelerated[n] < cpu[n]]
    for index, points in enumerate(sizes):
        if all(n in faster for n in sizes[index:]):
            return points
    return None


def reference_crossover() -> int | None:
    """Where eager CUDA starts to beat the 2-thread CPU in the H200 table."""
    return crossover({r.points: r.cpu_us for r in H200_TABLE}, {r.points: r.cuda_eager_us for r in H200_TABLE})
