"""The exact engine as an implementation: closed-form iterates, float64, any step at once."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..analytic import ExactState, ExactTrajectory, QuadraticLoss, loss_scale, quadratic_loss
from ..problems import Dataset
from .base import StepSettings, Stepper, TrainState


class AnalyticStepper(Stepper):
    def __init__(self, data: Dataset, settings: StepSettings, quad: QuadraticLoss | None = None) -> None:
        super().__init__(data, settings)
        # A run's experiment has solved this data's least squares already (fitcore.experiment): the
        # same function over the same float64 data, so reading it gives the very numbers solving again would.
        if quad is not None and quad.scale != loss_scale(settings.reduction, len(data.x)):
            raise ValueError(f"the solution given is for a loss scaled by {quad.scale:g}, not this run's "
                             f"{settings.reduction} over {len(data.x)} points")
        self.quad = quad if quad is not None else quadratic_loss(data, settings.reduction)
        self.trajectory = ExactTrajectory(self.quad, settings.optimizer, settings.schedule.is_constant)
        self.load(TrainState(data.init.astype(np.float64), {}, 0))

    def run(self, n: int, record: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        lrs = self.lrs(self.exact.t, n) if not self.settings.schedule.is_constant else np.full(1, self.settings.lr)
        losses = self.trajectory.losses(self.exact, lrs if len(lrs) == n else np.full(n, lrs[0]))
        offsets = np.asarray(sorted(set(record)) + [n], dtype=np.int64)
        errors, velocities = self.trajectory.advance(self.exact, lrs, offsets)
        self.exact = ExactState(errors[-1], velocities[-1], self.exact.t + n)
        return losses, self.trajectory.params_of(errors[:-1])

    def state(self) -> TrainState:
        slots = {}
        if self.settings.optimizer == "momentum":
            slots["velocity"] = self.trajectory.velocity_of(self.exact.velocity)
        return TrainState(self.trajectory.params_of(self.exact.error), slots, self.exact.t)

    def load(self, state: TrainState) -> None:
        velocity = state.slots.get("velocity", np.zeros(self.problem.n_params))
        self.exact = self.trajectory.to_eigen(state.params, velocity, state.t)

    def loss(self) -> float:
        return float(self.trajectory.loss_of(self.exact.error))


def make_stepper(data: Dataset, settings: StepSettings, quad: QuadraticLoss | None = None) -> Stepper:
    """The exact engine over ``data``; ``quad``, this data's least-squares solution where the caller has
    one, spares solving it again."""
    return AnalyticStepper(data.as_float64(), settings, quad)
