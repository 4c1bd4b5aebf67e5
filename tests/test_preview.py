"""The home page's thumbnails: each demo's data and the fit its notebook ends with."""
import numpy as np
import pytest

from fitcore import RunConfig, get_problem, train
from fitcore.preview import POINTS_SHOWN, notebook_end


@pytest.mark.parametrize("problem_id", ["linear-2x", "sine-cubic"])
def test_that_the_thumbnail_fit_is_the_fit_a_float64_notebook_run_ends_with(problem_id):
    end = notebook_end(problem_id)
    run = train(RunConfig.notebook(problem_id, impl="numpy", dtype="float64"))
    expected = get_problem(problem_id).predict(end.grid, list(run.current_params))
    np.testing.assert_allclose(end.fit, expected, rtol=1e-9, atol=1e-9)
    assert end.steps == run.step


def test_that_a_million_step_notebook_costs_no_more_than_its_closed_form_and_keeps_few_points():
    end = notebook_end("quadratic-recovery")
    assert end.steps >= 1_000_000  # the notebook's one manual step, then a million
    assert len(end.x) <= POINTS_SHOWN and np.all(np.isfinite(end.fit))
    # After a million steps the fit is close to the data: the curve passes within the data's spread.
    assert np.ptp(end.fit) == pytest.approx(np.ptp(end.y), rel=0.3)
