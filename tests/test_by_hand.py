"""Fit it yourself first: the loss and gradient read at the learner's θ are the run's own, the gradient's
advice points downhill, and "let gradient descent finish from here" starts the run at that θ."""
from __future__ import annotations

import numpy as np
import pytest

from fitcore import PROBLEMS, ConfigError, Run, RunConfig, train
from fitcore.by_hand import HandFit
from fitcore.config import notebook_differences

# The demos whose definitions offer a by-hand mode (PageHints.by_hand): one or three parameters.
BY_HAND_PROBLEMS = [problem.id for problem in PROBLEMS.values() if problem.page.by_hand]
NOTEBOOK = {problem_id: RunConfig.notebook(problem_id, impl="numpy") for problem_id in BY_HAND_PROBLEMS}


@pytest.mark.parametrize("problem_id", BY_HAND_PROBLEMS)
def test_that_the_loss_read_by_hand_at_the_start_is_the_runs_initial_loss(problem_id: str) -> None:
    fit = HandFit(NOTEBOOK[problem_id])
    reading = fit.read(fit.start)
    assert reading.loss == pytest.approx(Run(NOTEBOOK[problem_id]).initial_loss, rel=1e-12)
    assert reading.gap == pytest.approx(reading.loss - fit.quad.optimum_loss)


@pytest.mark.parametrize("problem_id", BY_HAND_PROBLEMS)
def test_that_the_gradient_read_by_hand_matches_the_losss_slope(problem_id: str) -> None:
    fit = HandFit(NOTEBOOK[problem_id])
    theta = fit.quad.optimum + np.linspace(0.3, -0.2, len(fit.names))
    gradient = np.array(fit.read(theta).gradient)
    for i in range(len(theta)):
        h = np.zeros_like(theta)
        h[i] = 1e-4
        slope = (fit.read(theta + h).loss - fit.read(theta - h).loss) / 2e-4
        assert slope == pytest.approx(gradient[i], rel=1e-5, abs=1e-6)


def test_that_the_gradient_says_which_way_each_parameter_should_move() -> None:
    fit = HandFit(NOTEBOOK["quadratic-bias"])
    assert fit.read([0.0]).advice == "The gradient says: increase bias"
    assert fit.read([7.0]).advice == "The gradient says: decrease bias"
    assert fit.read(fit.quad.optimum).advice == "The gradient says: leave bias"
    recovery = HandFit(NOTEBOOK["quadratic-recovery"])
    best = recovery.quad.optimum
    moves = recovery.read(best + [0.01, 0.0, 0.0]).moves
    # a above its best makes every prediction too high (x ≥ 0): the gradient asks each coefficient down
    assert moves == ("decrease a", "decrease b", "decrease c")


def test_that_a_step_the_way_the_gradient_says_lowers_the_loss() -> None:
    fit = HandFit(NOTEBOOK["quadratic-recovery"])
    theta = np.array(fit.start)
    reading = fit.read(theta)
    step = np.array([1.0 if m.startswith("increase") else -1.0 if m.startswith("decrease") else 0.0
                     for m in reading.moves]) * np.abs(reading.gradient)
    assert fit.read(theta + 1e-7 * step).loss < reading.loss


@pytest.mark.parametrize("problem_id", BY_HAND_PROBLEMS)
def test_that_every_slider_holds_the_start_and_the_optimum_on_its_grid(problem_id: str) -> None:
    fit = HandFit(NOTEBOOK[problem_id])
    for slider, start, best in zip(fit.sliders(), fit.start, fit.quad.optimum):
        assert slider.low < min(start, best) and max(start, best) < slider.high
        assert 50 <= (slider.high - slider.low) / slider.step <= 1000
        assert slider.snap(slider.start) == pytest.approx(round(start / slider.step) * slider.step)


@pytest.mark.parametrize("problem_id", BY_HAND_PROBLEMS)
def test_that_gradient_descent_finishes_from_the_learners_point(problem_id: str) -> None:
    fit = HandFit(NOTEBOOK[problem_id])
    mine = tuple(float(v) for v in fit.quad.optimum + 0.5)
    config = fit.finish_from(mine)
    run = Run(config)
    np.testing.assert_array_equal(run.data.init, np.asarray(mine).astype(run.data.init.dtype))
    assert run.initial_loss == pytest.approx(fit.read(mine).loss, rel=1e-6)
    assert "a start you chose" in notebook_differences(config)
    finished = train(config.replace(impl="analytic", dtype="float64"))
    assert finished.current_loss < run.initial_loss


def test_that_a_start_of_the_wrong_shape_or_size_is_refused() -> None:
    config = NOTEBOOK["quadratic-recovery"]
    for start in ((1.0, 2.0), [1.0, 2.0, 3.0], (1.0, float("nan"), 3.0), (1.0, 2.0, 1e9), (1.0, True, 3.0)):
        with pytest.raises(ConfigError, match="start"):
            config.replace(start=start)
    with pytest.raises(ValueError, match="finite numbers"):
        HandFit(config).finish_from([1.0, 2.0])


def test_that_the_page_without_a_by_hand_mode_is_refused() -> None:
    assert BY_HAND_PROBLEMS == ["quadratic-bias", "linear-2x", "quadratic-recovery"]
    with pytest.raises(ValueError, match="no by-hand mode"):
        HandFit(RunConfig.notebook("sine-cubic"))
