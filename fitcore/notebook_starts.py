"""The notebooks' starting points, computed from what they printed.

None of the notebooks seeded its start where fitcore could replay it, but most printed enough to
fix it:

- a start printed in full (seed 004's NumPy cell prints ``a = …, b = …``): read it;
- predictions of the start at known x (seed 002 prints ŷ = a·x² + b·x + c at x = 0…19, to five
  significant digits): a weighted least-squares fit of the model to them;
- a result after T steps of plain gradient descent (seeds 003 and 004 print ``Result: y = …``): the
  iterates are affine in the start, θ_T − θ* = (I − ηH)^T (θ₀ − θ*), so each eigen-direction of H
  whose factor (1 − ηλ)^T is still above rounding is divided back; a direction that decayed below
  it left no trace in anything printed after the first lines. The largest of those is fitted to
  one early printed loss, whose excess over the rest it alone explains (the loss is quadratic in it,
  so only its size matters, not its sign); the others start at the optimum.
- a float32 run of plain gradient descent: the same directions, sized from the losses it printed
  (``start_from_losses``), since float32 rounding keeps its result off the affine map.
"""
from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np

from .quadratic import QuadraticLoss

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
TRACE = 1e-12  # a direction shrunk below this factor has left no digit of its start in the printed numbers


def numbers_in(text: str) -> list[float]:
    """Every number written in a line, in order."""
    return [float(match) for match in NUMBER.findall(text)]


def printed_start(line: str) -> np.ndarray:
    """θ₀ from a line that prints it, ``a = 0.52…, b = -0.98…, …``."""
    return np.array(numbers_in(line.split("=", 1)[1]) if "=" in line else numbers_in(line), dtype=np.float64)


def printed_result(line: str) -> np.ndarray:
    """θ_T from a ``Result: y = a + b x + c x^2 + d x^3`` line (the powers are not parameters)."""
    expression = line.split("=", 1)[1]
    terms = [term.strip() for term in re.split(r"\s\+\s", expression)]
    return np.array([numbers_in(term)[0] for term in terms], dtype=np.float64)


def start_from_predictions(features: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """θ₀ whose predictions Φθ₀ best match printed ones, each weighted by its own precision: a value
    printed to five significant digits is known to a fixed fraction of itself, not to a fixed amount."""
    features = np.asarray(features, dtype=np.float64)
    predictions = np.asarray(predictions, dtype=np.float64)
    weights = 1.0 / np.maximum(np.abs(predictions), np.finfo(np.float64).tiny)
    start, *_ = np.linalg.lstsq(features * weights[:, None], predictions * weights, rcond=None)
    return start


def start_from_result(quad: QuadraticLoss, lr: float, steps: int, result: np.ndarray,
                      early: tuple[int, float] | None = None) -> np.ndarray:
    """θ₀ of a plain gradient-descent run with constant ``lr`` that printed θ after ``steps`` steps.

    ``early`` is (t, loss at step t before its update), a printed line used to size the fastest
    direction that still showed there.
    """
    shrink = 1.0 - lr * quad.eigvals
    with np.errstate(under="ignore"):
        factor = shrink**steps
    kept = np.abs(factor) > TRACE
    coords_end = (np.asarray(result, dtype=np.float64) - quad.optimum) @ quad.eigvecs
    coords = np.where(kept, coords_end / np.where(kept, factor, 1.0), 0.0)
    if early is not None and not kept.all():
        t, printed_loss = early
        with np.errstate(under="ignore"):
            at_t = shrink**t
        lost = np.flatnonzero(~kept)
        j = lost[np.argmax(np.abs(at_t[lost]))]
        explained = quad.optimum_loss + 0.5 * float(np.sum(quad.eigvals * (at_t * coords) ** 2))
        weight = 0.5 * quad.eigvals[j] * at_t[j] ** 2
        if printed_loss > explained and weight > 0:
            coords[j] = math.sqrt((printed_loss - explained) / weight)
    return quad.optimum + quad.eigvecs @ coords


def start_from_losses(quad: QuadraticLoss, lr: float, losses: Sequence[tuple[int, float]],
                      result: np.ndarray, steps: int) -> np.ndarray:
    """θ₀ of a plain gradient-descent run from the losses it printed along the way.

    loss(t) − loss* = Σᵢ ½λᵢ (1 − ηλᵢ)^{2t} cᵢ², linear in the unknowns cᵢ²: a least-squares
    fit to every printed loss (each weighted by its own size) gives each direction's size, and the
    printed result after ``steps`` steps its sign. A float32 run needs this rather than dividing its
    result back: float32 rounds every step off the affine map by about 1e-7, and dividing by
    (1 − ηλ)^T (3e-5 after 5000 steps) magnifies that into percent; the losses carry no such factor.
    """
    t = np.array([step for step, _ in losses], dtype=np.float64)
    printed = np.array([loss for _, loss in losses], dtype=np.float64)
    with np.errstate(under="ignore"):
        shrink = (1.0 - lr * quad.eigvals)[None, :] ** t[:, None]
    columns = 0.5 * quad.eigvals[None, :] * shrink**2
    excess = printed - quad.optimum_loss
    visible = columns.max(axis=0) > TRACE * np.abs(excess).max()
    weights = 1.0 / np.abs(printed)
    squares = np.zeros(len(quad.eigvals))
    squares[visible] = np.linalg.lstsq(columns[:, visible] * weights[:, None], excess * weights, rcond=None)[0]
    coords_end = (np.asarray(result, dtype=np.float64) - quad.optimum) @ quad.eigvecs
    signs = np.where(coords_end < 0, -1.0, 1.0)
    return quad.optimum + quad.eigvecs @ (signs * np.sqrt(np.clip(squares, 0.0, None)))
