"""NumPy with the gradient written by hand, as seeds 001, 003 and 004 do.

Compiled path: the Gram matrix. The loss is quadratic, so ΦᵀΦ, Φᵀ(y − offset) and ‖y − offset‖²
are all a step needs: the cost no longer depends on the number of points.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..optim import init_slots, update
from ..problems import Dataset
from .base import LoopStepper, StepSettings, TrainState
from .linear_steps import advances_in_blocks, iterate, powers, step_map


def feature_sums(residual: np.ndarray, columns: Sequence[Any]) -> np.ndarray:
    """Σ r·φᵢ(x) for each feature φᵢ (None: the constant 1), each summed on its own as seeds 003 and 004
    write it (``grad_b = (grad_y_pred * x).sum()``): NumPy's pairwise sum, so their printed digits
    come out the same (one matrix product would round differently)."""
    return np.array([residual.sum() if column is None else (residual * column).sum() for column in columns],
                    dtype=residual.dtype)


class NumpyStepper(LoopStepper):
    def __init__(self, data: Dataset, settings: StepSettings) -> None:
        super().__init__(data, settings)
        self.x, self.y = data.x, data.y
        self.at_x = self.problem.features_at(self.x)
        self.phi = data.features
        self.reduce = np.mean if settings.reduction == "mean" else np.sum
        self.grad_scale = data.dtype.type(self.scale)
        self.feature_values = self.at_x.values
        self.load(TrainState(data.init.astype(np.float64), {}, 0))

    def _step(self, lr: float, t: int) -> Any:
        residual = self.at_x.predict(self.params.astype(self.x.dtype)) - self.y
        loss = self.reduce(residual**2)                     # s·Σ r²
        grad = feature_sums(2 * residual, self.feature_values)  # ∂/∂θᵢ = s·Σ 2r·φᵢ(x): chain rule through r²
        if self.scale != 1:
            grad = self.grad_scale * grad
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
    """The same updates from precomputed float64 Gram quantities, with the losses computed once per
    chunk from the iterates. SGD and momentum in float64 at a constant learning rate advance in
    blocks of linear steps (``linear_steps``); other settings step one at a time, the gradient
    rounded to the run's dtype as the eager loop rounds it."""

    def __init__(self, data: Dataset, settings: StepSettings) -> None:
        super().__init__(data, settings)
        phi = data.features.astype(np.float64)
        target = (data.y - data.offset).astype(np.float64)
        self.gram = phi.T @ phi
        self.moment = phi.T @ target
        self.target_sq = float(target @ target)
        self.linear = advances_in_blocks(settings.optimizer, str(data.dtype), settings.schedule)
        self._powers: dict[float, np.ndarray] = {}

    def _quadratic(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        theta = params.astype(np.float64)
        gram_theta = self.gram @ theta
        loss = self.scale * (theta @ gram_theta - 2 * theta @ self.moment + self.target_sq)
        return loss, 2 * self.scale * (gram_theta - self.moment)

    def _losses(self, thetas: np.ndarray) -> np.ndarray:
        """s·(θᵀGθ − 2θᵀm + ‖target‖²) for each row: the loss before each update, all at once."""
        quadratic = np.einsum("ij,ij->i", thetas @ self.gram, thetas)
        return self.scale * (quadratic - 2 * (thetas @ self.moment) + self.target_sq)

    def _step(self, lr: float, t: int) -> Any:
        # One update on its own (the shared loop's interface); run() takes whole chunks without it.
        loss, grad = self._quadratic(self.params)
        self.params, self.slots = update(self.settings.optimizer, self.params, grad.astype(self.data.dtype),
                                         self.slots, lr, t, np.sqrt)
        return loss

    def run(self, n: int, record: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        lrs = self.lrs(self.t, n)
        p = self.problem.n_params
        if self.linear:
            thetas = self._run_linear(lrs)
        else:
            thetas = self._run_steps(lrs)
        self.t += n
        with np.errstate(over="ignore", invalid="ignore"):
            losses = self._losses(thetas[:n])
        return losses, thetas[list(record)] if len(record) else np.empty((0, p))

    def _run_steps(self, lrs: np.ndarray) -> np.ndarray:
        """θ before each update and after the last, one update at a time (any optimizer, any dtype)."""
        dtype, optimizer = self.data.dtype, self.settings.optimizer
        gram, moment, two_s = self.gram, self.moment, 2 * self.scale
        params, slots, t = self.params, self.slots, self.t
        visited = []
        for i, lr in enumerate(lrs.tolist()):
            visited.append(params)
            grad = (two_s * (gram @ params - moment)).astype(dtype, copy=False)
            params, slots = update(optimizer, params, grad, slots, lr, t + i, np.sqrt)
        visited.append(params)
        self.params, self.slots = params, slots
        return np.array(visited, dtype=np.float64)

    def _run_linear(self, lrs: np.ndarray) -> np.ndarray:
        """The same iterates in blocks: one product of precomputed powers per stretch of equal rates."""
        p, momentum = self.problem.n_params, self.settings.optimizer == "momentum"
        state = np.concatenate([self.params, self.slots["velocity"] if momentum else [], [1.0]])
        changes = np.flatnonzero(np.diff(lrs)) + 1
        thetas = [state[None, :p]]
        for begin, end in zip(np.concatenate([[0], changes]), np.concatenate([changes, [len(lrs)]])):
            states = iterate(self._powers_at(float(lrs[begin])), state, int(end - begin))
            thetas.append(states[1:, :p])
            state = states[-1]
        self.params = state[:p].copy()
        if momentum:
            self.slots = {"velocity": state[p:2 * p].copy()}
        return np.concatenate(thetas)

    def _powers_at(self, lr: float) -> np.ndarray:
        if lr not in self._powers:
            if len(self._powers) >= 8:  # a step schedule's rates, one after another: keep the last few
                self._powers.clear()
            two_s = 2 * self.scale
            self._powers[lr] = powers(step_map(self.settings.optimizer, two_s * self.gram, two_s * self.moment, lr))
        return self._powers[lr]

    def loss(self) -> float:
        return float(self._quadratic(self.params)[0])


def make_stepper(data: Dataset, settings: StepSettings) -> LoopStepper:
    return NumpyGramStepper(data, settings) if settings.compiled else NumpyStepper(data, settings)
