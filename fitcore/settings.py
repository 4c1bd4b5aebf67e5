"""Every setting a user can give a run, in one table: its name (``RunConfig``'s spelling), kind, bounds,
label, query-string key, command-line flag, help and legend phrase; and, in a second part of the same
schema, the settings of "Your own data"'s source (``SOURCE_FIELDS``: a ``CustomSource``'s, by its names).

The page's sidebar, shareable links, the CLI's options, legend phrases and the checks in
``fitcore.config.validate`` (and ``Schedule``, ``StopConditions``) all read this table, so a setting is
spelled one way in the code and each bound is written once. The sidebar's and the data panel's labels,
hover help and bounds come from the same rows; so do "Your own data"'s link keys (``src``, ``fn``, …) and
its command-line options (``--function``, ``--degree``, …). The query-string keys are the short ones
links have carried from the start (``opt``, ``red``, ``every``…); they stay, so shared links keep working.

Which schedule reads which of the schedule's settings is the rows' too (``Field.schedules``): the CLI's
checks and listing, the sidebar's schedule group and the exported command and script read
``schedule_settings``.

The typed function's hover help lists the words ``fitcore.expression_vocabulary`` accepts, so a function
added there shows up in it.

A leaf module: it imports nothing from fitcore but the expression vocabulary (a leaf itself), so ``optim``
and ``config`` can read it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .expression_vocabulary import ALLOWED_IN_FULL

MAX_STEPS = 10_000_000
MAX_LR = 1e6
MIN_LR = 1e-12   # the smallest learning rate a widget or a link offers (a run takes any rate above 0)
MAX_NOISE = 1e3
MAX_SEED = 2**32 - 1
MAX_PLATEAU_WINDOW = 100_000
MAX_START = 1e6  # |θ₀| for a start the learner chose (a click on the landscape): far beyond every demo's scale
MIN_DEGREE, MAX_DEGREE = 1, 8   # your own data's polynomial
MAX_ABS_X = 1e6                 # |x| at either end of a typed function's range
MAX_EXPRESSION_LENGTH = 200     # characters of a typed function
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")  # a bool as a link writes it
KINDS = ("choice", "int", "float", "bool", "text", "optional-int", "optional-float", "optional-floats")


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
    range a widget or a link offers, the same unless an end is open or unbounded (for a text, the bounds
    are its length). ``part`` names the ``RunConfig`` field that holds a schedule's or a stopping rule's
    setting, or your own data's source. Points have no bounds here: each problem has its own
    (``Problem.points_range``). ``help`` is the command line's; ``tip`` the widget's hover help.
    """

    name: str
    kind: str
    label: str
    url: str | None   # None: a setting no link carries (the page does not offer it, or a file's name)
    flag: str | None  # None: a setting the command line chooses otherwise (--function or --csv: the source's kind)
    help: str
    bounds: Bounds | None = None
    offered: tuple[float, float] | None = None
    part: str | None = None
    phrase: str | None = None   # a legend phrase, a format string for the value ("lr {:g}")
    # The phrase naming this setting where a run departs from its notebook cell, so that the printed lines
    # cannot be compared ("learning rate {:g}"); None: a run that changes it is still compared.
    departs: str | None = None
    widget: str | None = None   # the widget's label where it is shorter than ``label`` (inside a titled group)
    toggle: str | None = None   # an optional setting's switch ("Fresh data from a seed")
    tip: str | None = None      # hover help on its first widget (the switch, for an optional setting)
    only: str | None = None     # your own data: the source kind it applies to (function or csv)
    schedules: tuple[str, ...] = ()   # a schedule's setting: the kinds of schedule that read it

    @property
    def full_help(self) -> str:
        """The command line's help: ``help``, and for a schedule's setting the schedules that read it."""
        return f"{self.help} ({', '.join(self.schedules)})" if self.schedules else self.help

    @property
    def widget_label(self) -> str:
        return self.widget or self.label

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
          "notebook variant (its settings are the defaults)", widget="Notebook settings",
          tip="Each notebook's own run: picking one loads all of its settings."),
    Field("impl", "choice", "Implementation", "impl", "--impl", "the implementation that takes the steps",
          tip="Same data, same start: only the step differs."),
    Field("compiled", "bool", "Compiled path", "compiled", "--compile", "the implementation's compiled path"),
    Field("device", "choice", "Device", "device", "--device",
          "where a PyTorch implementation computes; auto is the notebooks' line (an accelerator if there is one)",
          tip="Where PyTorch computes: data, parameters and optimizer state live there. auto is the notebooks' "
              "line: `torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "
              "\"cpu\"`."),
    Field("optimizer", "choice", "Optimizer", "opt", "--optimizer", "the update rule", departs="optimizer {}"),
    Field("lr", "float", "Learning rate", "lr", "--lr", "learning rate", Bounds(0.0, MAX_LR, low_open=True),
          (MIN_LR, MAX_LR), phrase="lr {:g}", departs="learning rate {:g}", widget="Learning rate (exact)"),
    Field("steps", "int", "Steps", "steps", "--steps", f"updates, 1 to {MAX_STEPS:,}", Bounds(1, MAX_STEPS),
          phrase="{:,} steps"),
    # unset: the notebook's own data and start; your own data always draws its noise from a seed
    Field("seed", "optional-int", "Seed", "seed", "--seed",
          "fresh data from this seed (default: the notebook's own data and start)", Bounds(0, MAX_SEED),
          phrase="seed {}", departs="fresh data from a seed", toggle="Fresh data from a seed",
          tip="Off: the notebook's own data and starting point, so its printed lines can be checked digit by "
              "digit. On: data and start drawn from the seed below."),
    Field("reduction", "choice", "Loss reduction", "red", "--reduction", "mean or sum of the squared errors",
          phrase="{} loss", departs="{} loss", widget="Loss",
          tip="mean: s = 1/N; sum: s = 1 (seed 001's NumPy gradient, seeds 003/004)."),
    Field("dtype", "choice", "dtype", "dtype", "--dtype", "the floating-point type of data and parameters",
          phrase="{}"),
    # one number per parameter, each within the bounds; unset: where the seed or the notebook starts.
    # The page draws no widget for it (a click on the landscape or the By hand tab chooses it); a link
    # carries it as the CLI writes it, "start=0.5,-3,2", and a link without it starts where the data does.
    Field("start", "optional-floats", "Start θ₀", "start", "--start",
          "θ₀, one number per parameter (default: where the seed or the notebook starts)",
          Bounds(-MAX_START, MAX_START), departs="a start you chose"),
    Field("points", "int", "Points", "points", "--points", "number of data points", phrase="{:,} points",
          departs="{} points"),
    Field("noise", "float", "Noise (standard deviation)", "noise", "--noise", "noise standard deviation",
          Bounds(0.0, MAX_NOISE), phrase="noise {:g}", departs="noise {:g}"),
    Field("schedule", "choice", "Learning-rate schedule", "sched", "--schedule", "how the learning rate changes",
          part="schedule", departs="a {} schedule", widget="Schedule"),
    Field("gamma", "float", "Decay factor γ", "gamma", "--gamma", "decay factor",
          Bounds(0.0, 1.0, low_open=True), (1e-6, 1.0), part="schedule", schedules=("step", "exponential")),
    Field("step_size", "int", "Decay every k steps", "every", "--step-size", "steps between decays",
          Bounds(1, math.inf, high_open=True), (1, MAX_STEPS), part="schedule", schedules=("step",)),
    Field("lr_min", "float", "Final learning rate (cosine)", "lrmin", "--lr-min", "final learning rate",
          Bounds(0.0, math.inf, high_open=True), (0.0, MAX_LR), part="schedule", widget="Final learning rate",
          schedules=("cosine",)),
    Field("loss_below", "optional-float", "Stop when the loss is below", "below", "--loss-below",
          "stop once the loss is at most F", Bounds(0.0, math.inf, high_open=True), (0.0, 1e300), part="stop",
          toggle="Stop when the loss is below a threshold", widget="Loss threshold"),
    Field("plateau_tol", "optional-float", "Stop on a plateau: relative change below", "plateau", "--plateau-tol",
          "stop once the loss moves less than F (relative) over the window", Bounds(0.0, 1.0, high_open=True),
          (0.0, 0.999999), part="stop", toggle="Stop on a plateau", widget="Relative change below",
          tip="Ends the run when |loss(k) − loss(k − window)| ≤ tolerance × |loss(k − window)|."),
    Field("plateau_window", "int", "… over this many steps", "window", "--plateau-window",
          "steps in the plateau window (100)", Bounds(1, MAX_PLATEAU_WINDOW), part="stop", widget="Window (steps)"),
)
# "Your own data": where its data come from and the polynomial that fits them, by ``CustomSource``'s names.
# A link carries a typed function (never a file); the command line names a file or a function.
SOURCE_FIELDS: tuple[Field, ...] = (
    Field("kind", "choice", "Data from", "src", None, "where the data come from: a typed function or a CSV file",
          part="custom"),
    Field("expression", "text", "y =", "fn", "--function", 'a function of x to fit, e.g. "0.5*x**3 - sin(2*x)"',
          Bounds(0, MAX_EXPRESSION_LENGTH), part="custom", only="function",
          tip=f"{ALLOWED_IN_FULL}. Nothing you type is run as code."),
    Field("x_min", "float", "x from", "xmin", "--x-min", "--function: smallest x (-2)",
          Bounds(-MAX_ABS_X, MAX_ABS_X), part="custom", only="function"),
    Field("x_max", "float", "x to", "xmax", "--x-max", "--function: largest x (2)",
          Bounds(-MAX_ABS_X, MAX_ABS_X), part="custom", only="function"),
    Field("file", "text", "CSV file: two numeric columns, x and y (a header row is optional)", None, "--csv",
          "a CSV file with an x and a y column", part="custom", only="csv"),
    Field("x_column", "text", "x column", None, "--x-column", "--csv: the x column, by header name or number from 1",
          part="custom", only="csv"),
    Field("y_column", "text", "y column", None, "--y-column", "--csv: the y column, by header name or number from 1",
          part="custom", only="csv"),
    Field("degree", "int", "Polynomial degree", "deg", "--degree",
          f"polynomial degree, {MIN_DEGREE} to {MAX_DEGREE} (3)", Bounds(MIN_DEGREE, MAX_DEGREE), part="custom",
          tip="The model is w₀ + w₁x + … + w_d·x^d: still linear in w, so the least-squares optimum, 2/λmax and "
              "the exact engine all apply."),
    Field("standardise", "bool", "Standardise x", "std", "--standardise",
          "fit powers of z = (x - mean) / std instead of x", part="custom",
          tip="Fit powers of z = (x − μ)/σ instead of x."),
)
FIELD = {f.name: f for f in FIELDS}
BY_URL = {f.url: f for f in FIELDS if f.url is not None}
SCHEDULE_FIELDS = tuple(f.name for f in FIELDS if f.part == "schedule")   # schedule (its kind) first
STOP_FIELDS = tuple(f.name for f in FIELDS if f.part == "stop")
SOURCE_FIELD = {f.name: f for f in SOURCE_FIELDS}


def schedule_settings(kind: str) -> tuple[str, ...]:
    """The settings a schedule of this kind reads (none for a constant one), in the table's order."""
    return tuple(f.name for f in FIELD.values() if kind in f.schedules)


def bounds(name: str) -> Bounds:
    """What a run (or your own data's source) accepts for this setting (a KeyError for one without bounds)."""
    found = (FIELD.get(name) or SOURCE_FIELD[name]).bounds
    if found is None:
        raise KeyError(f"{name} has no fixed bounds")
    return found


def flag(name: str) -> str:
    """The command-line option of a run's setting or of your own data's source (a KeyError for one without)."""
    found = (FIELD.get(name) or SOURCE_FIELD[name]).flag
    if found is None:
        raise KeyError(f"{name} has no command-line option of its own")
    return found
