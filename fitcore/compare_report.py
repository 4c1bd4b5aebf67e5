"""What a finished comparison says: each run's agreement with the float64 reference, the frameworks
table and its sentence, and the learning-rate sweep's diverging region and best rate. Plain functions
of the outcomes ``fitcore.compare`` ran."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .compare import Comparison, Outcome
from .config import RunConfig
from .impl import IMPLEMENTATIONS
from .optim import MOMENTUM

DIGITS_CAP = 16  # "bit for bit" is reported as agreement to every digit


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
