"""Starting points computed from what the notebooks printed."""
from __future__ import annotations

import numpy as np
import pytest

from fitcore import get_problem, make_dataset
from fitcore.notebook_prints import RECOVERY_LEARNER, RECOVERY_Y, RECOVERY_YHAT, SINE_003_NUMPY, SINE_004_NUMPY
from fitcore.notebook_starts import (numbers_in, printed_result, printed_start, start_from_losses,
                                     start_from_predictions, start_from_result)
from fitcore.quadratic import least_squares

from conftest import Quadratic


def _synthetic_quad(seed: int = 3):
    rng = np.random.default_rng(seed)
    x = np.linspace(-1.0, 1.0, 50)
    phi = np.stack([np.ones_like(x), x, x**2, x**3], axis=1) * np.array([1.0, 3.0, 10.0, 30.0])
    return least_squares(phi, np.sin(3 * x) + 0.1 * rng.standard_normal(50), 1.0)


def _sgd(quad, start, lr, steps):
    """Plain gradient descent on the quadratic, step by step, with the loss before each step."""
    theta, losses = np.array(start, dtype=np.float64), []
    for _ in range(steps):
        losses.append(float(quad.loss(theta)))
        theta = theta - lr * quad.gradient(theta)
    return theta, losses


def test_that_numbers_are_read_from_a_printed_line_in_order() -> None:
    assert numbers_in("Epoch 3: w = 1.872, loss = 0.76800019") == [3.0, 1.872, 0.76800019]
    assert numbers_in("8.9e-05 + -1.5e+02 x") == [8.9e-05, -150.0]


def test_that_seed_004s_printed_start_and_result_are_read_in_full() -> None:
    np.testing.assert_array_equal(printed_start(SINE_004_NUMPY.intro[0]),
                                  [0.5212317253221784, -0.9805915149858428, -0.027376927441378273, -1.4262831777937377])
    np.testing.assert_array_equal(printed_result(SINE_004_NUMPY.final[0]),
                                  [8.989750355029876e-05, 0.8566886829615072, -1.5508815263346535e-05,
                                   -0.09332296971884167])


def test_that_a_start_run_back_from_its_result_is_the_start_in_every_direction_that_survived() -> None:
    quad = _synthetic_quad()
    lr = 0.9 / quad.lambda_max
    start = quad.optimum + np.array([0.3, -0.2, 0.1, 0.05])
    end, losses = _sgd(quad, start, lr, 400)
    rebuilt = start_from_result(quad, lr, 400, end, early=(1, losses[1]))
    error = (rebuilt - start) @ quad.eigvecs
    factors = np.abs(1 - lr * quad.eigvals) ** 400
    kept = factors > 1e-12
    np.testing.assert_allclose(error[kept], 0.0, atol=1e-9)
    # what decayed below rounding leaves no trace in the end point, so the rebuilt run ends in the same place
    np.testing.assert_allclose(_sgd(quad, rebuilt, lr, 400)[0], end, rtol=0, atol=1e-12)


def test_that_a_start_fitted_to_printed_losses_reproduces_them_and_the_results_signs() -> None:
    quad = _synthetic_quad(5)
    lr = 0.5 / quad.lambda_max
    start = quad.optimum + quad.eigvecs @ np.array([0.4, -0.3, 0.2, 0.0])
    end, losses = _sgd(quad, start, lr, 300)
    printed = [(t, losses[t]) for t in range(0, 300, 10)]
    rebuilt = start_from_losses(quad, lr, printed, end, 300)
    _, again = _sgd(quad, rebuilt, lr, 300)
    np.testing.assert_allclose([again[t] for t, _ in printed], [loss for _, loss in printed], rtol=1e-9)
    np.testing.assert_allclose(_sgd(quad, rebuilt, lr, 300)[0], end, rtol=1e-6, atol=1e-9)


def test_that_seed_002s_start_predicts_its_printed_yhat_and_gives_its_printed_loss_and_gradient() -> None:
    x = np.arange(20.0)
    phi = np.stack([x**2, x, np.ones_like(x)], axis=1)
    start = start_from_predictions(phi, np.array(RECOVERY_YHAT))
    # the printed ŷ have five significant digits: the fitted start reproduces each to within that rounding
    np.testing.assert_allclose(phi @ start, RECOVERY_YHAT, rtol=6e-5)
    loss = Quadratic("quadratic-recovery", x, np.array(RECOVERY_Y), "mean")
    # tensor(44301.6484) and tensor([-70097.9297, -4488.5391, -324.2715]): y printed to 4 decimals
    # and ŷ to 5 digits leave the loss and gradient good to about 5 digits
    assert loss.loss(start) == pytest.approx(44301.6484, rel=2e-5)
    np.testing.assert_allclose(loss.grad(start), [-70097.9297, -4488.5391, -324.2715], rtol=2e-5)


def test_that_the_recovery_variants_own_data_are_its_printed_y_and_its_start_the_fitted_one() -> None:
    problem = get_problem("quadratic-recovery")
    variant = problem.variant("pytorch")
    data = make_dataset(problem, None, 20, 3.0, "float64", variant)
    np.testing.assert_array_equal(data.y, RECOVERY_Y)
    np.testing.assert_array_equal(data.init, variant.start())
    assert variant.cell is RECOVERY_LEARNER


def test_that_seed_003s_numpy_start_is_rebuilt_and_a_seed_still_draws_fresh_data() -> None:
    problem = get_problem("sine-cubic")
    variant = problem.variant("numpy-2400")
    own = make_dataset(problem, None, 2000, 0.0, "float64", variant)
    seeded = make_dataset(problem, 0, 2000, 0.0, "float64", variant)
    assert variant.cell is SINE_003_NUMPY
    np.testing.assert_array_equal(own.init, variant.start())
    np.testing.assert_allclose(seeded.init, [1.764, 0.400, 0.979, 2.241], atol=5e-4)  # np.random.seed(0)
    np.testing.assert_array_equal(own.x, seeded.x)
