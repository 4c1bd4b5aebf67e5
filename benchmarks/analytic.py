"""The closed form on seed 002's run: 1,000,000 SGD steps, 1,000 checkpoints, against the NumPy loop.

The exact side is ``quadratic_loss(data)`` (least squares and the Hessian's eigen-decomposition)
plus ``exact_params`` at the 1,000 checkpoints, timed together. The loop is the notebook's
recipe in NumPy float64 (predict, mean squared error, its gradient, θ −= lr·g), keeping θ every
1,000 steps. Both use the same float64 data; the pair runs back to back.
"""
from __future__ import annotations

import time

import numpy as np

from fitcore import Run, RunConfig, exact_params, get_problem, make_dataset, quadratic_loss
from fitcore.problems import Dataset

from .stats import Section, paired, ratios, stat

STEPS, CHECKPOINTS = 1_000_000, 1_000
SMOKE_STEPS, SMOKE_CHECKPOINTS = 2_000, 10
TIME_TARGET = 0.010
SPEEDUP_TARGET = 1000.0
AGREEMENT_TARGET = 1e-9


def recovery_data() -> tuple[Dataset, float]:
    config = RunConfig.notebook("quadratic-recovery", dtype="float64")
    problem = get_problem(config.problem)
    return make_dataset(problem, config.seed, config.points, config.noise, "float64"), config.lr


def numpy_loop(data: Dataset, lr: float, steps: int, every: int) -> np.ndarray:
    """Seed 002's recipe in NumPy float64, θ kept every ``every`` steps."""
    x, y = data.x, data.y
    phi_t = np.stack([x**2, x, np.ones_like(x)])
    params = data.init.astype(np.float64).copy()
    kept = []
    scale = 2.0 / len(x)
    for i in range(1, steps + 1):
        a, b, c = params
        yhat = a * (x**2) + b * x + c
        grad = scale * (phi_t @ (yhat - y))  # ∂ mean((ŷ − y)²)/∂θ
        params = params - lr * grad
        if i % every == 0:
            kept.append(params)
    return np.array(kept)


def exact(data: Dataset, lr: float, checkpoints: np.ndarray) -> np.ndarray:
    quad = quadratic_loss(data, "mean")
    return exact_params(quad, data.init.astype(np.float64), "sgd", lr, checkpoints)


def time_exact(data: Dataset, lr: float, checkpoints: np.ndarray, repeats: int = 20) -> float:
    """The fastest of a few back-to-back calls (a single call lasts well under the timer's noise)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        exact(data, lr, checkpoints)
        best = min(best, time.perf_counter() - started)
    return best


def run_group(runs: int, smoke: bool) -> Section:
    steps, count = (SMOKE_STEPS, SMOKE_CHECKPOINTS) if smoke else (STEPS, CHECKPOINTS)
    every = steps // count
    checkpoints = np.arange(every, steps + 1, every)
    data, lr = recovery_data()
    section = Section("analytic", "The closed form against the NumPy loop")
    section.notes.append(__doc__.split("\n\n", 1)[1].replace("\n", " "))

    reference = numpy_loop(data, lr, steps, every)
    closed = exact(data, lr, checkpoints)
    worst = float((np.abs(closed - reference) / np.abs(reference).max(axis=1, keepdims=True)).max())

    loop_times, exact_times = paired(lambda: _timed_loop(data, lr, steps, every),
                                     lambda: time_exact(data, lr, checkpoints), runs)
    exact_stat = stat([t * 1e3 for t in exact_times], "ms")
    section.add(f"closed form: {steps:,} steps, {count:,} checkpoints (least squares + eigen + iterates)",
                exact_stat, f"≤ {TIME_TARGET * 1e3:g} ms", exact_stat.median <= TIME_TARGET * 1e3,
                "each sample the fastest of 20 back-to-back calls")
    speedup = ratios(loop_times, exact_times)
    section.add("closed form ÷ NumPy float64 loop (speed-up)", speedup, f"≥ {SPEEDUP_TARGET:g}×",
                speedup.median >= SPEEDUP_TARGET, f"loop {stat(loop_times, 's').text()} for {steps:,} steps")
    section.add("closed form vs NumPy float64 loop, largest difference at the checkpoints (relative to ‖θ‖∞)",
                f"{worst:.1e}", f"≤ {AGREEMENT_TARGET:g}", worst <= AGREEMENT_TARGET,
                f"θ at step {steps:,}: exact {np.array2string(closed[-1], precision=7)}, loop "
                f"{np.array2string(reference[-1], precision=7)}")

    config = RunConfig.notebook("quadratic-recovery", impl="analytic", steps=steps)
    engine = [_timed_engine(config) for _ in range(runs)]
    section.add(f"the analytic implementation through the engine ({steps:,} steps, ≤ 2,000 history points, "
                "every step's loss)", stat(engine, "s"),
                note="what the dashboard's Exact engine does: every step's loss for divergence and stop checks")
    return section


def _timed_loop(data: Dataset, lr: float, steps: int, every: int) -> float:
    started = time.perf_counter()
    numpy_loop(data, lr, steps, every)
    return time.perf_counter() - started


def _timed_engine(config: RunConfig) -> float:
    started = time.perf_counter()
    Run(config).advance()
    return time.perf_counter() - started
