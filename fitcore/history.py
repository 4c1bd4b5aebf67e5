"""What a run keeps of its past: at most ``HISTORY_CAP`` (step, loss, θ) points, whatever its length."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

HISTORY_CAP = 2000


def record_steps(total: int, cap: int = HISTORY_CAP) -> np.ndarray:
    """Steps whose iterates are kept: every step for short runs; otherwise half log-spaced (dense
    early, where the loss moves fastest) and half evenly spaced, with 0 and the last step."""
    if total + 1 <= cap:
        return np.arange(total + 1)
    half = (cap - 2) // 2
    even = np.round(np.linspace(0, total, half)).astype(np.int64)
    early = np.round(np.geomspace(1, total, half)).astype(np.int64)
    return np.unique(np.concatenate([[0, total], even, early]))


@dataclass
class History:
    """At most ``HISTORY_CAP`` recorded (step, loss, θ) points, whatever the number of steps."""

    plan: np.ndarray
    width: int  # parameters per point
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    params: list[np.ndarray] = field(default_factory=list)

    def add(self, step: int, loss: float, params: np.ndarray) -> None:
        if self.steps and step <= self.steps[-1]:
            return
        self.steps.append(int(step))
        self.losses.append(float(loss))
        self.params.append(np.asarray(params, dtype=np.float64))
        if len(self.steps) > HISTORY_CAP:
            keep = list(range(0, len(self.steps) - 1, 2)) + [len(self.steps) - 1]
            self.steps = [self.steps[i] for i in keep]
            self.losses = [self.losses[i] for i in keep]
            self.params = [self.params[i] for i in keep]

    def extend_plan(self, total: int) -> None:
        after = self.steps[-1] if self.steps else -1
        plan = record_steps(total)
        self.plan = np.union1d(self.plan[self.plan <= after], plan[plan > after])

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        steps = np.array(self.steps, dtype=np.int64)
        losses = np.array(self.losses, dtype=np.float64)
        params = np.array(self.params, dtype=np.float64).reshape(len(self.steps), self.width)
        return steps, losses, params

    def __len__(self) -> int:
        return len(self.steps)
