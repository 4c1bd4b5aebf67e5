"""The landscape's slices: contours at their levels, frames that hold the run, eigen-direction axes."""
import numpy as np
import pytest

from fitcore import RunConfig, exact_params, get_problem, make_dataset, quadratic_loss
from fitcore.landscape import (eigen_axes, excess, frame_for, frame_points, parameter_axes, slice_landscape,
                               visible_path)


def quad_of(problem_id: str):
    problem, config = get_problem(problem_id), RunConfig.notebook(problem_id, dtype="float64")
    data = make_dataset(problem, config.seed, config.points, config.noise, "float64")
    return problem, data, quadratic_loss(data, config.reduction)


@pytest.mark.parametrize("problem_id, i, j", [("sine-cubic", 1, 3), ("quadratic-recovery", 0, 1),
                                              ("quadratic-recovery", 1, 2)])
def test_that_every_contour_point_has_the_loss_of_its_level(problem_id, i, j):
    problem, data, quad = quad_of(problem_id)
    held = data.init.astype(np.float64)
    axes = parameter_axes(quad, held, i, j, problem.param_names)
    land = slice_landscape(quad, axes, frame_points(quad, axes, held, np.empty((0, len(held)))))
    assert len(land.levels) >= 4
    for level, polygon in zip(land.levels, land.contours):
        loss = quad.loss(axes.theta(polygon))
        np.testing.assert_allclose(loss - quad.optimum_loss, 10.0**level, rtol=1e-6)
    assert np.all(np.diff(land.levels) < 0)


def test_that_the_slice_holds_the_other_parameters_at_the_held_point():
    problem, data, quad = quad_of("sine-cubic")
    held = np.array([0.3, -1.2, 0.7, 2.5])
    axes = parameter_axes(quad, held, 1, 3, problem.param_names)
    theta = axes.theta(np.array([[5.0, -4.0]]))[0]
    np.testing.assert_allclose(theta, [0.3, 5.0, 0.7, -4.0])
    np.testing.assert_allclose(axes.coords(held), [-1.2, 2.5])
    assert axes.labels == (problem.param_names[1], problem.param_names[3])


def test_that_the_outermost_contour_covers_the_whole_frame():
    problem, data, quad = quad_of("quadratic-recovery")
    held = data.init.astype(np.float64)
    axes = parameter_axes(quad, held, 0, 1, problem.param_names)
    land = slice_landscape(quad, axes, frame_points(quad, axes, held, np.empty((0, 3))))
    corners = np.array([[x, y] for x in (land.lo[0], land.hi[0]) for y in (land.lo[1], land.hi[1])])
    assert np.all(excess(quad, axes.theta(corners)) <= 10.0 ** land.levels[0])


def test_that_the_frame_holds_the_start_the_optimum_and_the_path_with_a_margin():
    problem, data, quad = quad_of("sine-cubic")
    start = data.init.astype(np.float64)
    steps = np.arange(0, 2000, 10)
    path = exact_params(quad, start, "sgd", 1e-6, steps)
    axes = parameter_axes(quad, path[-1], 1, 3, problem.param_names)
    land = slice_landscape(quad, axes, frame_points(quad, axes, start, path))
    for point in np.vstack([axes.coords(start)[None], axes.coords(quad.optimum)[None], axes.coords(path)]):
        assert np.all(point > land.lo) and np.all(point < land.hi)


def test_that_a_diverging_path_does_not_set_the_frame():
    problem, data, quad = quad_of("sine-cubic")
    start = data.init.astype(np.float64)
    axes = parameter_axes(quad, start, 0, 1, problem.param_names)
    wild = np.vstack([start, start * 1e6, np.full_like(start, np.inf)])
    lo, hi = frame_for(frame_points(quad, axes, start, wild))
    assert np.all(hi - lo < 1e3)


def test_that_eigen_axes_follow_the_hessian_and_say_how_much_flatter_one_is():
    problem, data, quad = quad_of("quadratic-recovery")
    held = data.init.astype(np.float64)
    axes = eigen_axes(quad, held, 0, 2)
    np.testing.assert_allclose(quad.hessian @ axes.directions[0], quad.eigvals[0] * axes.directions[0],
                               atol=1e-9 * quad.lambda_max)
    assert axes.flatness == pytest.approx(quad.eigvals[2] / quad.eigvals[0])
    assert axes.flatness > 1000
    np.testing.assert_allclose(axes.coords(quad.optimum), [0.0, 0.0], atol=1e-9)
    land = slice_landscape(quad, axes, frame_points(quad, axes, held, np.empty((0, 3))))
    # Aligned with the axes: each ellipse's extent along v₁ over its extent along v₃ is √(λ₃/λ₁).
    polygon = land.contours[-1] - land.minimum
    ratio = np.ptp(polygon[:, 0]) / np.ptp(polygon[:, 1])
    assert ratio == pytest.approx(np.sqrt(axes.flatness), rel=1e-3)


def test_that_a_slice_through_the_optimum_draws_every_level_down_to_its_floor():
    problem, data, quad = quad_of("sine-cubic")
    axes = parameter_axes(quad, quad.optimum, 0, 2, problem.param_names)
    land = slice_landscape(quad, axes, frame_points(quad, axes, data.init.astype(np.float64), np.empty((0, 4))))
    assert land.minimum_excess == pytest.approx(0.0, abs=1e-9)
    assert len(land.levels) == 16


def test_that_the_visible_path_keeps_the_ends_and_every_point_that_moves():
    crawl = np.column_stack([np.linspace(0, 1e-6, 1000), np.zeros(1000)])
    path = np.vstack([[[-1.0, -1.0]], crawl, [[0.5, 0.5]]])
    kept = visible_path(path, np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    assert kept[0] == 0 and kept[-1] == len(path) - 1
    assert len(kept) < 10
    zigzag = np.column_stack([np.linspace(-1, 1, 50), np.tile([-0.5, 0.5], 25)])
    assert len(visible_path(zigzag, np.array([-1.0, -1.0]), np.array([1.0, 1.0]))) == 50


def test_that_the_pick_points_cover_the_frame_corner_to_corner():
    from fitcore.landscape import PICK_CELLS, pick_points
    points = pick_points(np.array([-1.0, 10.0]), np.array([3.0, 20.0]))
    assert points.shape == (PICK_CELLS**2, 2)
    np.testing.assert_array_equal(points.min(axis=0), [-1.0, 10.0])
    np.testing.assert_array_equal(points.max(axis=0), [3.0, 20.0])


@pytest.mark.parametrize("eigen", [False, True])
def test_that_a_picked_start_lies_on_the_slice_within_a_thousandth_of_its_frame(eigen):
    from fitcore.landscape import picked_start
    problem, data, quad = quad_of("quadratic-recovery")
    held = data.init.astype(np.float64)
    axes = eigen_axes(quad, held, 0, 2) if eigen else parameter_axes(quad, held, 0, 1, problem.param_names)
    land = slice_landscape(quad, axes, frame_points(quad, axes, held, np.empty((0, 3))))
    point = land.lo + np.array([0.3137, 0.7071]) * (land.hi - land.lo)
    start = np.array(picked_start(point, land.lo, land.hi, axes))
    np.testing.assert_allclose(axes.coords(start), point, atol=float(np.max(land.hi - land.lo)) * 1e-3)
    np.testing.assert_allclose(axes.theta(axes.coords(start)), start, atol=1e-9)  # in the slice's plane
    if not eigen:
        assert start[2] == held[2]  # the parameter the slice holds keeps its value
        assert len(repr(float(start[0]))) <= 8 and len(repr(float(start[1]))) <= 8  # short numbers, not a pixel's float


def test_that_a_start_picked_on_a_one_parameter_picture_is_that_parameter_rounded():
    from fitcore.landscape import picked_start
    assert picked_start(1.23456, 0.0, 10.0) == (1.23,)
    assert picked_start(-0.0123456, -0.05, 0.05) == (-0.0123,)
