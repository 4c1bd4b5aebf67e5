"""SGD and momentum on a quadratic loss: each step is one fixed linear map of the state.

The gradient 2s·(Gθ − m) is linear in θ, so with a constant learning rate an SGD step maps
z = (θ, 1) to A·z, and a momentum step maps z = (θ, v, 1) to A·z (v is torch's buffer). Then k
steps are Aᵏ·z: a block of K steps is one product of the precomputed powers A¹…Aᴷ with the state,
where the Python loop would take K trips. The powers come from repeated multiplication, not from an
eigen-decomposition, so each iterate is rounded much as the loop rounds it (the closed form, in
``fitcore.analytic``, is the other way).
"""
from __future__ import annotations

import numpy as np

from ..optim import MOMENTUM, Schedule

LINEAR_OPTIMIZERS = ("sgd", "momentum")
BLOCK = 256  # steps per product: 256 powers of a (2p + 1)² map stay small beside a chunk


def advances_in_blocks(optimizer: str, dtype: str, schedule: Schedule) -> bool:
    """Whether the Gram path takes these settings in blocks: a linear optimizer, float64 (float32
    rounds the gradient every step, which no power of a map reproduces) and a rate that holds for
    at least a block (one that changes every few steps would rebuild the powers more often than
    it used them)."""
    steady = schedule.is_constant or (schedule.kind == "step" and schedule.step_size >= BLOCK)
    return optimizer in LINEAR_OPTIMIZERS and dtype == "float64" and steady


def step_map(optimizer: str, gram2: np.ndarray, moment2: np.ndarray, lr: float) -> np.ndarray:
    """A with z′ = A·z for one step, from the gradient's pieces g = gram2·θ − moment2."""
    p = len(moment2)
    eye = np.eye(p)
    if optimizer == "sgd":  # θ′ = θ − lr·g
        a = np.zeros((p + 1, p + 1))
        a[:p, :p] = eye - lr * gram2
        a[:p, p] = lr * moment2
        a[p, p] = 1.0
        return a
    if optimizer != "momentum":
        raise ValueError(f"{optimizer} is not a linear map of the state")
    # v′ = μv + g; θ′ = θ − lr·v′
    a = np.zeros((2 * p + 1, 2 * p + 1))
    velocity = a[p:2 * p]
    velocity[:, :p] = gram2
    velocity[:, p:2 * p] = MOMENTUM * eye
    velocity[:, 2 * p] = -moment2
    a[:p, :p] = eye
    a[:p] -= lr * velocity
    a[2 * p, 2 * p] = 1.0
    return a


def powers(a: np.ndarray, count: int = BLOCK) -> np.ndarray:
    """A¹ … Aᶜᵒᵘⁿᵗ stacked as one (count·q, q) matrix, so a block of states is one product."""
    q = len(a)
    stacked = np.empty((count, q, q))
    stacked[0] = a
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging map overflows: the engine stops it
        for k in range(1, count):
            np.matmul(a, stacked[k - 1], out=stacked[k])
    return stacked.reshape(count * q, q)


def iterate(stacked_powers: np.ndarray, start: np.ndarray, n: int) -> np.ndarray:
    """The states z₀ … zₙ, shape (n + 1, q), from z₀ = ``start``."""
    q = len(start)
    count = len(stacked_powers) // q
    states = np.empty((n + 1, q))
    states[0] = start
    done = 0
    with np.errstate(over="ignore", invalid="ignore"):
        while done < n:
            k = min(count, n - done)
            states[done + 1:done + 1 + k] = (stacked_powers[:k * q] @ states[done]).reshape(k, q)
            done += k
    return states
