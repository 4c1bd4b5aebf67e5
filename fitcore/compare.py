"""Side-by-side runs: one setting on every implementation, every optimizer, or a learning-rate grid.

A comparison is planned first (which runs, on which path, with how many steps, and what was left
out and why), then run job by job through the ordinary engine, so each result is exactly what
``train`` gives for that job's configuration. ``run_plan`` yields progress after every short chunk:
a caller that draws between chunks stays responsive and may stop at any point. The analyses
(agreement with the float64 reference, the diverging region of a sweep, labels for pinned runs)
are plain functions of the results.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np

from .analytic import QuadraticLoss
from .config import MAX_LR, RunConfig, StopConditions, setting_values
from .engine import Run
from .experiment import experiment_of
from .impl import IMPLEMENTATIONS, FrameworkMissing, is_available, missing_message
from .optim import MOMENTUM, OPTIMIZER_LABELS, OPTIMIZERS
from .settings import FIELD
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
DIGITS_CAP = 16                   # "bit for bit" is reported as agreement to every digit

SHORT_NAMES: Mapping[str, str] = {
    "numpy": "NumPy",
    "torch-manual": "PyTorch by hand",
    "torch-autograd": "PyTorch autograd",
    "torch-nn": "PyTorch nn",
    "tf-tape": "TensorFlow",
    "analytic": "exact closed form",
}


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


def run_plan(plan: Plan, limits: Limits = Limits(), chunk_seconds: float = CHUNK_SECONDS) -> Iterator[Progress]:
    """Run every job of a plan in order, yielding progress at least every ``chunk_seconds``.

    A job whose framework is missing or which fails ends as a "failed" outcome with the reason;
    the others still run.
    """
    total = len(plan.jobs)
    for index, job in enumerate(plan.jobs):
        yield Progress(index, total, job.label, index / total, None)
        started = time.perf_counter()
        try:
            run = Run(job.config, limits)
            run.prepare()
            while not run.finished:
                snapshot = run.advance(max_seconds=chunk_seconds)
                yield Progress(index, total, job.label, (index + snapshot.progress) / total, None)
            outcome = _outcome(job, run, time.perf_counter() - started)
        except FrameworkMissing as error:
            outcome = _failed(job, str(error), time.perf_counter() - started)
        except Exception as error:  # one broken framework must not take the other runs down
            outcome = _failed(job, f"could not run: {type(error).__name__}: {error}", time.perf_counter() - started)
        yield Progress(index + 1, total, job.label, (index + 1) / total, outcome)


def compare(plan: Plan, limits: Limits = Limits()) -> Comparison:
    """Run a plan to the end in one go."""
    comparison = Comparison(plan)
    for progress in run_plan(plan, limits):
        if progress.outcome is not None:
            comparison = comparison.adding(progress.outcome)
    return comparison


# --- agreement with the reference --------------------------------------------------------------------

@dataclass(frozen=True)
class Agreement:
    """How far one run's parameters are from the reference's at the steps both recorded."""

    label: str
    steps: np.ndarray
    max_diff: np.ndarray           # max over parameters of |θ − θ_ref|
    relative: np.ndarray           # max_diff / max |θ_ref|

    @property
    def final_step(self) -> int | None:
        return int(self.steps[-1]) if len(self.steps) else None

    @property
    def final_digits(self) -> int | None:
        return significant_digits(float(self.relative[-1])) if len(self.steps) else None


def significant_digits(relative: float) -> int:
    """How many leading significant digits two numbers share, from their relative difference."""
    if relative <= 0:
        return DIGITS_CAP
    if not math.isfinite(relative):
        return 0
    return int(min(DIGITS_CAP, max(0, math.floor(-math.log10(relative)))))


def agreement(reference: Outcome, other: Outcome) -> Agreement:
    steps, ref_at, other_at = np.intersect1d(reference.steps, other.steps, return_indices=True)
    if not len(steps):
        return Agreement(other.label, steps, np.empty(0), np.empty(0))
    ref, got = reference.params[ref_at], other.params[other_at]
    diff = np.abs(got - ref).max(axis=1)
    scale = np.maximum(np.abs(ref).max(axis=1), np.finfo(np.float64).tiny)
    return Agreement(other.label, steps, diff, diff / scale)


def table_steps(steps: np.ndarray, rows: int = 12) -> np.ndarray:
    """Up to ``rows`` of the recorded steps, 1-2-5 spaced (dense early, where runs part ways), last included."""
    if not len(steps):
        return steps
    last = int(steps[-1])
    ticks, decade = [0], 1
    while decade <= last:
        ticks.extend(v for v in (decade, 2 * decade, 5 * decade) if v <= last)
        decade *= 10
    ticks.append(last)
    index = np.searchsorted(steps, np.array(ticks), side="right") - 1
    chosen = np.unique(steps[index[index >= 0]])
    if len(chosen) > rows:
        keep = np.unique(np.round(np.linspace(0, len(chosen) - 1, rows)).astype(np.int64))
        chosen = chosen[keep]
    return chosen


def path_of(config: RunConfig) -> str:
    """How a run computes, in a few words: closed form, or which loop and dtype."""
    if config.impl == "analytic":
        return "closed form, float64"
    if not config.compiled:
        return f"eager, {config.dtype}"
    framework = IMPLEMENTATIONS[config.impl].framework
    loop = {"tensorflow": "XLA-compiled", "torch": "torch.compile", "numpy": "Gram matrix"}[framework]
    return f"{loop}, {config.dtype}"


@dataclass(frozen=True)
class FrameworkRow:
    """One line of the frameworks table: a run, or an implementation left out and why."""

    label: str
    path: str
    status: str                    # reference | completed | stopped | diverged | failed | skipped
    final_loss: float
    final_diff: float              # max |θ − θ_ref| at the last step both recorded
    digits: int | None             # significant digits shared with the reference there
    seconds: float
    note: str


def framework_rows(comparison: Comparison) -> list[FrameworkRow]:
    outcomes = comparison.outcomes
    rows: list[FrameworkRow] = []
    reference = outcomes[0] if outcomes and outcomes[0].key == "reference" and outcomes[0].ran else None
    for outcome in outcomes:
        path = path_of(outcome.job.config)
        if not outcome.ran:
            rows.append(FrameworkRow(outcome.label, path, "failed", math.nan, math.nan, None, outcome.seconds,
                                     outcome.message))
            continue
        if outcome.key == "reference":
            status = "reference, diverged" if outcome.diverged else "reference"
            rows.append(FrameworkRow(outcome.label, path, status, outcome.final_loss, 0.0, None, outcome.seconds,
                                     outcome.message))
            continue
        found = agreement(reference, outcome) if reference is not None else None
        has = found is not None and found.final_step is not None
        rows.append(FrameworkRow(outcome.label, path, outcome.status, outcome.final_loss,
                                 float(found.max_diff[-1]) if has else math.nan,
                                 found.final_digits if has else None, outcome.seconds, outcome.message))
    for skipped in comparison.plan.skipped:
        rows.append(FrameworkRow(skipped.label, "", "skipped", math.nan, math.nan, None, math.nan, skipped.reason))
    return rows


def difference_rows(comparison: Comparison, rows: int = 12) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The steps of the frameworks table and, per implementation, max |θ − θ_ref| at each (NaN where that
    run recorded no such step, e.g. after it diverged)."""
    outcomes = comparison.outcomes
    if not outcomes or outcomes[0].key != "reference" or not outcomes[0].ran:
        return np.empty(0, dtype=np.int64), {}
    reference = outcomes[0]
    steps = table_steps(reference.steps, rows)
    columns: dict[str, np.ndarray] = {}
    for outcome in outcomes[1:]:
        if not outcome.ran:
            continue
        found = agreement(reference, outcome)
        where = np.searchsorted(found.steps, steps)
        hit = (where < len(found.steps)) & (found.steps[np.minimum(where, len(found.steps) - 1)] == steps) \
            if len(found.steps) else np.zeros(len(steps), dtype=bool)
        column = np.full(len(steps), math.nan)
        column[hit] = found.max_diff[where[hit]]
        columns[outcome.label] = column
    return steps, columns


def _names(labels: Sequence[str]) -> str:
    labels = list(labels)
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def agreement_sentence(comparison: Comparison) -> str:
    """The frameworks comparison in words, computed from the numbers."""
    outcomes = comparison.outcomes
    if not outcomes or outcomes[0].key != "reference":
        return "No reference run yet."
    reference, others = outcomes[0], [o for o in outcomes[1:] if o.ran]
    if not reference.ran:
        return f"The reference run could not run: {reference.message}"
    if not others:
        return "Only the reference ran: no other implementation is installed here."
    groups: dict[tuple[int, int], list[str]] = {}
    for outcome in others:
        found = agreement(reference, outcome)
        if found.final_step is None:
            continue
        groups.setdefault((found.final_digits, found.final_step), []).append(outcome.label)
    ordered = sorted(groups.items(), key=lambda item: (-item[0][0], -item[0][1]))
    same_step = len({step for _, step in groups}) == 1
    parts = []
    for index, ((digits, step), labels) in enumerate(ordered):
        after = "" if same_step else f" after {step:,} step{'s' if step != 1 else ''}"
        if digits >= DIGITS_CAP:
            verb = "matches" if len(labels) == 1 else "match"
            parts.append(f"{_names(labels)} {verb} the {reference.label} bit for bit{after}")
            continue
        amount = "less than one significant digit" if digits == 0 else \
            f"{digits} significant digit{'s' if digits != 1 else ''}"
        if index == 0 or any(d >= DIGITS_CAP for d, _ in groups):
            verb = "agrees" if len(labels) == 1 else "agree"
            parts.append(f"{_names(labels)} {verb} with the {reference.label} to {amount}{after}")
        else:
            parts.append(f"{_names(labels)} to {amount}{after}")
    sentence = "; ".join(parts) + "." if parts else ""
    if same_step and parts:
        step = ordered[0][0][1]
        sentence = f"After {step:,} step{'s' if step != 1 else ''}, {sentence}"
    sentence = sentence[:1].upper() + sentence[1:]
    diverged = [o for o in [reference, *others] if o.diverged]
    if diverged:
        by_step: dict[int, list[str]] = {}
        for outcome in diverged:
            by_step.setdefault(int(outcome.diverged_at or 0), []).append(
                "the reference" if outcome is reference else outcome.label)
        said = "; ".join(f"{_names(labels)} diverged at step {step:,}" for step, labels in sorted(by_step.items()))
        sentence += " " + said[:1].upper() + said[1:] + "."
    failed = [o.label for o in outcomes[1:] if not o.ran]
    if failed:
        sentence += f" {_names(failed)} could not run."
    return sentence.strip()


# --- learning-rate sweep ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepPoint:
    lr: float
    final_loss: float
    initial_loss: float
    status: str
    diverged_at: int | None
    is_current: bool

    @property
    def diverged(self) -> bool:
        """The run passed the engine's bound (10⁸ × its starting loss, or not finite) and was ended."""
        return self.status == "diverged"

    @property
    def growing(self) -> bool:
        """The run finished its steps with a loss above where it started: diverging, just not yet past the bound."""
        return not self.diverged and self.final_loss > self.initial_loss

    @property
    def unstable(self) -> bool:
        return self.diverged or self.growing


@dataclass(frozen=True)
class SweepSummary:
    points: tuple[SweepPoint, ...]
    max_stable_lr: float                          # 2/λmax
    momentum_limit: float | None                  # 2(1 + μ)/λmax when the optimizer is momentum
    diverging_region: tuple[float, float] | None  # lr range where every grid run diverged or grew
    best: SweepPoint | None
    sentence: str


def diverging_region(lrs: Sequence[float], unstable: Sequence[bool]) -> tuple[float, float] | None:
    """The top of the grid where every run was unstable, from halfway (on the log scale) between the
    last stable rate and the first unstable one, to the largest rate; None if the largest was stable."""
    lrs, unstable = np.asarray(lrs, dtype=np.float64), np.asarray(unstable, dtype=bool)
    order = np.argsort(lrs)
    lrs, unstable = lrs[order], unstable[order]
    if not len(lrs) or not unstable[-1]:
        return None
    stable = np.flatnonzero(~unstable)
    if not len(stable):
        return float(lrs[0]), float(lrs[-1])
    first = stable[-1] + 1
    return float(math.sqrt(lrs[first - 1] * lrs[first])), float(lrs[-1])


def _reached_optimum(point: SweepPoint, optimum_loss: float) -> bool:
    """Within a millionth of the starting gap to the least-squares optimum."""
    return point.final_loss - optimum_loss <= 1e-6 * max(point.initial_loss - optimum_loss, 0.0)


def summarize_sweep(comparison: Comparison) -> SweepSummary:
    plan = comparison.plan
    points = tuple(SweepPoint(o.job.config.lr, o.final_loss, o.initial_loss, o.status, o.diverged_at,
                              o.job.config.lr == plan.config.lr) for o in comparison.outcomes if o.ran)
    momentum = (1 + MOMENTUM) * plan.max_stable_lr if plan.config.optimizer == "momentum" else None
    region = diverging_region([p.lr for p in points], [p.unstable for p in points])
    settled = [p for p in points if not p.unstable and math.isfinite(p.final_loss)]
    best = min(settled, key=lambda p: (p.final_loss, p.lr)) if settled else None
    limit = f"2/λmax = {plan.max_stable_lr:.3g}"
    if momentum is not None:
        limit += f", and momentum's own limit 2(1 + μ)/λmax = {momentum:.3g}"
    if not points:
        return SweepSummary(points, plan.max_stable_lr, momentum, region, best, "No run of the sweep has finished yet.")
    if region is None:
        sentence = (f"No rate in this grid diverged (up to lr {max(p.lr for p in points):.3g}; {limit}).")
    elif region[0] == min(p.lr for p in points):
        sentence = f"Every rate in this grid diverged ({limit})."
    else:
        first = min(p.lr for p in points if p.lr > region[0])
        sentence = f"From lr {first:.3g} upward the loss grows instead of falling ({limit})."
    cut = [p for p in points if p.diverged]
    if cut:
        sentence += (f" {len(cut)} run{'s' if len(cut) > 1 else ''} passed 10⁸ × the starting loss and "
                     f"{'were' if len(cut) > 1 else 'was'} ended as diverged.")
    stray = [p for p in points if p.unstable and (region is None or p.lr < region[0])]
    if stray:
        sentence += f" Also unstable below that: lr {_names([f'{p.lr:.3g}' for p in stray])}."
    reached = [p for p in settled if _reached_optimum(p, plan.optimum_loss)]
    if len(reached) > 1:
        sentence += (f" Rates from {min(p.lr for p in reached):.3g} to {max(p.lr for p in reached):.3g} reach the "
                     f"least-squares optimum {plan.optimum_loss:.6g} within {plan.steps:,} steps.")
    elif best is not None:
        sentence += (f" The lowest final loss, {best.final_loss:.6g} after {plan.steps:,} steps, came at lr "
                     f"{best.lr:.3g} (the least-squares optimum is {plan.optimum_loss:.6g}).")
    return SweepSummary(points, plan.max_stable_lr, momentum, region, best, sentence)


# --- labels for pinned runs ---------------------------------------------------------------------------

def setting_phrases(config: RunConfig) -> dict[str, str]:
    """Each setting of a run as a short phrase, for legends."""
    stop = config.stop
    stops = []
    if stop.loss_below is not None:
        stops.append(f"stop at loss ≤ {stop.loss_below:g}")
    if stop.plateau_tol is not None:
        stops.append(f"stop on a plateau ({stop.plateau_tol:g} over {stop.plateau_window})")
    phrased = {name: FIELD[name].phrase.format(value) for name, value in setting_values(config).items()
               if FIELD[name].phrase is not None}
    return {
        "data": config.custom.describe() if config.custom is not None else "the demo's data",
        "impl": SHORT_NAMES[config.impl],
        "compiled": "compiled" if config.compiled else "eager",
        "optimizer": OPTIMIZER_LABELS[config.optimizer],
        "lr": phrased["lr"],
        "schedule": f"{config.schedule.describe()} lr" if not config.schedule.is_constant else "constant lr",
        **{name: phrased[name] for name in ("steps", "reduction", "dtype", "points", "noise", "seed")},
        "stop": ", ".join(stops) if stops else "no early stop",
    }


def differing_phrases(config: RunConfig, others: Sequence[RunConfig]) -> list[str]:
    """The phrases of ``config``'s settings that some config in ``others`` sets differently."""
    mine = setting_phrases(config)
    theirs = [setting_phrases(other) for other in others]
    return [phrase for key, phrase in mine.items() if any(t[key] != phrase for t in theirs)]


def pin_labels(configs: Sequence[RunConfig], numbers: Sequence[int], statuses: Sequence[str]) -> list[str]:
    """Legend labels for pinned runs: a number, then the settings that tell the runs apart.

    With one run (or runs whose settings are all equal), the settings that differ from its
    notebook's are shown instead; a run that did not complete says how it ended.
    """
    labels = []
    for index, (config, number, status) in enumerate(zip(configs, numbers, statuses)):
        others = [c for i, c in enumerate(configs) if i != index]
        phrases = differing_phrases(config, others) if others else []
        if not phrases:
            notebook = RunConfig.notebook(config.problem, config.variant, custom=config.custom)
            phrases = differing_phrases(config, [notebook])
        text = f"#{number} " + (", ".join(phrases) if phrases else "the notebook's settings")
        if status in ("diverged", "stopped"):
            text += f" ({status})"
        labels.append(text)
    return labels
