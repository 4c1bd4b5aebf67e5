"""The landscape chart: contour bands drawn outermost first, the path on top, a caption naming the slice."""
import json

import numpy as np
import pandas as pd

from fitcore import RunConfig, exact_params, get_problem, make_dataset, quadratic_loss
from fitcore.landscape import SliceChoice, run_landscape
from ui.charts import landscape, landscape_chart


def rows(table) -> pd.DataFrame:
    return table if isinstance(table, pd.DataFrame) else table.to_pandas()


def landscape_of(problem_id: str, choice: SliceChoice):
    problem, config = get_problem(problem_id), RunConfig.notebook(problem_id, dtype="float64")
    data = make_dataset(problem, config.seed, config.points, config.noise, "float64")
    quad = quadratic_loss(data, config.reduction)
    start = data.init.astype(np.float64)
    steps = np.unique(np.geomspace(1, config.steps, 500).astype(np.int64))
    path = exact_params(quad, start, "sgd", config.lr, steps)
    axes, land = run_landscape(quad, choice, problem.param_names, path[-1], start, path)
    chart = landscape_chart(quad, problem.param_names, steps, path, path[-1], start, axes, None, True, land,
                            choice.eigen)
    return chart, land, axes


def test_that_the_bands_are_listed_outermost_first_and_named_in_that_order():
    chart, land, _ = landscape_of("sine-cubic", SliceChoice(1, 3))
    bands = rows(chart.live["bands"])
    names = list(dict.fromkeys(bands.band))
    assert names == sorted(names) and len(names) == len(land.levels)
    levels = bands.groupby("band", sort=True)["level"].first().to_numpy()
    assert np.all(np.diff(levels) < 0)


def test_that_the_path_and_the_current_point_lie_inside_the_frame_and_the_spec_fixes_it():
    chart, land, _ = landscape_of("quadratic-recovery", SliceChoice(0, 1))
    path = rows(chart.live["path"])
    assert len(path) > 10
    for name in ("path", "current"):
        table = rows(chart.live[name])
        assert (table.p1.between(land.lo[0], land.hi[0]) & table.p2.between(land.lo[1], land.hi[1])).all()
    spec = json.dumps(chart.spec)
    assert json.dumps([float(land.lo[0]), float(land.hi[0])]) in spec


def test_that_an_eigen_slice_says_how_much_flatter_its_flat_direction_is():
    chart, land, axes = landscape_of("quadratic-recovery", SliceChoice(0, 2, eigen=True))
    assert "flatter" in chart.caption and axes.labels[0].split(" ")[0] in chart.caption
    assert f"{axes.flatness:,.3g}×" in chart.caption
    assert "v₁" in json.dumps(chart.spec, ensure_ascii=False)


def test_that_a_marks_word_extends_into_the_frame_from_either_side() -> None:
    lo, hi = np.array([0.0, 0.0]), np.array([1.0, 1.0])
    points = np.array([[0.999, 0.5], [0.001, 0.5], [0.6, 0.99]])
    words, sides = landscape.label_positions(points, lo, hi)
    assert sides == ["right", "left", "right"]  # a word ends at a mark on the right, begins at one on the left
    assert np.all((words[:, 0] >= lo[0]) & (words[:, 0] <= hi[0]))
    assert words[2, 1] < points[2, 1] and words[0, 1] > points[0, 1]  # below a mark at the top, above the others
