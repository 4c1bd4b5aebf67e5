"""A start picked on the loss landscape (ui.page.start): the chart's selection becomes the next run's θ₀.

AppTest cannot click a Vega chart, so the selection the browser would send is handed to the landscape's
own on_select handler here; tests/browser/test_landscape_pick.py clicks the real chart."""
from __future__ import annotations

import numpy as np
import pytest

from fitcore import Run, RunConfig
from fitcore.landscape import SliceChoice, run_landscape
from ui.page.start import picked_point, start_picked, with_chosen_start
from ui.page.state import DemoState

from test_dashboard import assert_no_exception, demo_state, metric, open_page

PAGE = "quadratic-recovery"


@pytest.mark.parametrize("selection", [None, {}, {"selection": {}}, {"selection": {"start": []}},
                                       {"selection": {"start": [{"p1": 1.0}]}}])
def test_that_a_selection_without_a_point_picks_nothing(selection):
    assert picked_point(selection, "start") is None


def test_that_a_selection_gives_its_point():
    point = picked_point({"selection": {"start": [{"p1": 0.25, "p2": -3.5}]}}, "start")
    np.testing.assert_array_equal(point, [0.25, -3.5])


def _slice():
    run = Run(RunConfig.notebook(PAGE))
    held = run.data.init.astype(np.float64)
    return run_landscape(run.quad, SliceChoice(0, 1), ("a", "b", "c"), held, held, np.empty((0, 3)))


def test_that_the_handler_sets_the_start_and_forgets_the_old_run(monkeypatch):
    import streamlit as st
    axes, land = _slice()
    state = DemoState()
    state.run = Run(RunConfig.notebook(PAGE))
    monkeypatch.setattr(st, "session_state", {"pick": {"selection": {"start": [{"p1": 0.31234, "p2": -2.98765}]}}})
    start_picked(state, "start", "pick", axes, land.lo, land.hi)
    assert state.run is None
    a, b, c = state.start
    assert (a, b) == (0.312, -2.99) and c == pytest.approx(axes.origin[2])
    assert with_chosen_start(RunConfig.notebook(PAGE), state).start == state.start


def test_that_a_start_that_does_not_fit_the_problem_is_forgotten():
    state = DemoState()
    state.start = (1.0, 2.0)  # two numbers for three parameters
    assert with_chosen_start(RunConfig.notebook(PAGE), state).start is None
    assert state.start is None


def test_that_the_page_shows_and_trains_from_the_chosen_start():
    at = open_page(PAGE, {"impl": "numpy", "steps": "30"})
    demo_state(at, PAGE).start = (0.5, -3.0, 2.0)
    at.run()
    assert_no_exception(at)
    expected = Run(RunConfig.notebook(PAGE, impl="numpy", steps=30, start=(0.5, -3.0, 2.0)))
    assert any("Start you chose (on the landscape, by hand or in the link): a = 0.5, b = -3, c = 2" in c.value for c in at.caption)
    assert float(metric(at, "Loss")) == pytest.approx(expected.initial_loss, rel=1e-3)
    at.button(key=f"{PAGE}:forget_start").click().run()
    assert demo_state(at, PAGE).start is None


def test_that_a_link_opens_the_page_at_its_start_and_the_link_follows_the_chosen_start():
    at = open_page(PAGE, {"impl": "numpy", "steps": "30", "start": "0.5,-3,2"})
    state = demo_state(at, PAGE)
    assert state.start == (0.5, -3.0, 2.0) and not at.warning
    assert at.query_params["start"] == "0.5,-3.0,2.0"
    expected = Run(RunConfig.notebook(PAGE, impl="numpy", steps=30, start=(0.5, -3.0, 2.0)))
    assert float(metric(at, "Loss")) == pytest.approx(expected.initial_loss, rel=1e-3)
    state.start = (1.0, 0.25, -4.0)  # as a click on the landscape leaves it
    at.run()
    assert at.query_params["start"] == "1.0,0.25,-4.0"


def test_that_reset_forgets_the_chosen_start_and_the_link_no_longer_carries_it():
    at = open_page(PAGE, {"impl": "numpy", "steps": "30", "start": "0.5,-3,2"})
    at.button(key=f"{PAGE}:reset").click().run()
    assert_no_exception(at)
    assert demo_state(at, PAGE).start is None and "start" not in at.query_params
    notebook = Run(RunConfig.notebook(PAGE, impl="numpy", steps=30))
    assert float(metric(at, "Loss")) == pytest.approx(notebook.initial_loss, rel=1e-3)


def test_that_reset_to_the_notebooks_settings_forgets_the_chosen_start_too():
    at = open_page(PAGE, {"impl": "numpy", "steps": "30", "start": "0.5,-3,2"})
    assert demo_state(at, PAGE).start == (0.5, -3.0, 2.0)
    at.button(key=f"{PAGE}:reset_settings").click().run()
    assert_no_exception(at)
    assert demo_state(at, PAGE).start is None and "start" not in at.query_params


def test_that_a_click_on_a_one_parameter_picture_starts_at_its_theta(monkeypatch):
    import streamlit as st
    state = DemoState()
    monkeypatch.setattr(st, "session_state", {"pick": {"selection": {"start": [{"theta": 3.14159}]}}})
    start_picked(state, "start", "pick", None, np.array([-2.0]), np.array([8.0]))
    assert state.start == (3.14,)  # a thousandth of the frame's span
    assert with_chosen_start(RunConfig.notebook("linear-2x"), state).start == (3.14,)


@pytest.mark.parametrize("page", ["linear-2x", "quadratic-bias"])
def test_that_a_one_parameter_landscape_takes_clicks_at_rest(page):
    at = open_page(page, {"impl": "numpy"})
    [landscape] = [c for c in at.get("vega_lite_chart") if "landscape_pick" in c.proto.id]
    assert list(landscape.proto.selection_mode) == ["start"]
    assert '"fields": ["theta"]' in landscape.proto.spec or '"fields":["theta"]' in landscape.proto.spec


def test_that_loading_a_lesson_forgets_the_chosen_start_so_its_run_keeps_its_promise():
    at = open_page("quadratic-bias", {"impl": "numpy", "start": "7.5"})
    assert demo_state(at, "quadratic-bias").start == (7.5,)
    at.button(key="quadratic-bias:lesson_too-small_load").click().run()
    assert_no_exception(at)
    assert demo_state(at, "quadratic-bias").start is None and "start" not in at.query_params
