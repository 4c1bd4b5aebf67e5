"""What a demo looks like at the end of its notebook: its data and the fit the notebook ends with.

Every notebook's default run is plain gradient descent on a quadratic loss, so its last iterate is
the closed form θ_T = θ* + (I − ηH)^T (θ₀ − θ*) (fitcore.analytic): a 1,000,000-step notebook costs
what a 20-step one does. Any other optimizer falls back to the least-squares fit it heads for.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .analytic import exact_params, quadratic_loss
from .config import RunConfig, dataset_of
from .problems import get_problem

POINTS_SHOWN = 120  # a thumbnail: enough points to see the data's shape
CURVE_POINTS = 80


@dataclass(frozen=True)
class NotebookEnd:
    x: np.ndarray  # the data, thinned to at most POINTS_SHOWN points
    y: np.ndarray
    grid: np.ndarray  # x of the fitted curve
    fit: np.ndarray  # the fit the notebook ends with, at ``grid``
    steps: int


def notebook_end(problem_id: str) -> NotebookEnd:
    """The data of a demo's notebook run and its fit after the notebook's steps (float64)."""
    problem, config = get_problem(problem_id), RunConfig.notebook(problem_id)
    data = dataset_of(config, "float64")  # the notebook's own start where it printed one
    quad = quadratic_loss(data, config.reduction)
    init = data.init.astype(np.float64)
    if config.optimizer in ("sgd", "momentum") and config.schedule.is_constant:
        theta = exact_params(quad, init, config.optimizer, config.lr, np.array([config.steps]))[0]
    else:
        theta = quad.optimum
    x, y = data.x.astype(np.float64), data.y.astype(np.float64)
    keep = np.unique(np.round(np.linspace(0, len(x) - 1, min(len(x), POINTS_SHOWN))).astype(np.int64))
    grid = np.linspace(x.min(), x.max(), CURVE_POINTS)
    fit = np.broadcast_to(np.asarray(problem.predict(grid, list(theta)), dtype=np.float64), grid.shape)
    return NotebookEnd(x[keep], y[keep], grid, np.array(fit), int(config.steps))
