"""A click on the loss curve replays that step (ui.panels.replay.step_picked): the replay bar and every
chart follow. AppTest cannot click a Vega chart, so the selection the browser would send is handed to
the loss chart's own on_select handler."""
from __future__ import annotations

import pytest

from fitcore import Run, RunConfig
from ui.charts import HOVER_SELECTION, STEP_SELECTION
from ui.page.state import DemoState
from ui.panels.replay import hovered_step, picked_step, replay_to, replayed_step, step_picked

from test_dashboard import assert_no_exception, demo_state, open_page, train


@pytest.mark.parametrize("selection", [None, {}, {"selection": {"step": []}}, {"selection": {"step": [{"loss": 1}]}}])
def test_that_a_selection_without_a_step_picks_nothing(selection):
    assert picked_step(selection, STEP_SELECTION) is None


def test_that_a_clicked_step_is_replayed_and_a_step_past_the_end_goes_live(monkeypatch):
    import streamlit as st
    state, run = DemoState(), Run(RunConfig.notebook("linear-2x", impl="numpy"))
    run.prepare()
    run.advance()
    state.run = run
    monkeypatch.setattr(st, "session_state", {"k": {"selection": {STEP_SELECTION: [{"step": 7.0}]}}})
    step_picked(state, run, STEP_SELECTION, "k")
    assert replayed_step(state, run) == 7
    monkeypatch.setattr(st, "session_state", {"k": {"selection": {STEP_SELECTION: [{"step": 10**6}]}}})
    step_picked(state, run, STEP_SELECTION, "k")
    assert replayed_step(state, run) is None


def test_that_a_finished_runs_loss_chart_takes_clicks_and_a_fresh_page_does_not():
    at = open_page("linear-2x", {"impl": "numpy", "steps": "20"})
    assert not any("loss_pick" in chart.proto.id for chart in at.get("vega_lite_chart"))
    train(at, "linear-2x")
    assert_no_exception(at)
    loss = [chart for chart in at.get("vega_lite_chart") if "loss_pick" in chart.proto.id]
    assert len(loss) == 1 and sorted(loss[0].proto.selection_mode) == sorted([STEP_SELECTION, HOVER_SELECTION])


def _finished_run() -> tuple[DemoState, Run]:
    state, run = DemoState(), Run(RunConfig.notebook("linear-2x", impl="numpy"))
    run.prepare()
    run.advance()
    state.run = run
    return state, run


def test_that_the_pointer_over_a_step_shows_it_until_it_leaves_and_never_brings_back_an_old_click(monkeypatch):
    import streamlit as st
    state, run = _finished_run()

    def select(click, hover):
        monkeypatch.setattr(st, "session_state", {"k": {"selection": {
            STEP_SELECTION: [{"step": click}] if click is not None else [],
            HOVER_SELECTION: [{"step": hover}] if hover is not None else {}}}})
        step_picked(state, run, STEP_SELECTION, "k")

    select(None, 5.0)
    assert hovered_step(state, run) == 5 and replayed_step(state, run) is None
    select(7.0, 5.0)
    assert replayed_step(state, run) == 7 and hovered_step(state, run) == 5
    replay_to(state, run, 3)  # the slider moves on
    select(7.0, 9.0)  # the pointer moves: the old click stays where it was
    assert replayed_step(state, run) == 3 and hovered_step(state, run) == 9
    select(7.0, None)  # the pointer leaves the curve
    assert hovered_step(state, run) is None and replayed_step(state, run) == 3
    select(7.0, 4.0)
    run.extend(5)
    run.advance()  # the run moves on: what was hovered and replayed ends with it
    assert hovered_step(state, run) is None and replayed_step(state, run) is None


def test_that_a_hovered_step_shows_on_every_chart_with_its_parameters_and_the_rest_of_the_run_faded():
    from test_app_replay_math import assert_charts_show, chart
    from ui.panels.replay import HOVER, Replay
    at = open_page("linear-2x", {"impl": "numpy", "steps": "20"})
    run = train(at, "linear-2x")
    steps, losses, params = run.history.arrays()
    demo_state(at, "linear-2x").extras[HOVER] = Replay(run, run.step, 5)  # as step_picked leaves a hover
    at.run()
    assert_no_exception(at)
    assert_charts_show(at, "linear-2x", 5, losses[5], params[5])
    assert any(f"Step 5**, under the pointer on the loss curve: w = {params[5][0]:.6g}" in c.value for c in at.caption)
    live = chart(at, "Loss")["live"]
    drawn = [int(s) for s, loss in zip(steps, losses) if loss > 0]  # a log axis has no 0 (w = 2 exactly)
    assert live[live.kind == "later"].step.tolist() == [s for s in drawn if s >= 5]
    # The pick targets are every row of the run's one table: the whole run, whichever step is shown
    assert sorted(set(live[live.kind.isin(["curve", "later"])].step)) == drawn, "the pick targets stay put"
    assert live[live.kind == "curve"].step.max() == 5
    assert demo_state(at, "linear-2x").run is run and run.step == 20
