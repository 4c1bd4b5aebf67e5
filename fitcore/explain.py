"""The arithmetic of one update, number by number, and the state a run had at any step.

``explain_step`` takes a run's state θₜ (with its optimizer slots and t) to θₜ₊₁ the way
``fitcore.impl.numpy_manual`` does, keeping every intermediate number:

  predictions  ŷₖ = Σᵢ θᵢ·φᵢ(xₖ) + offset(xₖ)       residuals rₖ = ŷₖ − yₖ
  loss         L = s·Σₖ rₖ²                         s = 1/N (mean) or 1 (sum)
  gradient     gᵢ = 2s·Σₖ rₖ·φᵢ(xₖ)                 (the chain rule through rₖ²)
  update       fitcore.optim.update at the schedule's learning rate ηₜ

Like that implementation, the forward pass and gradient run in the data's dtype while θ stays
float64, so its θₜ₊₁ is the NumPy implementation's bit for bit; every other implementation
lands within its own float32/float64 rounding (and, for Keras, within ``KERAS_RESIDUALS``).

``state_at`` answers "what was the state at step k" for replay: the run's own state at its
current step, the recorded θ for SGD, the closed form (any step) for the analytic engine, and
a NumPy re-run for the optimizer slots nothing else remembers.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Mapping

import numpy as np

from .analytic import ExactState, ExactTrajectory, QuadraticLoss, loss_scale, quadratic_loss
from .config import RunConfig
from .engine import Run
from .experiment import experiment_of, step_settings
from .impl import TrainState
from .impl.numpy_manual import NumpyStepper, feature_sums
from .optim import ADAM_BETAS, EPS, SLOTS, Schedule, update
from .problems import Dataset

SHOWN_POINTS = 4
RECOMPUTE_LIMIT = 20_000  # slots are rebuilt by re-running NumPy up to this step (a fraction of a second)
EXACT_BLOCK = 1 << 16      # learning rates per block when a schedule makes every step's factor differ


@dataclass(frozen=True)
class StepExplanation:
    """Every number of the update θₜ → θₜ₊₁ (float64 copies of the values computed)."""

    t: int                            # updates applied before this one
    optimizer: str
    reduction: str
    scale: float                      # s
    points: int                       # N
    dtype: str                        # the dtype of the forward pass and gradient
    param_names: tuple[str, ...]
    params: np.ndarray                # θₜ
    x: np.ndarray                     # the first shown points
    y: np.ndarray
    features: np.ndarray              # φᵢ(xₖ) of the shown points, (shown, p)
    offset: np.ndarray                # offset(xₖ) of the shown points
    predictions: np.ndarray           # ŷₖ of the shown points
    residuals: np.ndarray             # rₖ of the shown points
    squares_sum: float                # Σₖ rₖ² over all N points
    loss: float                       # L(θₜ)
    sums: np.ndarray                  # Σₖ rₖ·φᵢ(xₖ) over all N points, (p,)
    gradient: np.ndarray              # g = 2s·sums
    base_lr: float
    schedule: Schedule
    total_steps: int                  # the schedule's horizon T
    lr: float                         # ηₜ
    slots_before: Mapping[str, np.ndarray]
    slots_after: Mapping[str, np.ndarray]
    corrections: tuple[float, float] | None   # Adam: 1 − β₁ᵗ⁺¹, 1 − β₂ᵗ⁺¹
    denominators: np.ndarray | None           # RMSprop √s + ε; Adam √v/√(1 − β₂ᵗ⁺¹) + ε
    new_params: np.ndarray            # θₜ₊₁
    new_loss: float                   # L(θₜ₊₁)

    @property
    def change(self) -> np.ndarray:
        """θₜ₊₁ − θₜ."""
        return self.new_params - self.params

    @property
    def shown(self) -> int:
        return len(self.x)


def start_state(data: Dataset, optimizer: str) -> TrainState:
    """θ₀ with every optimizer slot at zero, before the first update."""
    init = data.init.astype(np.float64)
    return TrainState(init, {name: np.zeros_like(init) for name in SLOTS[optimizer]}, 0)


def _forward(data: Dataset, params: np.ndarray, reduction: str, design: bool) -> tuple[np.ndarray, np.ndarray,
                                                                                      np.generic]:
    """Predictions, residuals and loss in the data's dtype: from the model's formula, as NumpyStepper
    computes them, or (``design``) as Φθ + offset from the stored design, which the exact engine uses."""
    if design:
        prediction = data.features @ params.astype(data.dtype) + data.offset
    else:
        prediction = np.broadcast_to(data.problem.predict(data.x, params.astype(data.dtype)), data.x.shape)
    residual = prediction - data.y
    reduce = np.mean if reduction == "mean" else np.sum
    return prediction, residual, reduce(residual**2)


def explain_step(config: RunConfig, data: Dataset, state: TrainState, shown: int = SHOWN_POINTS) -> StepExplanation:
    """The update from ``state`` (θₜ, slots in torch's conventions, t), with every number kept."""
    exact = config.impl == "analytic"
    if exact:
        data = data.as_float64()  # the exact engine is float64 whatever the configured dtype
    dtype = data.dtype
    scale = loss_scale(config.reduction, len(data.x))
    params = np.asarray(state.params, dtype=np.float64)
    slots = {name: np.asarray(state.slots.get(name, np.zeros_like(params)), dtype=np.float64).astype(dtype)
             for name in SLOTS[config.optimizer]}

    lr = config.schedule.at(config.lr, state.t, config.steps)
    corrections, denominators = None, None
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is explained too, infinities and all
        prediction, residual, loss = _forward(data, params, config.reduction, exact)
        sums = feature_sums(residual, [None if f.is_constant else data.features[:, i]
                                       for i, f in enumerate(data.problem.features)])
        gradient = dtype.type(2 * scale) * sums
        new_params, new_slots = update(config.optimizer, params, gradient, slots, lr, state.t, np.sqrt)
        new_params = np.asarray(new_params, dtype=np.float64)
        *_, new_loss = _forward(data, new_params, config.reduction, exact)
        squares_sum = float(np.sum(residual**2))
        if config.optimizer == "rmsprop":
            denominators = np.sqrt(new_slots["square_avg"].astype(np.float64)) + EPS
        elif config.optimizer == "adam":
            beta1, beta2 = ADAM_BETAS
            corrections = (1 - beta1 ** (state.t + 1), 1 - beta2 ** (state.t + 1))
            denominators = np.sqrt(new_slots["exp_avg_sq"].astype(np.float64)) / corrections[1] ** 0.5 + EPS

    k = min(shown, len(data.x))
    as64 = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    return StepExplanation(
        t=state.t, optimizer=config.optimizer, reduction=config.reduction, scale=scale, points=len(data.x),
        dtype=str(dtype), param_names=data.problem.param_names, params=params,
        x=as64(data.x[:k]), y=as64(data.y[:k]), features=as64(data.features[:k]), offset=as64(data.offset[:k]),
        predictions=as64(prediction[:k]), residuals=as64(residual[:k]),
        squares_sum=squares_sum, loss=float(loss), sums=as64(sums), gradient=as64(gradient),
        base_lr=float(config.lr), schedule=config.schedule, total_steps=config.steps, lr=float(lr),
        slots_before={name: as64(v) for name, v in slots.items()},
        slots_after={name: as64(v) for name, v in new_slots.items()},
        corrections=corrections, denominators=denominators, new_params=new_params, new_loss=float(new_loss))


# --- the state at any step (replay) -------------------------------------------------------------

def exact_state(config: RunConfig, data: Dataset, step: int, quad: QuadraticLoss | None = None) -> TrainState:
    """θ (and the momentum buffer) after ``step`` updates, in closed form, float64.

    SGD with any schedule and momentum with a constant learning rate: the analytic engine's
    cases (``AnalyticUnsupported`` otherwise). The cost does not grow with ``step`` for a
    constant rate; a changing one multiplies ``step`` scalar factors per eigen-direction. ``quad`` is
    the data's loss where the caller has it (a run's experiment); otherwise it is solved here.
    """
    quad = quadratic_loss(data, config.reduction) if quad is None else quad
    trajectory = ExactTrajectory(quad, config.optimizer, config.schedule.is_constant)
    init = data.init.astype(np.float64)
    exact = trajectory.to_eigen(init, np.zeros_like(init), 0)
    if config.schedule.is_constant:
        errors, velocities = trajectory.advance(exact, np.array([config.lr]), np.array([step]))
        exact = ExactState(errors[-1], velocities[-1], step)
    else:
        while exact.t < step:
            count = min(EXACT_BLOCK, step - exact.t)
            lrs = config.schedule.values(config.lr, exact.t, count, config.steps)
            errors, velocities = trajectory.advance(exact, lrs, np.array([count]))
            exact = ExactState(errors[-1], velocities[-1], exact.t + count)
    slots = {"velocity": trajectory.velocity_of(exact.velocity)} if config.optimizer == "momentum" else {}
    return TrainState(trajectory.params_of(exact.error), slots, step)


def numpy_state(config: RunConfig, step: int) -> TrainState:
    """The state after ``step`` updates of the NumPy implementation (the eager loop) on this run's data."""
    experiment = experiment_of(config)
    stepper = NumpyStepper(experiment.data, replace(step_settings(config), compiled=False))
    stepper.run(step)
    return stepper.state()


@dataclass(frozen=True)
class StateAt:
    """A run's state at one step, and where it came from (engine, recorded, exact or recomputed)."""

    state: TrainState
    source: str


def recorded_params(run: Run, step: int) -> np.ndarray | None:
    """θ the run recorded at exactly ``step``, if it did."""
    steps, _, params = run.history.arrays()
    index = int(np.searchsorted(steps, step))
    return params[index] if index < len(steps) and steps[index] == step else None


def state_at(run: Run, step: int, recompute: Callable[[RunConfig, int], TrainState] = numpy_state,
             recompute_limit: int = RECOMPUTE_LIMIT) -> StateAt | None:
    """The state of ``run`` after ``step`` updates, without changing the run; None when nothing knows it.

    ``recompute`` re-runs the NumPy loop for optimizer slots that were never recorded (pass a cached
    version); its θ is replaced by the recorded one, so the state always starts from what the run had.
    """
    config = run.config
    if step == run.step and run.prepared:
        return StateAt(run.state(), "engine")
    if step == 0:
        return StateAt(start_state(run.data, config.optimizer), "engine" if not run.prepared else "recorded")
    if not 0 < step <= run.step:
        return None
    recorded = recorded_params(run, step)
    if config.impl == "analytic":
        exact = exact_state(config, run.data, step, run.quad)
        if recorded is not None:
            exact = TrainState(recorded, exact.slots, step)
        return StateAt(exact, "exact")
    if recorded is None:
        return None
    if not SLOTS[config.optimizer]:
        return StateAt(TrainState(recorded, {}, step), "recorded")
    if step > recompute_limit:
        return None
    rebuilt = recompute(config, step)
    return StateAt(TrainState(recorded, rebuilt.slots, step), "recomputed")


def largest_difference(expected: np.ndarray, actual: np.ndarray) -> float:
    """max |expected − actual| relative to the size of ``expected`` (0 when they are identical)."""
    expected, actual = np.asarray(expected, np.float64), np.asarray(actual, np.float64)
    scale = max(float(np.abs(expected).max()), np.finfo(float).tiny)
    return float(np.abs(expected - actual).max() / scale)
