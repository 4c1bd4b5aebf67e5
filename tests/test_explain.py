"""The step-through arithmetic and the state at any step: against hand computations, against the engine's
own next step on every implementation, and against closed forms written out here."""
from __future__ import annotations

import math

import numpy as np
import pytest

import fitcore.explain as explain
from fitcore import OPTIMIZERS, Run, RunConfig, Schedule, get_problem, make_dataset
from fitcore.config import dataset_of
from fitcore.explain import (exact_state, explain_step, largest_difference, numpy_state, recorded_params,
                             start_state, state_at)
from fitcore.impl import TrainState

from conftest import ALL_IMPLS, DEMOS, quadratic_of, reference_run, require

# --- one step by hand: w·x on x = 1, 2, 3, 4, y = 2x ----------------------------------------------
# At w = 0.5 every residual is r = 0.5x − 2x = −1.5x, so Σr² = 2.25·Σx² = 2.25·30 = 67.5 and Σr·x = −1.5·30 = −45.


def linear(optimizer: str, reduction: str, schedule: Schedule = Schedule(), lr: float = 0.1,
           steps: int = 8) -> tuple[RunConfig, object]:
    config = RunConfig.notebook("linear-2x", "numpy", optimizer=optimizer, reduction=reduction, dtype="float64",
                                schedule=schedule, lr=lr, steps=steps)
    return config, make_dataset(get_problem("linear-2x"), 0, 4, 0.0, "float64")


def test_that_the_first_sgd_step_of_the_numpy_notebook_is_written_out_as_the_notebook_computes_it() -> None:
    config, data = linear("sgd", "sum", lr=0.01)
    ex = explain_step(config, data, start_state(data, "sgd"))
    assert ex.t == 0 and ex.points == 4 and ex.shown == 4 and ex.scale == 1.0
    assert ex.x.tolist() == [1, 2, 3, 4] and ex.y.tolist() == [2, 4, 6, 8]
    assert ex.predictions.tolist() == [0, 0, 0, 0]
    assert ex.residuals.tolist() == [-2, -4, -6, -8]
    assert ex.squares_sum == 120 and ex.loss == 120          # 4 + 16 + 36 + 64
    assert ex.sums.tolist() == [-60] and ex.gradient.tolist() == [-120]   # 2·(−2 − 8 − 18 − 32)
    assert ex.lr == 0.01
    assert ex.new_params == pytest.approx([1.2], rel=1e-15)  # the notebook's w = 1.200 after one step
    assert ex.new_loss == pytest.approx(0.64 * 30, rel=1e-14)  # r = −0.8x


def test_that_a_momentum_step_uses_its_buffer_and_the_step_schedules_learning_rate() -> None:
    config, data = linear("momentum", "mean", Schedule("step", gamma=0.5, step_size=4))
    ex = explain_step(config, data, TrainState(np.array([0.5]), {"velocity": np.array([3.0])}, 10))
    assert ex.loss == pytest.approx(67.5 / 4, rel=1e-15)
    assert ex.gradient == pytest.approx([2 / 4 * -45], rel=1e-15)      # −22.5
    assert ex.lr == pytest.approx(0.1 * 0.5**2, rel=1e-15)             # ⌊10/4⌋ = 2 halvings
    assert ex.slots_before["velocity"].tolist() == [3.0]
    assert ex.slots_after["velocity"] == pytest.approx([0.9 * 3 - 22.5], rel=1e-15)   # −19.8
    assert ex.new_params == pytest.approx([0.5 + 0.025 * 19.8], rel=1e-15)            # 0.995


def test_that_an_rmsprop_step_divides_by_the_root_of_its_running_square_with_an_exponential_schedule() -> None:
    config, data = linear("rmsprop", "mean", Schedule("exponential", gamma=0.5))
    ex = explain_step(config, data, TrainState(np.array([0.5]), {"square_avg": np.array([10.0])}, 3))
    square = 0.99 * 10 + 0.01 * 22.5**2                                 # 14.9625
    assert ex.slots_after["square_avg"] == pytest.approx([square], rel=1e-15)
    assert ex.lr == pytest.approx(0.1 * 0.5**3, rel=1e-15)
    assert ex.denominators == pytest.approx([math.sqrt(square) + 1e-8], rel=1e-15)
    assert ex.new_params == pytest.approx([0.5 + 0.0125 * 22.5 / (math.sqrt(square) + 1e-8)], rel=1e-14)


def test_that_an_adam_step_shows_both_moments_and_bias_corrections_with_a_cosine_schedule() -> None:
    config, data = linear("adam", "mean", Schedule("cosine", lr_min=0.0), steps=8)
    ex = explain_step(config, data, TrainState(np.array([0.5]), {"exp_avg": np.array([1.0]),
                                                                   "exp_avg_sq": np.array([4.0])}, 2))
    m = 1.0 + 0.1 * (-22.5 - 1.0)                                       # −1.35
    v = 0.999 * 4.0 + 0.001 * 22.5**2                                   # 4.50225
    c1, c2 = 1 - 0.9**3, 1 - 0.999**3                                   # update number t + 1 = 3
    lr = 0.1 * (1 + math.cos(math.pi * 2 / 8)) / 2
    assert ex.slots_after["exp_avg"] == pytest.approx([m], rel=1e-15)
    assert ex.slots_after["exp_avg_sq"] == pytest.approx([v], rel=1e-15)
    assert ex.corrections == pytest.approx((c1, c2), rel=1e-15)
    assert ex.lr == pytest.approx(lr, rel=1e-15)
    m_hat, v_hat = m / c1, v / c2
    assert ex.new_params == pytest.approx([0.5 - lr * m_hat / (math.sqrt(v_hat) + 1e-8)], rel=1e-13)


def test_that_only_the_first_points_are_shown_while_the_loss_and_gradient_sum_over_all_of_them() -> None:
    config = RunConfig.notebook("sine-cubic")
    data = make_dataset(get_problem("sine-cubic"), 0, 2000, 0.0, "float64")
    ex = explain_step(config, data, start_state(data, "sgd"), shown=3)
    quad = quadratic_of(data, "sum")
    theta = data.init.astype(np.float64)
    assert ex.shown == 3 and ex.points == 2000
    assert ex.residuals == pytest.approx(quad.residual(theta)[:3], rel=1e-13)
    assert ex.loss == pytest.approx(quad.loss(theta), rel=1e-13)
    assert ex.gradient == pytest.approx(quad.grad(theta), rel=1e-12)


# --- against the engine's own next step ------------------------------------------------------------

def lr_for(optimizer: str) -> float:
    return 1e-2 if optimizer in ("rmsprop", "adam") else 1e-5


def schedule_for(impl: str, optimizer: str) -> Schedule:
    # Momentum with a changing rate has no closed form, and Keras keeps lr inside its velocity.
    if optimizer == "momentum" and impl in ("analytic", "tf-tape"):
        return Schedule()
    return Schedule("exponential", gamma=0.8)


def tolerance(impl: str, optimizer: str, dtype: str) -> float:
    if impl == "numpy":
        return 0.0
    if impl == "tf-tape" and optimizer in ("rmsprop", "adam"):
        return 1e-6  # Keras places ε differently (fitcore.optim.KERAS_RESIDUALS)
    return 1e-5 if dtype == "float32" else 1e-12


ENGINE_CASES = [(impl, optimizer, dtype) for impl in ALL_IMPLS for optimizer in OPTIMIZERS
                for dtype in ("float32", "float64")
                if not (impl == "analytic" and (optimizer in ("rmsprop", "adam") or dtype == "float32"))]


@pytest.mark.parametrize("impl, optimizer, dtype", ENGINE_CASES)
def test_that_the_explained_update_lands_where_the_engine_lands(impl: str, optimizer: str, dtype: str) -> None:
    require(impl)
    config = RunConfig.notebook("quadratic-recovery", impl=impl, optimizer=optimizer, dtype=dtype,
                                lr=lr_for(optimizer), steps=20, schedule=schedule_for(impl, optimizer))
    run = Run(config)
    run.advance(max_steps=5)
    ex = explain_step(config, run.data, run.state())
    assert ex.t == 5
    assert ex.lr == pytest.approx(lr_for(optimizer) * 0.8**5 if config.schedule.kind != "constant"
                                  else lr_for(optimizer), rel=1e-15)
    run.advance(max_steps=1)
    difference = largest_difference(run.current_params, ex.new_params)
    allowed = tolerance(impl, optimizer, dtype)
    assert difference <= allowed, f"{difference:.3g} > {allowed:g}"
    loss_allowed = 0.0 if impl == "numpy" else (1e-5 if dtype == "float32" else 1e-10)
    assert ex.new_loss == pytest.approx(run.current_loss, rel=loss_allowed, abs=0.0)


@pytest.mark.parametrize("problem_id", DEMOS)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_that_the_numpy_implementations_next_theta_is_reproduced_bit_for_bit_on_every_demo(
        problem_id: str, optimizer: str) -> None:
    config = RunConfig.notebook(problem_id, impl="numpy", optimizer=optimizer, dtype="float32", steps=30,
                                lr=1e-3 if optimizer in ("rmsprop", "adam") else RunConfig.notebook(problem_id).lr,
                                schedule=Schedule("cosine", lr_min=0.0))
    run = Run(config)
    for _ in range(3):
        ex = explain_step(config, run.data, run.state())
        run.advance(max_steps=1)
        assert np.array_equal(ex.new_params, run.current_params)
        assert ex.new_loss == run.current_loss


# --- the state at any step -------------------------------------------------------------------------

def closed_form_sgd(data, reduction: str, lr: float, step: int) -> np.ndarray:
    """θ* + V·diag((1 − ηλ)^k)·Vᵀ(θ₀ − θ*), from the data (not from fitcore.analytic)."""
    quad = quadratic_of(data.as_float64(), reduction)
    optimum, _ = quad.optimum()
    lam, vecs = np.linalg.eigh(2 * quad.scale * quad.phi.T @ quad.phi)
    error = vecs.T @ (data.init.astype(np.float64) - optimum)
    return optimum + vecs @ ((1 - lr * lam) ** step * error)


def test_that_the_exact_state_reaches_step_one_million_of_the_recovery_notebook() -> None:
    config = RunConfig.notebook("quadratic-recovery", impl="analytic")
    data = make_dataset(get_problem("quadratic-recovery"), 0, 20, 3.0, "float32")
    state = exact_state(config, data, 1_000_000)
    assert state.t == 1_000_000 and state.slots == {}
    assert state.params == pytest.approx(closed_form_sgd(data, "mean", 1e-5, 1_000_000), rel=1e-10)


def test_that_the_exact_state_follows_a_schedule_and_momentum_step_by_step(monkeypatch) -> None:
    monkeypatch.setattr(explain, "EXACT_BLOCK", 7)  # several blocks of learning rates
    data = make_dataset(get_problem("quadratic-recovery"), 0, 20, 3.0, "float64")
    quad = quadratic_of(data, "mean")
    scheduled = RunConfig.notebook("quadratic-recovery", impl="analytic", dtype="float64", steps=50,
                                   schedule=Schedule("step", gamma=0.5, step_size=10))
    lrs = 1e-5 * 0.5 ** np.floor(np.arange(30) / 10)
    _, trail = reference_run(quad, data.init, "sgd", lrs)
    assert exact_state(scheduled, data, 30).params == pytest.approx(trail[30], rel=1e-12)
    momentum = scheduled.replace(optimizer="momentum", schedule=Schedule())
    _, trail = reference_run(quad, data.init, "momentum", np.full(30, 1e-5))
    state = exact_state(momentum, data, 30)
    assert state.params == pytest.approx(trail[30], rel=1e-12)
    previous = exact_state(momentum, data, 29)
    assert state.slots["velocity"] == pytest.approx(0.9 * previous.slots["velocity"] + quad.grad(previous.params),
                                                    rel=1e-9)


def test_that_a_recorded_sgd_step_is_the_runs_own_snapshot_and_an_unrecorded_one_is_unknown() -> None:
    config = RunConfig.notebook("sine-cubic", steps=5000)
    run = Run(config)
    run.advance()
    steps, _, params = run.history.arrays()
    assert len(steps) < 5001
    recorded = int(steps[len(steps) // 2])
    found = state_at(run, recorded)
    assert found.source == "recorded" and found.state.t == recorded
    assert np.array_equal(found.state.params, params[len(steps) // 2])
    missing = next(s for s in range(1, 5000) if recorded_params(run, s) is None)
    assert state_at(run, missing) is None
    assert state_at(run, run.step).source == "engine"


def test_that_replayed_optimizer_state_is_rebuilt_by_numpy_and_matches_a_run_stopped_there() -> None:
    config = RunConfig.notebook("linear-2x", "numpy", optimizer="adam", lr=0.05, steps=60)
    run = Run(config)
    run.advance()
    found = state_at(run, 23)
    stopped = Run(config)
    stopped.advance(max_steps=23)
    expected = stopped.state()
    assert found.source == "recomputed" and found.state.t == 23
    assert np.array_equal(found.state.params, expected.params)
    for name in ("exp_avg", "exp_avg_sq"):
        assert np.array_equal(found.state.slots[name], expected.slots[name])
    assert state_at(run, 23, recompute_limit=10) is None
    assert np.array_equal(numpy_state(config, 23).slots["exp_avg"], expected.slots["exp_avg"])


def test_that_asking_for_old_states_leaves_the_run_untouched() -> None:
    config = RunConfig.notebook("quadratic-recovery", impl="analytic", steps=100_000)
    run = Run(config)
    run.advance()
    before = (run.step, run.status, run.current_params.copy(), run.history.arrays())
    for step in (0, 1, 777, 54_321, 100_000):
        assert state_at(run, step) is not None
    after = (run.step, run.status, run.current_params, run.history.arrays())
    assert before[:2] == after[:2] and np.array_equal(before[2], after[2])
    assert all(np.array_equal(a, b) for a, b in zip(before[3], after[3]))


def test_that_a_run_not_yet_started_explains_its_first_step_without_loading_a_framework() -> None:
    config = RunConfig.notebook("quadratic-bias")  # TensorFlow's notebook
    run = Run(config)
    found = state_at(run, 0)
    assert not run.prepared and found.state.t == 0
    assert np.array_equal(found.state.params, run.data.init.astype(np.float64))


@pytest.mark.parametrize("standardise", [False, True])
def test_that_a_polynomial_fit_to_your_own_function_is_explained_as_its_run_computes_it(standardise: bool) -> None:
    from fitcore.custom import function_source
    source = function_source("sin(x)", -3, 3, degree=3, standardise=standardise)
    config = RunConfig.notebook("custom", custom=source).replace(impl="numpy", optimizer="momentum", steps=10)
    run = Run(config)
    run.advance(max_steps=4)
    ex = explain_step(config, run.data, run.state())
    run.advance(max_steps=1)
    assert np.array_equal(ex.new_params, run.current_params)
    assert np.array_equal(dataset_of(config).y, run.data.y)
