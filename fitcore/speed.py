"""The same run on every implementation, eager and compiled, and the exact engine: steps per second,
with the one-time costs (importing a framework, building, compiling) measured apart.

Each implementation trains the demo's notebook settings for a fixed slice of time rather than a
fixed number of steps, so a fast path runs millions of steps and TensorFlow's eager loop a few
hundred, and the whole comparison takes about as long whatever the demo. ``measure`` yields between
short slices of training, so a caller can draw progress (and be interrupted) as it goes.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from .config import MAX_STEPS, ConfigError, RunConfig, StopConditions
from .engine import Run
from .impl import (FRAMEWORK_MODULES, FRAMEWORK_NAMES, IMPLEMENTATIONS, CompileFailed, FrameworkMissing,
                   compiled_unavailable, framework_available, is_available)
from .problems import PROBLEMS
from .stopping import Limits

SECONDS_EACH = 0.4   # of training per implementation: eleven of them stay well inside 15 s here
SLICE_SECONDS = 0.1  # between progress reports (and chances to be interrupted)
KINDS = ("eager", "compiled", "exact")


@dataclass(frozen=True)
class Entry:
    """One bar: an implementation, eager or on its compiled path."""

    impl: str
    compiled: bool = False

    @property
    def kind(self) -> str:
        return "exact" if self.impl == "analytic" else "compiled" if self.compiled else "eager"

    @property
    def label(self) -> str:
        names = {"numpy": "NumPy", "torch-manual": "PyTorch by hand", "torch-autograd": "PyTorch autograd",
                 "torch-nn": "PyTorch nn + optim", "tf-tape": "TensorFlow GradientTape", "analytic": "Exact closed form"}
        paths = {"numpy": "Gram matrix", "tf-tape": "XLA"}
        name = names[self.impl]
        if not self.compiled or self.impl == "analytic":
            return name
        return f"{name} · {paths.get(self.impl, 'torch.compile')}"

    @property
    def framework(self) -> str:
        return IMPLEMENTATIONS[self.impl].framework


def lineup(installed_only: bool = True) -> tuple[Entry, ...]:
    """Every implementation eager and compiled, then the exact engine; by default only the installed
    ones that can run here (``left_out`` names the others)."""
    entries = [Entry(impl, compiled) for impl in IMPLEMENTATIONS if impl != "analytic" for compiled in (False, True)]
    entries.append(Entry("analytic"))
    return tuple(e for e in entries if not installed_only or (is_available(e.impl) and _cannot_run(e) is None))


def _cannot_run(entry: Entry) -> str | None:
    return compiled_unavailable(entry.impl) if entry.compiled else None


def left_out() -> dict[str, tuple[Entry, ...]]:
    """Installed entries this machine cannot run, by the reason and fix (torch.compile without a C++ compiler)."""
    found: dict[str, tuple[Entry, ...]] = {}
    for entry in lineup(installed_only=False):
        reason = _cannot_run(entry) if is_available(entry.impl) else None
        if reason is not None:
            found[reason] = found.get(reason, ()) + (entry,)
    return found


def opening_demo() -> str:
    """The demo the Speed page opens on: the one whose notebook trains the most steps, where steps per second
    matter most (quadratic recovery's million)."""
    return max(PROBLEMS.values(), key=lambda problem: max(v.settings["steps"] for v in problem.variants)).id


def speed_config(problem_id: str, entry: Entry) -> RunConfig:
    """The demo's notebook settings on this entry's implementation, with room for any number of steps.
    Raises ConfigError where the entry cannot run them (the exact engine has no closed form for Adam)."""
    base = RunConfig.notebook(problem_id)
    return base.replace(impl=entry.impl, compiled=entry.compiled and entry.impl != "analytic", steps=MAX_STEPS,
                        stop=StopConditions())


@dataclass(frozen=True)
class Timing:
    entry: Entry
    steps: int = 0
    seconds: float = 0.0          # training only (the engine's own clock)
    setup_seconds: float = 0.0    # building the run: the framework's import the first time, and any compile
    compile_seconds: float = 0.0  # trace + compile (part of setup)
    error: str | None = None

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else 0.0

    @property
    def microseconds_per_step(self) -> float:
        return 1e6 * self.seconds / self.steps if self.steps else float("nan")


def spread(timings: Sequence[Timing]) -> tuple[Timing, Timing, float] | None:
    """The fastest and slowest measured entries and how many times faster the first ran (None with
    fewer than two measured)."""
    measured = [t for t in timings if t.error is None and t.steps and t.seconds > 0]
    if len(measured) < 2:
        return None
    fastest = max(measured, key=lambda t: t.steps_per_second)
    slowest = min(measured, key=lambda t: t.steps_per_second)
    return fastest, slowest, fastest.steps_per_second / slowest.steps_per_second


@dataclass(frozen=True)
class SpeedProgress:
    index: int                 # entries finished so far
    total: int
    label: str                 # the entry running now (or just finished)
    fraction: float
    timing: Timing | None      # set once, when an entry has just finished


def measure(problem_id: str, entries: Sequence[Entry], seconds_each: float = SECONDS_EACH,
            slice_seconds: float = SLICE_SECONDS,
            open_run: Callable[[RunConfig, Limits], Run] = Run) -> Iterator[SpeedProgress]:
    """Train each entry for ``seconds_each`` of training time, yielding progress between slices. ``open_run``
    says where each trains (a worker pool's ``open``: the frameworks load there; the times are the engine's
    own clock, there)."""
    total = len(entries)
    for index, entry in enumerate(entries):
        yield SpeedProgress(index, total, entry.label, index / total, None)
        try:
            run = open_run(speed_config(problem_id, entry), Limits())
            started = time.perf_counter()
            run.prepare()
            setup = time.perf_counter() - started
            while not run.finished and run.elapsed < seconds_each:
                run.advance(max_seconds=min(slice_seconds, seconds_each - run.elapsed))
                yield SpeedProgress(index, total, entry.label, (index + min(run.elapsed / seconds_each, 1)) / total,
                                    None)
            if run.status == "diverged":
                timing = Timing(entry, error=f"diverged at step {run.diverged_at:,}")
            else:
                timing = Timing(entry, run.step, run.elapsed, setup, run.compile_seconds)
        except (ConfigError, FrameworkMissing, CompileFailed) as error:
            timing = Timing(entry, error=str(error))
        except Exception as error:  # one broken framework must not stop the others' measurements
            timing = Timing(entry, error=f"could not run: {type(error).__name__}: {error}")
        yield SpeedProgress(index + 1, total, entry.label, (index + 1) / total, timing)


@dataclass(frozen=True)
class ImportCost:
    framework: str
    seconds: float
    megabytes: float
    error: str | None = None

    @property
    def name(self) -> str:
        return FRAMEWORK_NAMES[self.framework]


_IMPORT_PROBE = """
import time
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1]) / 1024
    return float('nan')
before = rss()
started = time.perf_counter()
import {module}
print(time.perf_counter() - started, rss() - before)
"""


def import_cost(framework: str, timeout: float = 120.0) -> ImportCost:
    """Seconds (and resident megabytes) to import a framework in a fresh Python: what the first run of
    a framework pays, whatever this process has imported already."""
    module = FRAMEWORK_MODULES[framework]
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    try:
        result = subprocess.run([sys.executable, "-c", _IMPORT_PROBE.format(module=module)], capture_output=True,
                                text=True, timeout=timeout, env=env)
        seconds, megabytes = (float(v) for v in result.stdout.strip().splitlines()[-1].split())
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return ImportCost(framework, float("nan"), float("nan"), f"{FRAMEWORK_NAMES[framework]} could not be imported")
    return ImportCost(framework, seconds, megabytes)


def installed_frameworks() -> tuple[str, ...]:
    return tuple(f for f in FRAMEWORK_MODULES if framework_available(f))
