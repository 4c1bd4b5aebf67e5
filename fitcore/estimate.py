"""How long a run will take, from a measured rate, and faster ways to get the same answer.

A step's cost depends on the implementation, the compiled path, the optimizer, the loss reduction,
the dtype and the data's size, never on the learning rate, the seed or the number of steps; so a
rate measured once (a short calibration, or any earlier run) is kept under ``rate_key(config)`` and
serves every run with those settings. Pure: the dashboard keeps the rates in its session state.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .analytic import AnalyticUnsupported
from .config import ConfigError, RunConfig
from .engine import Run
from .impl import IMPLEMENTATIONS, compiled_unavailable, is_available
from .impl.linear_steps import advances_in_blocks
from .stopping import Limits

SHOW_SECONDS = 3.0       # a shorter run needs no estimate
PROPOSE_SECONDS = 15.0   # a longer one gets its faster alternatives proposed
CONFIRM_SECONDS = 60.0   # a longer one never starts without saying so
CALIBRATION_SECONDS = 0.2
MIN_MEASURED_SECONDS = 0.05  # a rate measured over less time than this is too noisy to keep
MIN_SHARE_SECONDS = 1.0      # a live run shorter than this says little about the share drawing takes


RateKey = tuple[Any, ...]


def rate_key(config: RunConfig) -> RateKey:
    """What a step's cost depends on (and nothing it does not, so rates are shared widely)."""
    degree = config.custom.degree if config.custom is not None else None  # your data: only its size counts
    compiled = bool(config.compiled) and config.impl != "analytic"
    # NumPy's Gram path takes some settings in blocks of steps: ~40× cheaper per step than one at a time
    blocks = compiled and config.impl == "numpy" and advances_in_blocks(config.optimizer, config.dtype,
                                                                         config.schedule)
    return (config.problem, degree, config.impl, compiled, blocks, config.optimizer, config.reduction,
            config.dtype, config.points)


@dataclass(frozen=True)
class Rate:
    """Steps per second measured for one rate key, and how (a calibration or an earlier run)."""

    steps_per_second: float
    source: str  # how it was measured, as a phrase: "measured just now", "measured in an earlier run"…


@dataclass(frozen=True)
class Estimate:
    steps: int               # steps still to run
    rate: Rate
    training_share: float = 1.0  # of the wall time spent training (the rest draws live charts), measured

    @property
    def seconds(self) -> float:
        speed = self.rate.steps_per_second * self.training_share
        return self.steps / speed if speed > 0 else math.inf

    @property
    def worth_showing(self) -> bool:
        return self.seconds > SHOW_SECONDS

    @property
    def long(self) -> bool:
        return self.seconds > PROPOSE_SECONDS

    @property
    def needs_confirmation(self) -> bool:
        return self.seconds > CONFIRM_SECONDS

    def text(self) -> str:
        text = f"{about(self.seconds)}: {self.steps:,} steps at {self.rate.steps_per_second:,.0f} steps/s, " \
               f"{self.rate.source}"
        if self.training_share < 0.995:
            text += f", while drawing the live charts takes {1 - self.training_share:.0%} of the time"
        return text


def estimate(config: RunConfig, rates: Mapping[RateKey, Rate], steps_done: int = 0,
             training_share: float = 1.0) -> Estimate | None:
    """The time left for ``config``'s run from a known rate, or None when none was measured.
    ``training_share``: the fraction of wall time a live view leaves to training, if measured."""
    rate = rates.get(rate_key(config))
    if rate is None:
        return None
    return Estimate(max(config.steps - steps_done, 0), rate, min(max(training_share, 0.01), 1.0))


def training_share(run: Run, wall_seconds: float) -> float | None:
    """The fraction of a finished run's wall time (after any compile) that went to training: what is
    left when a live view draws between chunks. None when the run was too short to tell."""
    wall = wall_seconds - run.compile_seconds
    if wall < MIN_SHARE_SECONDS or run.elapsed <= 0:
        return None
    return min(1.0, run.elapsed / wall)


def duration_text(seconds: float) -> str:
    """'under a second', '12 s', '2 min 04 s', '1 h 05 min' — rounded the way one says it aloud."""
    if not math.isfinite(seconds):
        return "forever"
    if seconds < 1:
        return "under a second"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest:02d} s"
    hours, rest = divmod(round(seconds / 60), 60)
    return f"{hours} h {rest:02d} min"


def about(seconds: float) -> str:
    """'under a second', 'about 12 s', 'about 2 min 04 s'."""
    text = duration_text(seconds)
    return text if text in ("under a second", "forever") else f"about {text}"


def measured_rate(run: Run, source: str = "measured in an earlier run") -> Rate | None:
    """A run's own training rate, once it has trained long enough to trust it."""
    if run.elapsed < MIN_MEASURED_SECONDS or run.step <= 0:
        return None
    return Rate(run.step / run.elapsed, source)


def calibrate(config: RunConfig, seconds: float = CALIBRATION_SECONDS, limits: Limits = Limits(),
              open_run: Callable[[RunConfig, Limits], Run] = Run) -> Rate | None:
    """Train a throwaway copy of the run for ``seconds`` and return its rate (None if it could not
    run, or finished too quickly to measure: then the run is short anyway). Builds the framework
    (and compiles a compiled path) as the run itself would, wherever ``open_run`` puts the copy (a
    worker process's ``RemoteRun``: the framework loads there, not in the caller's process)."""
    run = open_run(config, limits)
    run.prepare()
    run.advance(max_steps=1)  # the first step pays one-off costs (lazy initialisation, first kernels)
    first_steps, first_seconds = run.step, run.elapsed
    source = "measured just now"

    def rate() -> Rate | None:
        steps, seconds = run.step - first_steps, run.elapsed - first_seconds
        if steps > 0 and (seconds >= MIN_MEASURED_SECONDS or (run.finished and seconds > 0)):
            return Rate(steps / seconds, f"{source} over {steps:,} steps")
        return None

    deadline = time.perf_counter() + seconds
    while not run.finished and time.perf_counter() < deadline:
        run.advance(max_seconds=min(MIN_MEASURED_SECONDS, max(deadline - time.perf_counter(), 0.0)))
        found = rate()
        if found is not None and config.steps / found.steps_per_second < SHOW_SECONDS / 2:
            break  # plainly a short run: no need to measure it more closely
    if run.status == "diverged":
        return None
    if run.finished and run.step == first_steps:  # one step was the whole run
        return Rate(run.step / run.elapsed, f"{source} over {run.step:,} steps") if run.elapsed > 0 else None
    return rate()


@dataclass(frozen=True)
class Alternative:
    """A faster way to the same answer: the settings to change, and what the change means."""

    key: str
    label: str
    changes: Mapping[str, Any]
    why: str

    def config(self, config: RunConfig) -> RunConfig:
        return config.replace(**self.changes)


def alternatives(config: RunConfig) -> list[Alternative]:
    """The compiled path and the exact engine, where they apply to these settings and are installed."""
    found: list[Alternative] = []
    impl = IMPLEMENTATIONS[config.impl]
    if config.impl != "analytic" and not config.compiled and is_available(config.impl) \
            and compiled_unavailable(config.impl) is None:
        found.append(Alternative("compiled", "Use the compiled path", {"compiled": True},
                                 f"{impl.compiled_label}: the same updates, far less overhead per step"))
    try:
        exact = config.replace(impl="analytic", compiled=False, dtype="float64")
    except (ConfigError, AnalyticUnsupported):
        exact = None
    if exact is not None and config.impl != "analytic":
        found.append(Alternative("analytic", "Use the exact engine", {"impl": "analytic", "compiled": False,
                                                                      "dtype": "float64"},
                                 "the closed form: any step of SGD or momentum at once, in float64 (a float32 "
                                 "loop drifts from it by about 1e-3 over a million steps)"))
    return found
