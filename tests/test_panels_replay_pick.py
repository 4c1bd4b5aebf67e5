"""A click on the loss curve replays that step (ui.panels.replay.step_picked): the replay bar and every
chart follow. AppTest cannot click a Vega chart, so the selection the browser would send is handed to
the loss chart's own on_select handler."""
from __future__ import annotations

import pytest

from fitcore import Run, RunConfig
from ui.charts import STEP_SELECTION
from ui.page.state import DemoState
from ui.panels.replay import picked_step, replayed_step, step_picked

from test_dashboard import assert_no_exception, open_page, train


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
    assert len(loss) == 1 and list(loss[0].proto.selection_mode) == [STEP_SELECTION]
