"""Side-by-side runs: one setting on every implementation, every optimizer, or a learning-rate grid.

A comparison is planned first (which runs, on which path, with how many steps, and what was left
out and why), then run job by job through the ordinary engine, so each result is exactly what
``train`` gives for that job's configuration. ``run_plan`` yields progress after every short chunk:
a caller that draws between chunks stays responsive and may stop at any point. What the results
say (agreement with the float64 reference, the diverging region of a sweep) is
``fitcore.compare_report``'s; the phrases that label runs are ``fitcore.run_labels``'.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from .analytic import QuadraticLoss
from .config import MAX_LR, RunConfig, StopConditions
from .engine import Run
from .experiment import experiment_of
from .impl import IMPLEMENTATIONS, FrameworkMissing, is_available, missing_message
from .optim import OPTIMIZER_LABELS, OPTIMIZERS
from .run_labels import SHORT_NAMES
from .stopping import Limits

# Steps per run, chosen so each comparison takes seconds on a 2-core CPU once the frameworks are loaded
# (benchmarks/compare_timings.py measures them).
FRAMEWORK_MAX_STEPS = 2000        # six runs; the eager PyTorch styles take 0.1–0.5 ms a step
OPTIMIZER_MAX_STEPS = 20_000      # NumPy's Gram-matrix path, four optimizers
SWEEP_EXACT_MAX_STEPS = {"sgd": 1_000_001, "momentum": 100_000}  # seed 002's whole run; momentum costs ~10× sgd
SWEEP_LOOP_MAX_STEPS = 5_000      # RMSprop and Adam have no closed form: NumPy loop per grid point
SWEEP_POINTS = 12
SWEEP_DECADES_BELOW = 3.0         # the grid starts 1000× under 2/λmax …
SWEEP_DECADES_ABOVE = 0.8         # … and ends about 6× over it, past momentum's 3.8/λmax as well
CHUNK_SECONDS = 0.1


# --- plans and results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One run of a comparison: its key (implementation, optimizer or lr), label and settings."""

    key: str
    label: str
    config: RunConfig


@dataclass(frozen=True)
class Skipped:
    """A run left out of a comparison, and why (not installed, or the path does not apply)."""

    key: str
    label: str
    reason: str


@dataclass(frozen=True)
class Plan:
    kind: str                      # frameworks | optimizers | sweep
    config: RunConfig              # the settings the comparison was asked for
    jobs: tuple[Job, ...]
    skipped: tuple[Skipped, ...]
    steps: int                     # steps per run (after the cap)
    capped: bool                   # whether the cap cut the settings' steps
    path: str                      # which implementation ran and why, in words
    max_stable_lr: float           # 2/λmax of this data
    optimum_loss: float


@dataclass(frozen=True)
class Outcome:
    """What one job produced: the recorded history and how it ended (or why it could not run)."""

    job: Job
    steps: np.ndarray
    losses: np.ndarray
    params: np.ndarray
    status: str                    # completed | stopped | diverged | failed
    message: str
    diverged_at: int | None
    final_step: int
    final_loss: float
    initial_loss: float
    seconds: float                 # wall time including the framework import and any compilation

    @property
    def key(self) -> str:
        return self.job.key

    @property
    def label(self) -> str:
        return self.job.label

    @property
    def ran(self) -> bool:
        return self.status != "failed"

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"


@dataclass(frozen=True)
class Progress:
    done: int                      # jobs finished so far
    total: int
    label: str                     # the job running now (or just finished)
    fraction: float                # of the whole comparison, 0..1
    outcome: Outcome | None        # set once, when a job has just finished


@dataclass(frozen=True)
class Comparison:
    """A plan and the outcomes gathered so far (fewer than its jobs if it was interrupted)."""

    plan: Plan
    outcomes: tuple[Outcome, ...] = ()

    @property
    def complete(self) -> bool:
        return len(self.outcomes) == len(self.plan.jobs)

    def adding(self, outcome: Outcome) -> "Comparison":
        return Comparison(self.plan, self.outcomes + (outcome,))


def exact_applies(config: RunConfig) -> bool:
    """Whether the closed form reproduces these settings exactly (SGD with any schedule, momentum
    with a constant learning rate)."""
    return config.optimizer == "sgd" or (config.optimizer == "momentum" and config.schedule.is_constant)


def loss_of(config: RunConfig) -> QuadraticLoss:
    """The quadratic loss a configuration trains on (its shared experiment's)."""
    return experiment_of(config).quad


def _base(config: RunConfig, steps: int) -> RunConfig:
    # Comparisons run the step budget only: a stop condition would end runs at different steps.
    return config.replace(steps=steps, stop=StopConditions())


def _cap_note(config: RunConfig, steps: int, cap: int) -> str:
    note = f"{steps:,} steps per run"
    if config.steps > cap:
        note += f" (capped from {config.steps:,}; the cap keeps this to seconds)"
    if config.stop != StopConditions():
        note += " with the early-stop conditions off, so every run takes the same steps"
    return note


def plan_frameworks(config: RunConfig, max_steps: int = FRAMEWORK_MAX_STEPS,
                    available: Callable[[str], bool] = is_available) -> Plan:
    """The settings on every implementation, against a float64 reference run first.

    The reference is the closed form where it is exact, otherwise NumPy in float64. The other
    implementations run in the settings' dtype, eagerly as the notebooks do, except TensorFlow,
    whose XLA-compiled loop stands in for an eager loop of 2–5 ms a step (10 s for 2,000 steps).
    """
    steps = min(config.steps, max_steps)
    base = _base(config, steps).replace(compiled=False)
    exact = exact_applies(config)
    reference = Job("reference", "exact float64 trajectory" if exact else "NumPy float64 reference",
                    base.replace(impl="analytic" if exact else "numpy", dtype="float64"))
    jobs, skipped = [reference], []
    for impl_id in IMPLEMENTATIONS:
        label = SHORT_NAMES[impl_id]
        if impl_id == "analytic":
            if not exact:
                skipped.append(Skipped(impl_id, label, "does not apply: the closed form covers SGD (any schedule) "
                                                       "and momentum (constant learning rate) only"))
            continue
        if not available(impl_id):
            skipped.append(Skipped(impl_id, label, f"not installed: {missing_message(impl_id).split(': ', 1)[-1]}"))
            continue
        job_config = base.replace(impl=impl_id, compiled=impl_id == "tf-tape")
        if job_config == reference.config:
            skipped.append(Skipped(impl_id, label, "is the reference itself (NumPy in float64)"))
            continue
        jobs.append(Job(impl_id, label, job_config))
    if exact:
        against = "the exact closed-form trajectory (float64)"
    else:
        schedule = " with this schedule" if config.optimizer == "momentum" else ""
        against = f"a NumPy float64 run ({OPTIMIZER_LABELS[config.optimizer]}{schedule} has no closed form)"
    path = (f"{_cap_note(config, steps, max_steps)}, in {config.dtype}, against {against}. Eager loops as in the "
            "notebooks, except TensorFlow's XLA-compiled loop (its eager loop takes a few ms a step).")
    quad = loss_of(config)
    return Plan("frameworks", config, tuple(jobs), tuple(skipped), steps, config.steps > max_steps, path,
                quad.max_stable_lr, quad.optimum_loss)


def plan_optimizers(config: RunConfig, max_steps: int = OPTIMIZER_MAX_STEPS) -> Plan:
    """SGD, momentum, RMSprop and Adam at the settings' learning rate, same data and start, on NumPy."""
    steps = min(config.steps, max_steps)
    base = _base(config, steps).replace(impl="numpy", compiled=True)
    jobs = tuple(Job(opt, OPTIMIZER_LABELS[opt], base.replace(optimizer=opt)) for opt in OPTIMIZERS)
    path = (f"NumPy (Gram-matrix path) in {config.dtype} at lr {config.lr:g}, {_cap_note(config, steps, max_steps)}. "
            "The Frameworks tab shows the implementations agree, so one fast one stands for all.")
    quad = loss_of(config)
    return Plan("optimizers", config, jobs, (), steps, config.steps > max_steps, path, quad.max_stable_lr,
                quad.optimum_loss)


def sweep_grid(config: RunConfig, max_stable_lr: float, points: int = SWEEP_POINTS) -> np.ndarray:
    """A log grid from well below 2/λmax to past it, plus the settings' own learning rate.

    SGD and momentum are bounded by 2/λmax (momentum by 2(1 + μ)/λmax), so their grid is
    anchored there; RMSprop and Adam take steps of about lr whatever the curvature, so their grid
    also reaches a decade past the current learning rate.
    """
    # data with no curvature at all (every feature zero) has no 2/λmax: the settings' rate anchors instead
    anchor = max_stable_lr if math.isfinite(max_stable_lr) and max_stable_lr > 0 else config.lr
    low = anchor * 10.0**-SWEEP_DECADES_BELOW
    high = anchor * 10.0**SWEEP_DECADES_ABOVE
    if config.optimizer in ("rmsprop", "adam"):
        low, high = min(low, config.lr * 10.0**-SWEEP_DECADES_BELOW), max(high, config.lr * 10.0)
    grid = np.array([float(f"{lr:.3g}") for lr in np.geomspace(low, min(high, MAX_LR), points)])
    nearest = int(np.argmin(np.abs(np.log10(grid / config.lr))))
    if abs(math.log10(grid[nearest] / config.lr)) < 0.05:
        grid[nearest] = config.lr  # close enough: the settings' own rate stands in for its neighbour
    else:
        grid = np.sort(np.append(grid, config.lr))
    return grid


def plan_sweep(config: RunConfig, points: int = SWEEP_POINTS) -> Plan:
    """The settings at each learning rate of ``sweep_grid``, on the fastest path that stays faithful:
    the closed form (exact, float64) where it applies, else NumPy's Gram-matrix loop."""
    exact = exact_applies(config)
    quad = loss_of(config.replace(dtype="float64") if exact else config)
    cap = SWEEP_EXACT_MAX_STEPS[config.optimizer] if exact else SWEEP_LOOP_MAX_STEPS
    steps = min(config.steps, cap)
    base = _base(config, steps)
    base = base.replace(impl="analytic", dtype="float64", compiled=False) if exact else \
        base.replace(impl="numpy", compiled=True)
    jobs = tuple(Job(f"{lr:.6g}", f"lr {lr:.3g}", base.replace(lr=float(lr)))
                 for lr in sweep_grid(config, quad.max_stable_lr, points))
    if exact:
        path = (f"Exact closed form (float64) for {OPTIMIZER_LABELS[config.optimizer]}: "
                f"{_cap_note(config, steps, cap)}, "
                "every step taken at once.")
    else:
        path = (f"NumPy (Gram-matrix loop) in {config.dtype}: {OPTIMIZER_LABELS[config.optimizer]} has no closed "
                f"form, so {_cap_note(config, steps, cap)}.")
    return Plan("sweep", config, jobs, (), steps, config.steps > cap, path, quad.max_stable_lr, quad.optimum_loss)


# --- running ---------------------------------------------------------------------------------------------

def _outcome(job: Job, run: Run, seconds: float) -> Outcome:
    steps, losses, params = run.history.arrays()
    return Outcome(job, steps, losses, params, run.status, run.message, run.diverged_at, run.step,
                   float(run.current_loss), float(run.initial_loss), seconds)


def _failed(job: Job, message: str, seconds: float) -> Outcome:
    empty = np.empty(0)
    return Outcome(job, empty.astype(np.int64), empty, np.empty((0, 0)), "failed", message, None, 0, math.nan,
                   math.nan, seconds)


def run_plan(plan: Plan, limits: Limits = Limits(), chunk_seconds: float = CHUNK_SECONDS,
             open_run: Callable[[RunConfig, Limits], Run] = Run) -> Iterator[Progress]:
    """Run every job of a plan in order, yielding progress at least every ``chunk_seconds``.

    ``open_run`` says where each job trains (a worker pool's ``open``: the frameworks load there, and the
    numbers are the same bit for bit). A job whose framework is missing or which fails ends as a "failed"
    outcome with the reason; the others still run.
    """
    total = len(plan.jobs)
    for index, job in enumerate(plan.jobs):
        yield Progress(index, total, job.label, index / total, None)
        started = time.perf_counter()
        try:
            run = open_run(job.config, limits)
            run.prepare()
            for snapshot in run.follow(chunk_seconds):
                yield Progress(index, total, job.label, (index + snapshot.progress) / total, None)
            outcome = _outcome(job, run, time.perf_counter() - started)
        except FrameworkMissing as error:
            outcome = _failed(job, str(error), time.perf_counter() - started)
        except Exception as error:  # one broken framework must not take the other runs down
            outcome = _failed(job, f"could not run: {type(error).__name__}: {error}", time.perf_counter() - started)
        yield Progress(index + 1, total, job.label, (index + 1) / total, outcome)


def compare(plan: Plan, limits: Limits = Limits(), open_run: Callable[[RunConfig, Limits], Run] = Run) -> Comparison:
    """Run a plan to the end in one go."""
    comparison = Comparison(plan)
    for progress in run_plan(plan, limits, open_run=open_run):
        if progress.outcome is not None:
            comparison = comparison.adding(progress.outcome)
    return comparison
