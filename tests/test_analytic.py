"""The exact engine: least-squares optimum, Hessian spectrum, and closed-form SGD/momentum iterates.

References are float64 loops written out in conftest.py (not fitcore.optim.update); "relative" below
means relative to the size of the reference parameter vector, so coordinates near zero are judged
on the vector's scale.
"""
from __future__ import annotations

import numpy as np
import pytest

import fitcore
from fitcore.config import dataset_of
from fitcore import (AnalyticUnsupported, ConfigError, Run, RunConfig, Schedule, exact_params, get_problem,
                     make_dataset, quadratic_loss, train)
from fitcore.impl import StepSettings, make_stepper

from conftest import DEMOS, Quadratic, assert_losses_close, assert_params_close, quadratic_of, reference_run

EXACT = 1e-9  # the bar for analytic vs the float64 loop


def dataset(problem_id: str, dtype: str = "float64", **overrides) -> tuple[fitcore.Dataset, RunConfig]:
    """Seed 0's data, which reference/baseline.md measured (torch.manual_seed(0) for seed 002)."""
    config = RunConfig.notebook(problem_id, dtype=dtype, **{"seed": 0} | overrides)
    return dataset_of(config, dtype), config


# --- optimum and spectrum ----------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("problem_id", DEMOS)
def test_that_the_optimum_is_the_least_squares_solution(problem_id: str, reduction: str) -> None:
    data, _ = dataset(problem_id)
    quad = quadratic_loss(data, reduction)
    written = Quadratic(problem_id, data.x, data.y, reduction)
    theta, best = written.optimum()
    assert_params_close(quad.optimum, theta, 1e-9)
    assert quad.optimum_loss == pytest.approx(best, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(quad.eigvals, written.hessian_eigenvalues(), rtol=1e-9, atol=1e-9 * quad.lambda_max)
    assert quad.max_stable_lr == pytest.approx(2 / written.hessian_eigenvalues().max(), rel=1e-12)


@pytest.mark.parametrize("problem_id", DEMOS)
def test_that_the_closed_form_loss_and_gradient_equal_the_written_out_ones(problem_id: str) -> None:
    data, config = dataset(problem_id)
    quad = quadratic_loss(data, config.reduction)
    written = quadratic_of(data, config.reduction)
    for theta in np.random.default_rng(1).normal(size=(5, data.features.shape[1])) * 3:
        assert quad.loss(theta) == pytest.approx(written.loss(theta), rel=1e-10)
        assert_params_close(quad.gradient(theta), written.grad(theta), 1e-10)


def test_that_quadratic_recoverys_optimum_spectrum_and_stable_rate_are_the_baselines() -> None:
    data, _ = dataset("quadratic-recovery")
    quad = quadratic_loss(data, "mean")
    np.testing.assert_allclose(quad.optimum, [0.7208789, -13.39151, 65.16941], rtol=2e-6)
    assert quad.optimum_loss == pytest.approx(5.92104, rel=2e-6)
    np.testing.assert_allclose(quad.eigvals, [0.2586, 15.98, 56499], rtol=1e-3)
    assert quad.max_stable_lr == pytest.approx(3.5e-5, rel=0.02)
    # at the notebook's lr the slowest direction still keeps (1 − lr·λmin)^1e6 ≈ 7.5 % of its error
    assert (1 - 1e-5 * quad.lambda_min) ** 1_000_000 == pytest.approx(0.075, abs=0.005)


def test_that_sine_cubics_best_possible_loss_is_8_817165() -> None:
    data, _ = dataset("sine-cubic")
    quad = quadratic_loss(data, "sum")
    assert quad.optimum_loss == pytest.approx(8.817165, abs=5e-7)
    np.testing.assert_allclose(quad.optimum[[1, 3]], [0.8567408, -0.0933304], rtol=1e-6)
    np.testing.assert_allclose(quad.optimum[[0, 2]], [0.0, 0.0], atol=1e-12)  # odd function: even terms vanish


# --- exact iterates ----------------------------------------------------------------------------

def rate(quad: fitcore.QuadraticLoss, fraction: float) -> float:
    return fraction * quad.max_stable_lr


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
@pytest.mark.parametrize("fraction", [0.25, 0.9])
@pytest.mark.parametrize("problem_id", DEMOS)
def test_that_the_analytic_run_equals_the_float64_loop(problem_id: str, fraction: float, optimizer: str) -> None:
    data, config = dataset(problem_id)
    quad = quadratic_loss(data, config.reduction)
    lr, steps = rate(quad, fraction), 1500
    run = train(config.replace(impl="analytic", optimizer=optimizer, lr=lr, steps=steps))
    ref_losses, ref_params = reference_run(quadratic_of(data, config.reduction), data.init, optimizer,
                                           np.full(steps, lr))
    got_steps, got_losses, got_params = run.history.arrays()
    np.testing.assert_array_equal(got_steps, np.arange(steps + 1))
    assert_params_close(got_params, ref_params, EXACT)
    all_losses = np.append(ref_losses, quadratic_of(data, config.reduction).loss(ref_params[-1]))
    assert_losses_close(got_losses, all_losses, EXACT, ref_losses[0])
    assert ref_losses[-1] < 0.5 * ref_losses[0]  # the run moved


@pytest.mark.parametrize("problem_id", DEMOS)
def test_that_the_analytic_run_at_the_notebooks_rate_equals_the_float64_loop(problem_id: str) -> None:
    data, config = dataset(problem_id)
    steps = 3000
    run = train(config.replace(impl="analytic", optimizer="sgd", steps=steps))
    _, ref_params = reference_run(quadratic_of(data, config.reduction), data.init, "sgd", np.full(steps, config.lr))
    assert_params_close(run.current_params, ref_params[-1], EXACT)


# (kind, gamma, step_size, lr_min as a fraction of lr)
SCHEDULES = [("step", 0.5, 200, 0.0), ("exponential", 0.999, 1, 0.0), ("cosine", 1.0, 1, 0.0),
             ("cosine", 1.0, 1, 0.1)]


def closed_form_rates(kind: str, gamma: float, step_size: int, lr_min: float, lr: float, steps: int) -> np.ndarray:
    """The learning rate of update t, typed from torch's StepLR / ExponentialLR / CosineAnnealingLR docs."""
    t = np.arange(steps)
    if kind == "step":
        return lr * gamma ** (t // step_size)
    if kind == "exponential":
        return lr * gamma**t
    return lr_min + (lr - lr_min) * (1 + np.cos(np.pi * t / steps)) / 2


@pytest.mark.parametrize("kind, gamma, step_size, min_fraction", SCHEDULES)
@pytest.mark.parametrize("problem_id", ["quadratic-recovery", "sine-cubic"])
def test_that_analytic_sgd_follows_a_schedule_exactly(problem_id: str, kind: str, gamma: float, step_size: int,
                                                      min_fraction: float) -> None:
    data, config = dataset(problem_id)
    quad = quadratic_loss(data, config.reduction)
    lr, steps = rate(quad, 0.9), 1000
    schedule = Schedule(kind, gamma=gamma, step_size=step_size, lr_min=min_fraction * lr)
    rates = closed_form_rates(kind, gamma, step_size, min_fraction * lr, lr, steps)
    run = train(config.replace(impl="analytic", optimizer="sgd", lr=lr, steps=steps, schedule=schedule))
    ref_losses, ref_params = reference_run(quadratic_of(data, config.reduction), data.init, "sgd", rates)
    _, got_losses, got_params = run.history.arrays()
    assert_params_close(got_params, ref_params, EXACT)
    assert_losses_close(got_losses[:-1], ref_losses, EXACT, ref_losses[0])
    constant = train(config.replace(impl="analytic", optimizer="sgd", lr=lr, steps=steps))
    assert np.abs(constant.current_params - run.current_params).max() > 1e-6 * np.abs(run.current_params).max()


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_that_two_hundred_thousand_exact_steps_equal_the_float64_loop(optimizer: str) -> None:
    data, config = dataset("quadratic-recovery")
    quad = quadratic_loss(data, "mean")
    lr = 1e-5 if optimizer == "sgd" else 1e-6
    checkpoints = np.arange(0, 200_001, 20_000)
    exact = exact_params(quad, data.init, optimizer, lr, checkpoints)
    # the loop on the Gram form: ∇ = 2/N·(ΦᵀΦθ − Φᵀy), written out
    phi, y = Quadratic("quadratic-recovery", data.x, data.y, "mean").phi, data.y
    gram, moment, n = phi.T @ phi, phi.T @ y, len(y)
    theta, velocity, loop = data.init.copy(), np.zeros(3), [data.init.copy()]
    for t in range(1, checkpoints[-1] + 1):
        grad = 2.0 / n * (gram @ theta - moment)
        if optimizer == "sgd":
            theta = theta - lr * grad
        else:
            velocity = 0.9 * velocity + grad
            theta = theta - lr * velocity
        if t % 20_000 == 0:
            loop.append(theta.copy())
    assert_params_close(exact, np.array(loop), EXACT)


def test_that_the_million_step_notebook_run_with_a_thousand_checkpoints_matches_the_baseline() -> None:
    data, _ = dataset("quadratic-recovery")
    checkpoints = np.arange(0, 1_000_001, 1000)
    params = exact_params(quadratic_loss(data, "mean"), data.init, "sgd", 1e-5, checkpoints)
    assert params.shape == (1001, 3)
    assert_params_close(params[0], data.init, 1e-14)
    np.testing.assert_allclose(params[-1], [0.6772698, -12.37961, 60.31424], rtol=2e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_that_any_step_is_reached_at_once_and_a_stable_run_ends_at_the_optimum(optimizer: str) -> None:
    data, config = dataset("quadratic-recovery")
    quad = quadratic_loss(data, config.reduction)
    far = exact_params(quad, data.init, optimizer, rate(quad, 0.5), np.array([10**12]))
    assert_params_close(far[0], quad.optimum, 1e-9)


# --- refusals ----------------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
def test_that_analytic_refuses_rmsprop_and_adam_saying_what_would_work(optimizer: str) -> None:
    with pytest.raises(ConfigError, match=r"sgd and momentum.*numpy"):
        RunConfig.notebook("quadratic-recovery", impl="analytic", optimizer=optimizer)
    data, _ = dataset("quadratic-recovery")
    with pytest.raises(AnalyticUnsupported, match=r"sgd and momentum only.*NumPy"):
        make_stepper("analytic", data, StepSettings(optimizer=optimizer, lr=1e-5))
    with pytest.raises(AnalyticUnsupported):
        exact_params(quadratic_loss(data, "mean"), data.init, optimizer, 1e-5, np.array([1]))


@pytest.mark.parametrize("schedule", [Schedule("step"), Schedule("exponential", gamma=0.99), Schedule("cosine")],
                         ids=lambda s: s.kind)
def test_that_analytic_refuses_momentum_with_a_changing_learning_rate(schedule: Schedule) -> None:
    with pytest.raises(ConfigError, match="momentum with a changing learning rate"):
        RunConfig.notebook("quadratic-recovery", impl="analytic", optimizer="momentum", schedule=schedule)
    data, _ = dataset("quadratic-recovery")
    with pytest.raises(AnalyticUnsupported, match="constant schedule"):
        make_stepper("analytic", data, StepSettings(optimizer="momentum", lr=1e-6, schedule=schedule))


def test_that_analytic_accepts_momentum_with_a_schedule_that_does_not_change() -> None:
    config = RunConfig.notebook("quadratic-recovery", impl="analytic", optimizer="momentum", lr=1e-6, steps=10,
                                dtype="float64", schedule=Schedule("exponential", gamma=1.0))
    assert train(config).status == "completed"


def test_that_the_analytic_implementation_always_computes_in_float64() -> None:
    data32, config = dataset("quadratic-recovery", dtype="float32")
    run32 = Run(config.replace(impl="analytic", dtype="float32", steps=100))
    run32.advance()
    data64, _ = dataset("quadratic-recovery")
    # the float32 dataset's values, trained in float64
    _, ref = reference_run(quadratic_of(data32.as_float64(), "mean"), data32.as_float64().init, "sgd",
                           np.full(100, config.lr))
    assert_params_close(run32.current_params, ref[-1], EXACT)
    assert data64.y.dtype == np.float64


@pytest.mark.parametrize("demo, optimizer", [("sine-cubic", "sgd"), ("quadratic-recovery", "momentum"),
                                             ("linear-2x", "sgd")])
def test_that_an_exact_run_is_built_from_its_experiments_solution_and_steps_bit_for_bit_as_one_that_solves_again(
        demo: str, optimizer: str) -> None:
    config = RunConfig.notebook(demo, impl="analytic", dtype="float64", optimizer=optimizer, steps=3000)
    run = Run(config)
    reusing = run.prepare()
    assert reusing.quad is run.experiment.quad  # no second solve
    solving = make_stepper("analytic", run.data, run.experiment.step_settings())
    for name in ("hessian", "eigvals", "eigvecs", "optimum", "optimum_loss"):
        np.testing.assert_array_equal(getattr(reusing.quad, name), getattr(solving.quad, name))
    record = [0, 1, 10]
    for chunk in (1000, 1000, 1000):  # the same chunks on both: the closed form's rounding follows them
        for mine, theirs in zip(reusing.run(chunk, record), solving.run(chunk, record)):
            np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(reusing.state().params, solving.state().params)
    assert reusing.loss() == solving.loss()


def test_that_an_exact_stepper_refuses_a_solution_for_another_loss() -> None:
    data, _ = dataset("sine-cubic")
    with pytest.raises(ValueError, match="scaled by"):
        make_stepper("analytic", data, StepSettings(reduction="mean"), quadratic_loss(data, "sum"))
