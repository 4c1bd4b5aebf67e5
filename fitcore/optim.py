"""Optimizers and learning-rate schedules, written once for every array library.

The formulas follow torch.optim's conventions (momentum buffer ``v = μv + g``, epsilon outside
the square root). Implementations that use a framework's own optimizer class are configured
with these settings; where Keras's formula differs, ``KERAS_RESIDUALS`` says by how much.

``update`` works on NumPy arrays, torch tensors and TensorFlow tensors alike: it only needs
arithmetic operators and the library's ``sqrt``.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from .errors import ConfigError
from .settings import bounds

OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "rmsprop", "adam")
OPTIMIZER_LABELS: Mapping[str, str] = {
    "sgd": "SGD",
    "momentum": "SGD + momentum 0.9",
    "rmsprop": "RMSprop (α 0.99)",
    "adam": "Adam (0.9, 0.999)",
}
MOMENTUM = 0.9
RMS_ALPHA = 0.99
ADAM_BETAS = (0.9, 0.999)
EPS = 1e-8

# Slots hold the optimizer's state, one array shaped like the parameters per name.
SLOTS: Mapping[str, tuple[str, ...]] = {
    "sgd": (),
    "momentum": ("velocity",),
    "rmsprop": ("square_avg",),
    "adam": ("exp_avg", "exp_avg_sq"),
}

KERAS_RESIDUALS: Mapping[str, str] = {
    "momentum": "Keras keeps m = μm − lr·g (lr inside the velocity). With a constant learning "
    "rate that is exactly −lr times torch's buffer; with a changing schedule the two differ.",
    "rmsprop": "Keras divides by √(s + ε) where torch divides by √s + ε. fitcore passes Keras "
    "ε² = 1e-16, so the denominators differ by less than 1e-8.",
    "adam": "Keras adds ε to √v before the bias correction of v; torch after it. The effective "
    "ε differs by the factor √(1 − β₂ᵗ), which only matters while √v is near 1e-8. In float32 runs "
    "Keras also rounds β₁ and β₂ to float32, which makes the first steps up to 7e-6 (relative) shorter.",
}


def init_slots(optimizer: str, zeros_like: Callable[[], Any]) -> dict[str, Any]:
    """Fresh optimizer state: every slot starts at zero."""
    return {name: zeros_like() for name in SLOTS[optimizer]}


def update(optimizer: str, params: Any, grad: Any, slots: Mapping[str, Any], lr: Any, t: Any,
           sqrt: Callable[[Any], Any]) -> tuple[Any, dict[str, Any]]:
    """One optimizer step: returns the new parameters and slots.

    ``t`` counts the updates already applied (0 for the first), so Adam's bias correction
    uses ``t + 1``.
    """
    if optimizer == "sgd":
        return params - lr * grad, {}
    if optimizer == "momentum":
        velocity = MOMENTUM * slots["velocity"] + grad
        return params - lr * velocity, {"velocity": velocity}
    if optimizer == "rmsprop":
        square_avg = RMS_ALPHA * slots["square_avg"] + (1 - RMS_ALPHA) * grad * grad
        return params - lr * grad / (sqrt(square_avg) + EPS), {"square_avg": square_avg}
    if optimizer == "adam":
        beta1, beta2 = ADAM_BETAS
        # m moves toward g by (1 − β₁): torch's lerp, which rounds like Keras's assign_add.
        exp_avg = slots["exp_avg"] + (1 - beta1) * (grad - slots["exp_avg"])
        exp_avg_sq = beta2 * slots["exp_avg_sq"] + (1 - beta2) * grad * grad
        correction1 = 1 - beta1 ** (t + 1)
        correction2 = 1 - beta2 ** (t + 1)
        denom = sqrt(exp_avg_sq) / correction2**0.5 + EPS
        return params - (lr / correction1) * exp_avg / denom, {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


SCHEDULES: tuple[str, ...] = ("constant", "step", "exponential", "cosine")
SCHEDULE_LABELS: Mapping[str, str] = {
    "constant": "Constant",
    "step": "Step decay (× γ every k steps)",
    "exponential": "Exponential (× γ every step)",
    "cosine": "Cosine to lr_min over the run",
}


@dataclass(frozen=True)
class Schedule:
    """How the learning rate changes with the step t (0 for the first update).

    constant: lr. step: lr·γ^⌊t/k⌋ (torch StepLR). exponential: lr·γ^t (ExponentialLR).
    cosine: lr_min + (lr − lr_min)·(1 + cos(π·min(t, T)/T))/2 with T the run's step budget
    (CosineAnnealingLR / Keras CosineDecay).
    """

    kind: str = "constant"
    gamma: float = 0.5
    step_size: int = 100
    lr_min: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in SCHEDULES:
            raise ConfigError(f"schedule {self.kind!r} is not one of: {', '.join(SCHEDULES)}")
        gamma, step_size, lr_min = bounds("gamma"), bounds("step_size"), bounds("lr_min")
        if not _is_number(self.gamma) or not gamma.holds(self.gamma):
            raise ConfigError(f"schedule gamma must be a number in {gamma.interval()}, got {self.gamma!r}")
        if not isinstance(self.step_size, numbers.Integral) or isinstance(self.step_size, bool) \
                or not step_size.holds(self.step_size):
            raise ConfigError(f"schedule step size must be a whole number ≥ {step_size.low:g}, got {self.step_size!r}")
        if not _is_number(self.lr_min) or not lr_min.holds(self.lr_min):
            raise ConfigError(f"schedule lr_min must be a finite number ≥ {lr_min.low:g}, got {self.lr_min!r}")

    @property
    def is_constant(self) -> bool:
        return self.kind == "constant" or (self.kind in ("step", "exponential") and self.gamma == 1)

    def values(self, lr: float, start: int, count: int, total_steps: int) -> np.ndarray:
        """The learning rates of updates ``start .. start + count − 1`` as float64."""
        return self.values_at(lr, np.arange(start, start + count, dtype=np.float64), total_steps)

    def values_at(self, lr: float, steps: np.ndarray, total_steps: int) -> np.ndarray:
        """The learning rates of the updates numbered ``steps`` (0 for the first) as float64."""
        t = np.asarray(steps, dtype=np.float64)
        if self.kind == "constant":
            return np.full(t.shape, float(lr))
        if self.kind == "step":
            return lr * self.gamma ** np.floor(t / self.step_size)
        if self.kind == "exponential":
            return lr * self.gamma ** t
        horizon = max(int(total_steps), 1)
        progress = np.minimum(t, horizon) / horizon
        return self.lr_min + (lr - self.lr_min) * (1 + np.cos(math.pi * progress)) / 2

    def at(self, lr: float, t: int, total_steps: int) -> float:
        return float(self.values(lr, t, 1, total_steps)[0])

    def describe(self) -> str:
        if self.kind == "constant":
            return "constant"
        if self.kind == "step":
            return f"step decay ×{self.gamma:g} every {self.step_size} steps"
        if self.kind == "exponential":
            return f"exponential ×{self.gamma:g} per step"
        return f"cosine to {self.lr_min:g}"
