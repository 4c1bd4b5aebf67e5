"""A prepared experiment: everything a run's settings fix before its first step, built once and shared.

An ``Experiment`` holds the data and start a configuration trains on, the quadratic loss (its
Hessian spectrum, least-squares optimum and 2/λmax), the starting loss and the bound past which a
run has diverged, the steps the history keeps and the notebook's log prints, the lines printed
before the loop, and the settings an implementation steps with. Building one draws the data and
solves the least squares, so ``experiment_of`` builds one per configuration and hands the same
frozen object to every run, comparison, export, explanation and page rerun that asks for it. The
training process itself — the loop and its state — is ``fitcore.engine.Run``.
"""
from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .analytic import QuadraticLoss, quadratic_loss
from .config import RunConfig, dataset_of, problem_of
from .device import resolve_device
from .history import record_steps
from .impl import StepSettings
from .notebook_log import intro_texts, log_interval
from .problems import Dataset, NotebookVariant, Problem
from .stopping import divergence_limit

CACHE_ENTRIES = 32
CACHE_BYTES = 512 * 2**20  # the data a cache holds at most: a 20M-point GPU run's is ~0.5 GB on its own


@dataclass(frozen=True, eq=False)
class Experiment:
    """The facts of one configuration, computed once. Its arrays are shared: read them, never write."""

    config: RunConfig
    problem: Problem
    variant: NotebookVariant
    data: Dataset
    quad: QuadraticLoss
    initial_loss: float        # loss(θ₀), float64
    divergence_limit: float    # a loss above this (or not finite) ends the run as diverged
    record_plan: np.ndarray    # the steps whose iterates the history keeps
    log_every: int             # the notebook's print interval, widened for a long run
    log_phase: int             # the first step the loop prints
    intro_lines: tuple[str, ...]

    @property
    def init(self) -> np.ndarray:
        """θ₀ as float64 (a fresh copy)."""
        return self.data.init.astype(np.float64)

    @property
    def points(self) -> int:
        return len(self.data.x)

    def step_settings(self) -> StepSettings:
        """What an implementation steps with, on the device the configuration resolves to here."""
        return dataclasses.replace(step_settings(self.config), device=resolve_device(self.config.device))

    @property
    def nbytes(self) -> int:
        d = self.data
        return sum(a.nbytes for a in (d.x, d.y, d.init, d.features, d.offset))


def step_settings(config: RunConfig) -> StepSettings:
    """The settings an implementation steps with (the schedule's horizon is the configured budget; the
    device as configured, which ``Experiment.step_settings`` resolves)."""
    return StepSettings(optimizer=config.optimizer, lr=config.lr, reduction=config.reduction,
                        schedule=config.schedule, total_steps=config.steps, compiled=config.compiled,
                        device=config.device)


def build_experiment(config: RunConfig) -> Experiment:
    """Draw the data and solve the least squares for one configuration (``experiment_of`` caches this)."""
    problem = problem_of(config)
    variant = problem.variant(config.variant)
    data = dataset_of(config)
    quad = quadratic_loss(data, config.reduction)
    initial_loss = float(quad.loss(data.init.astype(np.float64)))
    plan = record_steps(config.steps)
    plan.flags.writeable = False
    return Experiment(config=config, problem=problem, variant=variant, data=data, quad=quad,
                      initial_loss=initial_loss, divergence_limit=divergence_limit(initial_loss, quad.optimum_loss),
                      record_plan=plan, log_every=log_interval(variant.log_every, config.steps),
                      log_phase=variant.log_phase, intro_lines=intro_texts(problem, variant, data, quad.scale))


class ExperimentCache:
    """The experiments built lately, by configuration: at most ``entries`` of them holding at most
    ``max_bytes`` of data (an experiment larger than that is built but not kept). Safe across threads:
    every session of a Streamlit server shares it."""

    def __init__(self, entries: int = CACHE_ENTRIES, max_bytes: int = CACHE_BYTES) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self._kept: OrderedDict[RunConfig, Experiment] = OrderedDict()
        self._lock = threading.Lock()
        self.built = 0  # experiments built by this cache (a test counts them)

    def get(self, config: RunConfig) -> Experiment:
        with self._lock:
            kept = self._kept.get(config)
            if kept is not None:
                self._kept.move_to_end(config)
                return kept
        experiment = build_experiment(config)  # outside the lock: another session need not wait for it
        with self._lock:
            self.built += 1
            kept = self._kept.setdefault(config, experiment)
            self._kept.move_to_end(config)
            while len(self._kept) > self.entries or (len(self._kept) > 1 and self._bytes() > self.max_bytes):
                self._kept.popitem(last=False)
            if kept.nbytes > self.max_bytes:
                self._kept.pop(config, None)
            return kept

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)

    def _bytes(self) -> int:
        return sum(e.nbytes for e in self._kept.values())


EXPERIMENTS = ExperimentCache()


def experiment_of(config: RunConfig) -> Experiment:
    """The experiment of a configuration: built on first use, then the same object for every caller."""
    return EXPERIMENTS.get(config)
