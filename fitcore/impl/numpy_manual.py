"""NumPy with the gradient written by hand, as seeds 001, 003 and 004 do.

Compiled path: the Gram matrix. The loss is quadratic, so ΦᵀΦ, Φᵀ(y − offset) and ‖y − offset‖²
are all a step needs: the cost no longer depends on the number of points.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..optim import init_slots, update
from ..problems import Dataset
from .base import LoopStepper, StepSettings, TrainState


class NumpyStepper(LoopStepper):
    def __init__(self, data: Dataset, settings: StepSettings) -> None:
        super().__init__(data, settings)
        self.x, self.y = data.x, data.y
        self.at_x = self.problem.features_at(self.x)
        self.phi = data.features
        self.reduce = np.mean if settings.reduction == "mean" else np.sum
        self.grad_scale = data.dtype.type(2 * self.scale)
        self.load(TrainState(data.init.astype(np.float64), {}, 0))

    def _step(self, lr: float, t: int) -> Any:
        residual = self.at_x.predict(self.params.astype(self.x.dtype)) - self.y
        loss = self.reduce(residual**2)                     # s·Σ r²
        grad = self.grad_scale * (self.phi.T @ residual)     # ∂/∂θᵢ = 2s·Σ r·φᵢ(x): chain rule through r²
        self.params, self.slots = update(self.settings.optimizer, self.params, grad, self.slots, lr, t, np.sqrt)
        return loss

    def _params(self) -> np.ndarray:
        return self.params.astype(np.float64)

    def state(self) -> TrainState:
        return TrainState(self._params(), {k: v.astype(np.float64) for k, v in self.slots.items()}, self.t)

    def load(self, state: TrainState) -> None:
        dtype = self.data.dtype
        # θ stays float64, as the notebooks' Python-float parameters (w = 0.0) do: the forward pass
        # and gradient run in the data's dtype, the update w -= lr·grad in float64 (seed 001's log).
        self.params = state.params.astype(np.float64)
        slots = init_slots(self.settings.optimizer, lambda: np.zeros_like(self.params))
        self.slots = {k: state.slots.get(k, v).astype(dtype) for k, v in slots.items()}
        self.t = state.t

    def loss(self) -> float:
        residual = self.at_x.predict(self.params.astype(self.x.dtype)) - self.y
        return float(self.reduce(residual**2))


class NumpyGramStepper(NumpyStepper):
    """Same updates from precomputed float64 Gram quantities; parameters stay in the run dtype."""

    def __init__(self, data: Dataset, settings: StepSettings) -> None:
        super().__init__(data, settings)
        phi = data.features.astype(np.float64)
        target = (data.y - data.offset).astype(np.float64)
        self.gram = phi.T @ phi
        self.moment = phi.T @ target
        self.target_sq = float(target @ target)

    def _quadratic(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        theta = params.astype(np.float64)
        gram_theta = self.gram @ theta
        loss = self.scale * (theta @ gram_theta - 2 * theta @ self.moment + self.target_sq)
        return loss, 2 * self.scale * (gram_theta - self.moment)

    def _step(self, lr: float, t: int) -> Any:
        loss, grad = self._quadratic(self.params)
        self.params, self.slots = update(self.settings.optimizer, self.params, grad.astype(self.data.dtype),
                                         self.slots, lr, t, np.sqrt)
        return loss

    def loss(self) -> float:
        return float(self._quadratic(self.params)[0])


def make_stepper(data: Dataset, settings: StepSettings) -> LoopStepper:
    return NumpyGramStepper(data, settings) if settings.compiled else NumpyStepper(data, settings)
