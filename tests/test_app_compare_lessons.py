"""The Compare and Lessons tabs in the running app (AppTest), on two demo pages.

Lessons: Load sets every setting in the sidebar, Load and run trains to the status the lesson
promises. History: pinned runs appear on the Train tab's loss chart, labelled by their settings,
and can be removed one by one or all at once. Compare: each comparison draws its charts, and what
it shows equals running its configurations one by one with fitcore.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from fitcore import RunConfig, train
from fitcore.lessons import lesson_config, lessons_for
from ui.page.settings import values_from_config
from ui.page.sidebar import CHOSEN_START, OPTIONAL_DEFAULTS
from ui.page.state import MAX_PINNED, DemoState, pin_blocker, pin_run, unpin

from conftest import REPO, require
from test_lessons import CHECKS

pytestmark = pytest.mark.filterwarnings("ignore")
PAGES = ("linear-2x", "quadratic-bias")


def open_page(page_id: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    at.run()
    at.switch_page(f"app_pages/{page_id.replace('-', '_')}.py")
    act(at)
    return at


def act(at: AppTest) -> None:
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def click(at: AppTest, page_id: str, name: str) -> None:
    at.button(key=f"{page_id}:{name}").click()
    act(at)


def demo(at: AppTest, page_id: str) -> DemoState:
    return at.session_state[f"state:{page_id}"]


def charts(at: AppTest) -> dict[str, dict[str, pd.DataFrame]]:
    """Every chart on the page by its title, with its datasets as DataFrames."""
    found = {}
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        found[str(spec.get("title", ""))] = {d.name: dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data)
                                             for d in element.proto.datasets}
    return found


def lesson(page_id: str, key: str) -> Any:
    return next(item for item in lessons_for(page_id) if item.key == key)


# --- lessons -------------------------------------------------------------------------------------

STORIES = {"linear-2x": ("too-small", "diverging"), "quadratic-bias": ("oscillating", "diverging")}


@pytest.mark.parametrize("page_id", PAGES)
def test_that_a_lesson_loads_every_setting_and_runs_to_the_status_it_promises(page_id: str) -> None:
    at = open_page(page_id)
    calm, wild = (lesson(page_id, key) for key in STORIES[page_id])
    click(at, page_id, f"lesson_{calm.key}_load")
    expected = values_from_config(lesson_config(calm, page_id))
    for name, value in expected.items():
        if name == CHOSEN_START:  # no widget: a chosen start lives in the page's state
            assert demo(at, page_id).start == value, name
            continue
        if name in OPTIONAL_DEFAULTS:  # unset: its toggle is off and its input keeps the value it shows when on
            assert at.session_state[f"{page_id}:{name}_on"] == (value is not None), name
        if value is not None or name not in OPTIONAL_DEFAULTS:
            assert at.session_state[f"{page_id}:{name}"] == value, name
    assert demo(at, page_id).values == demo(at, page_id).values | expected
    assert demo(at, page_id).run is None  # loaded, not run: the Train tab shows the lesson's start
    assert any(f"{calm.title}**" in m.value and "loaded" in m.value for m in at.markdown)

    for chosen in (wild, calm):
        click(at, page_id, f"lesson_{chosen.key}_run")
        run = demo(at, page_id).run
        assert run.config == lesson_config(chosen, page_id)
        assert run.status == chosen.promise
        assert any("as the lesson says" in s.value for s in at.success)
        assert at.session_state[f"{page_id}:lr"] == lesson_config(chosen, page_id).lr


# --- history: pinned runs -------------------------------------------------------------------------

def pinned_on_loss_chart(at: AppTest) -> set[str]:
    return set(charts(at)["Loss"]["static_pinned"].run)


def test_that_pinned_runs_stay_on_the_loss_chart_until_removed_or_cleared() -> None:
    page_id = "linear-2x"
    at = open_page(page_id)
    assert at.button(key=f"{page_id}:pin").disabled  # nothing has run yet
    click(at, page_id, "lesson_sum_run")
    click(at, page_id, "pin")
    assert at.button(key=f"{page_id}:pin").disabled  # this run is pinned already
    click(at, page_id, "lesson_oscillating_run")
    click(at, page_id, "pin")
    labels = [p.label for p in demo(at, page_id).pinned]
    assert labels == ["#1 lr 0.01, 20 steps", "#2 lr 0.03, 40 steps"]
    assert pinned_on_loss_chart(at) == set(labels)
    first = demo(at, page_id).pinned[0]
    np.testing.assert_array_equal(first.losses, train(lesson_config(lesson(page_id, "sum"), page_id)).history.arrays()[1])

    click(at, page_id, "unpin_1")
    assert [p.label for p in demo(at, page_id).pinned] == ["#2 lr 0.03, 40 steps"]
    assert pinned_on_loss_chart(at) == {"#2 lr 0.03, 40 steps"}
    click(at, page_id, "unpin_all")
    assert demo(at, page_id).pinned == [] and pinned_on_loss_chart(at) == set()


def test_that_at_most_eight_runs_are_pinned_per_page() -> None:
    state = DemoState()
    base = RunConfig.notebook("linear-2x", steps=5)
    for k in range(MAX_PINNED + 1):
        pin_run(state, train(base.replace(lr=0.001 * (k + 1))))
    assert len(state.pinned) == MAX_PINNED and [p.number for p in state.pinned] == list(range(1, 9))
    assert "remove one first" in pin_blocker(state, train(base.replace(lr=0.5)))
    unpin(state, 3)
    assert [p.number for p in state.pinned] == [1, 2, 4, 5, 6, 7, 8]
    pin_run(state, train(base.replace(lr=0.5)))
    assert state.pinned[-1].number == 9 and state.pinned[-1].label == "#9 lr 0.5 (diverged)"


# --- compare ------------------------------------------------------------------------------------

@pytest.mark.parametrize("page_id", PAGES)
def test_that_each_comparison_draws_its_charts_and_equals_running_its_jobs_alone(page_id: str) -> None:
    at = open_page(page_id)
    click(at, page_id, "compare_frameworks")
    frameworks = demo(at, page_id).extras["compare:frameworks"]
    assert frameworks.complete and frameworks.plan.config == RunConfig.notebook(page_id)
    drawn = charts(at)
    curves = drawn["Loss by implementation"]["live_curves"]
    assert set(curves.run) == {o.label for o in frameworks.outcomes if o.ran}
    assert "Difference from the reference" in drawn
    assert any("significant digit" in m.value or "bit for bit" in m.value for m in at.markdown)
    numpy_run = next(o for o in frameworks.outcomes if o.key == "numpy")
    alone = train(numpy_run.job.config)
    np.testing.assert_array_equal(numpy_run.params, alone.history.arrays()[2])

    click(at, page_id, "compare_optimizers")
    optimizers = demo(at, page_id).extras["compare:optimizers"]
    curves = charts(at)["Loss by optimizer"]["live_curves"]
    assert set(curves.run) == {o.label for o in optimizers.outcomes}
    for outcome in optimizers.outcomes:
        assert outcome.final_loss == train(outcome.job.config).current_loss

    click(at, page_id, "compare_sweep")
    sweep = demo(at, page_id).extras["compare:sweep"]
    points = charts(at)["Final loss against learning rate"]["live_points"].sort_values("lr")
    assert len(points) == len(sweep.plan.jobs)
    for (_, point), job in zip(points.iterrows(), sweep.plan.jobs):
        assert point.lr == pytest.approx(job.config.lr)
        assert (point.status == "diverged") == (train(job.config).status == "diverged")
    assert (points.status == "diverged").any() and any("2/λmax" in m.value for m in at.markdown)


def test_that_results_for_earlier_settings_say_so_and_a_click_compares_the_new_ones() -> None:
    page_id = "linear-2x"
    at = open_page(page_id)
    click(at, page_id, "compare_optimizers")
    at.number_input(key=f"{page_id}:lr").set_value(0.02)
    act(at)
    assert any("earlier settings" in i.value for i in at.info)
    click(at, page_id, "compare_optimizers")
    assert demo(at, page_id).extras["compare:optimizers"].plan.config.lr == 0.02
    assert not any("earlier settings" in i.value for i in at.info)


def test_that_the_float32_lesson_trains_on_pytorch_in_the_app_and_stalls_below_five() -> None:
    page_id = "quadratic-bias"
    chosen = lesson(page_id, "float32-stall")
    require(lesson_config(chosen, page_id).impl)
    at = open_page(page_id)
    click(at, page_id, "lesson_float32-stall_run")
    run = demo(at, page_id).run
    assert run.status == "completed" and run.config == lesson_config(chosen, page_id)
    CHECKS[(page_id, "float32-stall")](run)  # stalls about 1.2e-5 short of 5, as the lesson says
    assert at.session_state[f"{page_id}:impl"] == "torch-autograd" and at.session_state[f"{page_id}:variant"] == "pytorch"
