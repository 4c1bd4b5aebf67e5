"""Fit it yourself first: the loss and the gradient at a point the learner chose, and a run from there.

Every demo's loss is quadratic in θ (``fitcore.quadratic``), so reading it at a slider position costs
one small matrix expression, no pass over the data. The gradient's sign per parameter is what gradient
descent would do next: a negative ∂L/∂θᵢ means a step increases θᵢ.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .config import MAX_START, RunConfig, problem_of
from .experiment import experiment_of
from .quadratic import QuadraticLoss

# Below this share of its gradient at the data's own start a parameter counts as settled: the
# gradient hardly asks it to move any more.
SETTLED_SHARE = 1e-3


@dataclass(frozen=True)
class SliderRange:
    name: str
    low: float
    high: float
    step: float
    start: float      # where the run would start (the data's own θ₀)

    def snap(self, value: float) -> float:
        """``value`` on the slider's grid, inside its range."""
        return min(self.high, max(self.low, round(round(value / self.step) * self.step, 12)))


@dataclass(frozen=True)
class HandReading:
    """The loss and gradient at the learner's θ, and what the gradient asks each parameter to do."""

    params: tuple[float, ...]
    loss: float
    gradient: tuple[float, ...]
    optimum_loss: float
    moves: tuple[str, ...]           # "increase b", "decrease a", or "leave c" (already settled)

    @property
    def advice(self) -> str:
        """One line: what the gradient says, e.g. "the gradient says: increase b"."""
        return "The gradient says: " + ", ".join(self.moves)

    @property
    def gap(self) -> float:
        """How far the loss is above the best any θ reaches (never below 0: rounding is clipped)."""
        return max(0.0, self.loss - self.optimum_loss)


class HandFit:
    """One run's data, read at any θ: the same loss the run will train on."""

    def __init__(self, config: RunConfig) -> None:
        problem = problem_of(config)
        if not problem.page.by_hand:
            raise ValueError(f"{problem.id} has no by-hand mode (its definition's PageHints.by_hand)")
        self.config = config
        self.names: tuple[str, ...] = problem.param_names
        experiment = experiment_of(config.replace(start=None))  # the run's own, shared: solved once
        self.data = experiment.data
        self.start = experiment.init
        self.quad: QuadraticLoss = experiment.quad
        self._start_gradient = np.abs(self.quad.gradient(self.start))

    def read(self, params: tuple[float, ...] | list[float] | np.ndarray) -> HandReading:
        theta = np.asarray(params, dtype=np.float64)
        if theta.shape != (len(self.names),):
            raise ValueError(f"expected {len(self.names)} parameters ({', '.join(self.names)}), got {theta.shape}")
        gradient = self.quad.gradient(theta)
        moves = tuple(_move(name, g, reference)
                      for name, g, reference in zip(self.names, gradient, self._start_gradient))
        return HandReading(tuple(theta.tolist()), float(self.quad.loss(theta)), tuple(gradient.tolist()),
                           self.quad.optimum_loss, moves)

    def sliders(self) -> tuple[SliderRange, ...]:
        """One range per parameter holding the start and the optimum with room either side."""
        ranges = []
        for name, start, best in zip(self.names, self.start, self.quad.optimum):
            low, high = min(start, best), max(start, best)
            room = max(high - low, abs(best), 1.0) * 0.5
            step = _nice_step((high - low + 2 * room) / 400)
            ranges.append(SliderRange(name, _floor_to(low - room, step), _ceil_to(high + room, step), step,
                                      float(start)))
        return tuple(ranges)

    def finish_from(self, params: tuple[float, ...] | list[float] | np.ndarray) -> RunConfig:
        """The run's settings, starting from the learner's θ: gradient descent finishes what they began."""
        theta = tuple(float(v) for v in params)
        if len(theta) != len(self.names) or not all(math.isfinite(v) and abs(v) <= MAX_START for v in theta):
            raise ValueError(f"a start needs {len(self.names)} finite numbers within ±{MAX_START:g}, got {theta}")
        return self.config.replace(start=theta)


def _move(name: str, gradient: float, at_start: float) -> str:
    if gradient == 0 or abs(gradient) <= SETTLED_SHARE * at_start:
        return f"leave {name}"
    return f"{'increase' if gradient < 0 else 'decrease'} {name}"


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _floor_to(value: float, step: float) -> float:
    return round(math.floor(value / step) * step, 12)


def _ceil_to(value: float, step: float) -> float:
    return round(math.ceil(value / step) * step, 12)
