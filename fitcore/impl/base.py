"""What every implementation shares: settings, portable state, and the eager loop.

An implementation only says how one step is taken (``_step``) and how its parameters and
optimizer slots are read and written. The loop, per-step losses and recorded iterates are here;
history, stopping and divergence checks are in ``fitcore.engine``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..analytic import loss_scale
from ..optim import Schedule
from ..problems import Dataset


@dataclass(frozen=True)
class StepSettings:
    optimizer: str = "sgd"
    lr: float = 0.01
    reduction: str = "mean"
    schedule: Schedule = field(default_factory=Schedule)
    total_steps: int = 1
    compiled: bool = False
    device: str = "cpu"  # where a PyTorch run computes (resolved: never "auto"); others ignore it


@dataclass
class TrainState:
    """Parameters, optimizer slots (torch's conventions) and the number of updates applied."""

    params: np.ndarray
    slots: dict[str, np.ndarray]
    t: int

    def copy(self) -> "TrainState":
        return TrainState(self.params.copy(), {k: v.copy() for k, v in self.slots.items()}, self.t)


class Stepper(ABC):
    """Runs updates in chunks. State is explicit: ``state()`` reads it, ``load()`` replaces it."""

    compile_seconds: float = 0.0

    def __init__(self, data: Dataset, settings: StepSettings) -> None:
        self.data = data
        self.settings = settings
        self.problem = data.problem
        self.scale = loss_scale(settings.reduction, len(data.x))

    def lrs(self, start: int, count: int) -> np.ndarray:
        s = self.settings
        return s.schedule.values(s.lr, start, count, s.total_steps)

    def warmup(self) -> None:
        """Trace or compile ahead of the first chunk; eager implementations have nothing to do."""

    @abstractmethod
    def run(self, n: int, record: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        """Apply n updates. Returns the loss before each update (float64, length n) and θ after
        each of ``record`` updates (sorted offsets in 0..n), shape (len(record), p)."""

    @abstractmethod
    def state(self) -> TrainState: ...

    @abstractmethod
    def load(self, state: TrainState) -> None: ...

    @abstractmethod
    def loss(self) -> float:
        """The loss at the current parameters."""


class LoopStepper(Stepper):
    """An eager Python loop over ``_step``: the notebooks' shape, shared by every eager style."""

    t: int = 0

    @abstractmethod
    def _step(self, lr: float, t: int) -> Any:
        """One forward, gradient and update; returns the loss before the update."""

    @abstractmethod
    def _params(self) -> np.ndarray: ...

    def _losses_to_numpy(self, losses: list[Any]) -> np.ndarray:
        return np.array([float(v) for v in losses], dtype=np.float64)

    def _snapshot(self) -> Any:
        """θ now, in the framework's own type: a short run records most of its steps, so a record
        must cost no more than one framework operation; they become NumPy once per chunk."""
        return self._params()

    def _snapshots_to_numpy(self, snapshots: list[Any]) -> np.ndarray:
        return np.array(snapshots, dtype=np.float64).reshape(len(snapshots), self.problem.n_params)

    def run(self, n: int, record: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        wanted = set(record)
        recorded: list[Any] = []
        losses: list[Any] = []
        lrs = self.lrs(self.t, n).tolist()
        for i in range(n):
            if i in wanted:
                recorded.append(self._snapshot())
            losses.append(self._step(lrs[i], self.t))
            self.t += 1
        if n in wanted:
            recorded.append(self._snapshot())
        if not recorded:
            return self._losses_to_numpy(losses), np.empty((0, self.problem.n_params))
        return self._losses_to_numpy(losses), self._snapshots_to_numpy(recorded)
