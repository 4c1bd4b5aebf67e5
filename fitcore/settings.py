"""Every setting a user can give a run, in one table: its name (``RunConfig``'s spelling), kind, bounds,
label, query-string key, command-line flag and legend phrase.

The page's sidebar, shareable links, the CLI's options, legend phrases and the checks in
``fitcore.config.validate`` (and ``Schedule``, ``StopConditions``) all read this table, so a setting is
spelled one way in the code and each bound is written once. The query-string keys are the short ones
links have carried from the start (``opt``, ``red``, ``every``…); they stay, so shared links keep working.

A leaf module: it imports nothing from fitcore but the error type, so ``optim`` and ``config`` can read it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

MAX_STEPS = 10_000_000
MAX_LR = 1e6
MIN_LR = 1e-12   # the smallest learning rate a widget or a link offers (a run takes any rate above 0)
MAX_NOISE = 1e3
MAX_SEED = 2**32 - 1
MAX_PLATEAU_WINDOW = 100_000
MAX_START = 1e6  # |θ₀| for a start the learner chose (a click on the landscape): far beyond every demo's scale
KINDS = ("choice", "int", "float", "bool", "optional-int", "optional-float", "optional-floats")


@dataclass(frozen=True)
class Bounds:
    """A range of numbers; an open end excludes its own value (the learning rate is above 0)."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def holds(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def interval(self) -> str:
        """The range as written in an error message: ``(0, 1e+06]``."""
        return f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"


@dataclass(frozen=True)
class Field:
    """One setting of a run.

    ``bounds`` is what a run accepts (the checks raise ConfigError outside it); ``offered`` is the closed
    range a widget or a link offers, the same unless an end is open or unbounded. ``part`` names the
    ``RunConfig`` field that holds a schedule's or a stopping rule's setting. Points have no bounds here:
    each problem has its own (``Problem.points_range``).
    """

    name: str
    kind: str
    label: str
    url: str | None   # None: a setting the page does not offer yet (no link carries it)
    flag: str
    help: str
    bounds: Bounds | None = None
    offered: tuple[float, float] | None = None
    part: str | None = None
    phrase: str | None = None   # a legend phrase, a format string for the value ("lr {:g}")

    @property
    def low(self) -> float | None:
        return self.widest[0] if self.widest else None

    @property
    def high(self) -> float | None:
        return self.widest[1] if self.widest else None

    @property
    def widest(self) -> tuple[float, float] | None:
        """The closed range offered to a user: ``offered``, else the bounds themselves."""
        if self.offered is not None:
            return self.offered
        return (self.bounds.low, self.bounds.high) if self.bounds is not None else None

    @property
    def attribute(self) -> str:
        """Its attribute on ``RunConfig``, or on the ``part`` that holds it (a schedule's kind is ``kind``)."""
        return "kind" if self.part == self.name else self.name

    @property
    def whole(self) -> bool:
        return self.kind in ("int", "optional-int")

    @property
    def optional(self) -> bool:
        return self.kind.startswith("optional-")


FIELDS: tuple[Field, ...] = (
    Field("variant", "choice", "Notebook", "nb", "--variant",
          "notebook variant (its settings are the defaults)"),
    Field("impl", "choice", "Implementation", "impl", "--impl", "the implementation that takes the steps"),
    Field("compiled", "bool", "Compiled path", "compiled", "--compile", "the implementation's compiled path"),
    Field("device", "choice", "Device", "device", "--device",
          "where a PyTorch implementation computes; auto is the notebooks' line (an accelerator if there is one)"),
    Field("optimizer", "choice", "Optimizer", "opt", "--optimizer", "the update rule"),
    Field("lr", "float", "Learning rate", "lr", "--lr", "learning rate", Bounds(0.0, MAX_LR, low_open=True),
          (MIN_LR, MAX_LR), phrase="lr {:g}"),
    Field("steps", "int", "Steps", "steps", "--steps", f"updates, 1 to {MAX_STEPS:,}", Bounds(1, MAX_STEPS),
          phrase="{:,} steps"),
    # unset: the notebook's own data and start; your own data always draws its noise from a seed
    Field("seed", "optional-int", "Seed", "seed", "--seed",
          "fresh data from this seed (default: the notebook's own data and start)", Bounds(0, MAX_SEED),
          phrase="seed {}"),
    Field("reduction", "choice", "Loss reduction", "red", "--reduction", "mean or sum of the squared errors",
          phrase="{} loss"),
    Field("dtype", "choice", "dtype", "dtype", "--dtype", "the floating-point type of data and parameters",
          phrase="{}"),
    # one number per parameter, each within the bounds; unset: where the seed or the notebook starts.
    # The page draws no widget for it (a click on the landscape or the By hand tab chooses it); a link
    # carries it as the CLI writes it, "start=0.5,-3,2", and a link without it starts where the data does.
    Field("start", "optional-floats", "Start θ₀", "start", "--start",
          "θ₀, one number per parameter (default: where the seed or the notebook starts)",
          Bounds(-MAX_START, MAX_START)),
    Field("points", "int", "Points", "points", "--points", "number of data points", phrase="{:,} points"),
    Field("noise", "float", "Noise (standard deviation)", "noise", "--noise", "noise standard deviation",
          Bounds(0.0, MAX_NOISE), phrase="noise {:g}"),
    Field("schedule", "choice", "Learning-rate schedule", "sched", "--schedule", "how the learning rate changes",
          part="schedule"),
    Field("gamma", "float", "Decay factor γ", "gamma", "--gamma", "decay factor (step, exponential)",
          Bounds(0.0, 1.0, low_open=True), (1e-6, 1.0), part="schedule"),
    Field("step_size", "int", "Decay every k steps", "every", "--step-size", "steps between decays (step)",
          Bounds(1, math.inf, high_open=True), (1, MAX_STEPS), part="schedule"),
    Field("lr_min", "float", "Final learning rate (cosine)", "lrmin", "--lr-min", "final learning rate (cosine)",
          Bounds(0.0, math.inf, high_open=True), (0.0, MAX_LR), part="schedule"),
    Field("loss_below", "optional-float", "Stop when the loss is below", "below", "--loss-below",
          "stop once the loss is at most F", Bounds(0.0, math.inf, high_open=True), (0.0, 1e300), part="stop"),
    Field("plateau_tol", "optional-float", "Stop on a plateau: relative change below", "plateau", "--plateau-tol",
          "stop once the loss moves less than F (relative) over the window", Bounds(0.0, 1.0, high_open=True),
          (0.0, 0.999999), part="stop"),
    Field("plateau_window", "int", "… over this many steps", "window", "--plateau-window",
          "steps in the plateau window (100)", Bounds(1, MAX_PLATEAU_WINDOW), part="stop"),
)
FIELD = {f.name: f for f in FIELDS}
BY_URL = {f.url: f for f in FIELDS if f.url is not None}
SCHEDULE_FIELDS = tuple(f.name for f in FIELDS if f.part == "schedule")   # schedule (its kind) first
STOP_FIELDS = tuple(f.name for f in FIELDS if f.part == "stop")


def bounds(name: str) -> Bounds:
    """What a run accepts for this setting (a KeyError for one without bounds)."""
    found = FIELD[name].bounds
    if found is None:
        raise KeyError(f"{name} has no fixed bounds")
    return found
