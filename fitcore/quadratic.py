"""A loss quadratic in the parameters, s·‖Φθ − target‖², described by its optimum and spectrum.

A leaf module (NumPy only): the demos' definitions, the notebook starts rebuilt from printed numbers
and the closed forms in ``analytic`` all read the same description.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class QuadraticLoss:
    scale: float
    hessian: np.ndarray
    eigvals: np.ndarray  # ascending, ≥ 0
    eigvecs: np.ndarray  # columns
    optimum: np.ndarray
    optimum_loss: float

    @property
    def lambda_max(self) -> float:
        return float(self.eigvals[-1])

    @property
    def lambda_min(self) -> float:
        return float(self.eigvals[0])

    @property
    def condition_number(self) -> float:
        return self.lambda_max / self.lambda_min if self.lambda_min > 0 else float("inf")

    @property
    def max_stable_lr(self) -> float:
        """2/λmax: plain SGD with a larger constant learning rate diverges from almost any start."""
        return 2.0 / self.lambda_max if self.lambda_max > 0 else float("inf")

    def loss(self, params: np.ndarray) -> np.ndarray:
        """loss(θ) for θ of shape (..., p), without the cancellation of expanding the square."""
        error = np.asarray(params, dtype=np.float64) - self.optimum
        coords = error @ self.eigvecs
        return self.optimum_loss + 0.5 * np.sum(self.eigvals * coords**2, axis=-1)

    def gradient(self, params: np.ndarray) -> np.ndarray:
        return (np.asarray(params, dtype=np.float64) - self.optimum) @ self.hessian


def loss_scale(reduction: str, points: int) -> float:
    if reduction == "mean":
        return 1.0 / points
    if reduction == "sum":
        return 1.0
    raise ValueError(f"unknown reduction {reduction!r}; choose mean or sum")


def least_squares(phi: np.ndarray, target: np.ndarray, scale: float) -> QuadraticLoss:
    """The optimum and Hessian spectrum of s·‖Φθ − target‖² (float64)."""
    phi = np.asarray(phi, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    optimum, *_ = np.linalg.lstsq(phi, target, rcond=None)
    residual = phi @ optimum - target
    hessian = 2.0 * scale * (phi.T @ phi)
    eigvals, eigvecs = np.linalg.eigh(hessian)
    return QuadraticLoss(scale=scale, hessian=hessian, eigvals=np.clip(eigvals, 0.0, None), eigvecs=eigvecs,
                         optimum=optimum, optimum_loss=float(scale * residual @ residual))
