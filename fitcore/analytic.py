"""Closed forms for losses that are quadratic in the parameters.

loss(θ) = s·‖Φθ + offset − y‖² with s = 1/N (mean) or 1 (sum). Its Hessian is H = 2sΦᵀΦ, so
around the least-squares optimum θ* the loss is loss* + ½·eᵀHe with e = θ − θ*, and gradient
descent moves each eigen-direction of H independently:

  SGD:      eᵢ(t+1) = (1 − ηₜλᵢ)·eᵢ(t)                      — a product of scalars
  momentum: (eᵢ, vᵢ)(t+1) = Mᵢ·(eᵢ, vᵢ)(t),  Mᵢ = [[1 − ηλᵢ, −ημ], [λᵢ, μ]]   (torch's buffer)

so any step is reached at a cost independent of t. Everything here is float64.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .optim import MOMENTUM
from .problems import Dataset
from .quadratic import QuadraticLoss, least_squares, loss_scale

__all__ = ["AnalyticUnsupported", "ExactState", "ExactTrajectory", "QuadraticLoss", "exact_params", "loss_scale",
           "quadratic_loss"]


class AnalyticUnsupported(ValueError):
    """The closed form does not cover these settings (the message says what would)."""


def quadratic_loss(data: Dataset, reduction: str) -> QuadraticLoss:
    """The least-squares optimum and the Hessian spectrum of one dataset's loss (float64)."""
    data = data.as_float64()
    return least_squares(data.features, data.y - data.offset, loss_scale(reduction, len(data.x)))


def _momentum_matrices(eigvals: np.ndarray, lr: float) -> np.ndarray:
    """Mᵢ for each eigenvalue, shape (p, 2, 2), acting on (eᵢ, vᵢ)."""
    m = np.empty((len(eigvals), 2, 2))
    m[:, 0, 0] = 1 - lr * eigvals
    m[:, 0, 1] = -lr * MOMENTUM
    m[:, 1, 0] = eigvals
    m[:, 1, 1] = MOMENTUM
    return m


def _consecutive_powers(base: np.ndarray, count: int) -> np.ndarray:
    """base^0 … base^(count−1), shape (count, p, 2, 2), by doubling: log₂(count) batched products."""
    powers = np.broadcast_to(np.eye(2), (1,) + base.shape).copy()
    square = base.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        while len(powers) < count:
            powers = np.concatenate([powers, powers @ square])  # (A^0…A^(k−1)) then A^k·(A^0…A^(k−1))
            square = square @ square
    return powers[:count]


def _matrix_powers(base: np.ndarray, exponents: np.ndarray) -> np.ndarray:
    """base^k for every k in exponents by repeated squaring, shape (len(k), p, 2, 2)."""
    exponents = np.asarray(exponents, dtype=np.int64)
    result = np.broadcast_to(np.eye(2), (len(exponents),) + base.shape).copy()
    power = base.copy()
    remaining = exponents.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        while np.any(remaining > 0):
            odd = (remaining & 1).astype(bool)
            if np.any(odd):
                result[odd] = result[odd] @ power
            remaining >>= 1
            power = power @ power
    return result


@dataclass(frozen=True)
class ExactState:
    """Error from the optimum and momentum buffer in H's eigenbasis, after ``t`` updates."""

    error: np.ndarray
    velocity: np.ndarray
    t: int


class ExactTrajectory:
    """Gradient-descent iterates of one QuadraticLoss, evaluated at any step in closed form."""

    def __init__(self, quad: QuadraticLoss, optimizer: str, constant_lr: bool) -> None:
        if optimizer not in ("sgd", "momentum"):
            raise AnalyticUnsupported(
                f"the exact engine covers sgd and momentum only; {optimizer} is not linear in the "
                "iterates. Pick the NumPy implementation with float64 for an exact-enough reference.")
        if optimizer == "momentum" and not constant_lr:
            raise AnalyticUnsupported(
                "momentum with a changing learning rate has no closed form here; use a constant "
                "schedule, or the NumPy implementation with float64.")
        self.quad = quad
        self.optimizer = optimizer

    def to_eigen(self, params: np.ndarray, velocity: np.ndarray, t: int) -> ExactState:
        vecs = self.quad.eigvecs
        return ExactState((np.asarray(params, np.float64) - self.quad.optimum) @ vecs,
                          np.asarray(velocity, np.float64) @ vecs, t)

    def params_of(self, error: np.ndarray) -> np.ndarray:
        return self.quad.optimum + error @ self.quad.eigvecs.T

    def velocity_of(self, velocity: np.ndarray) -> np.ndarray:
        return velocity @ self.quad.eigvecs.T

    def loss_of(self, error: np.ndarray) -> np.ndarray:
        return self.quad.optimum_loss + 0.5 * np.sum(self.quad.eigvals * error**2, axis=-1)

    def advance(self, state: ExactState, lrs: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Error and velocity after ``offsets`` more updates, shape (k, p).

        ``lrs`` are the learning rates of the coming updates (offsets ≤ len(lrs)); when they are
        all equal one value is enough. Momentum needs them constant.
        """
        offsets = np.asarray(offsets, dtype=np.int64)
        lam = self.quad.eigvals
        with np.errstate(over="ignore", invalid="ignore"):
            if self.optimizer == "sgd":
                if len(lrs) == 0 or np.all(lrs == lrs[0]):
                    lr = lrs[0] if len(lrs) else 0.0
                    factors = (1 - lr * lam)[None, :] ** offsets[:, None].astype(np.float64)
                else:
                    cumulative = np.vstack([np.ones(len(lam)),
                                            np.cumprod(1 - np.outer(lrs, lam), axis=0)])
                    factors = cumulative[offsets]
                return factors * state.error, np.zeros((len(offsets), len(lam)))
            base = _momentum_matrices(lam, float(lrs[0]) if len(lrs) else 0.0)
            consecutive = len(offsets) > 1 and offsets[0] == 0 and np.all(np.diff(offsets) == 1)
            powers = _consecutive_powers(base, len(offsets)) if consecutive else _matrix_powers(base, offsets)
            pair = np.stack([state.error, state.velocity], axis=-1)  # (p, 2)
            moved = np.einsum("kpij,pj->kpi", powers, pair)
            return moved[..., 0], moved[..., 1]

    def losses(self, state: ExactState, lrs: np.ndarray, block: int = 1 << 16) -> np.ndarray:
        """loss before each of the coming len(lrs) updates, in blocks to bound memory."""
        out = np.empty(len(lrs))
        current = state
        for start in range(0, len(lrs), block):
            count = min(block, len(lrs) - start)
            chunk_lrs = lrs[start:start + count]
            offsets = np.arange(count + 1)
            errors, velocities = self.advance(current, chunk_lrs, offsets)
            with np.errstate(over="ignore", invalid="ignore"):
                out[start:start + count] = self.loss_of(errors[:-1])
            current = ExactState(errors[-1], velocities[-1], current.t + count)
        return out


def exact_params(quad: QuadraticLoss, init: np.ndarray, optimizer: str, lr: float,
                 steps: np.ndarray) -> np.ndarray:
    """θ after each of ``steps`` updates with a constant learning rate, shape (len(steps), p)."""
    trajectory = ExactTrajectory(quad, optimizer, constant_lr=True)
    state = trajectory.to_eigen(init, np.zeros_like(init, dtype=np.float64), 0)
    errors, _ = trajectory.advance(state, np.array([lr]), np.asarray(steps))
    return trajectory.params_of(errors)
