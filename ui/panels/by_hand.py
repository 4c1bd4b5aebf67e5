"""The By hand tab: fit the parameters with sliders first, then let gradient descent finish from there.

fitcore.by_hand reads the loss and the gradient at the sliders' θ (the run's own loss, from the
current settings' data); this panel draws the sliders and the reading and starts the run.
"""
from __future__ import annotations

import streamlit as st

from fitcore import Problem
from fitcore.by_hand import HandFit

from ui.charts import fit_chart
from ui.page.context import PageContext
from ui.page.controls import start_run
from ui.page.state import DemoState, widget_key
from ui.page.view import draw_chart


def has_by_hand(problem: Problem) -> bool:
    return problem.page.by_hand


def _finish_from_here(state: DemoState, fit: HandFit, params: tuple[float, ...]) -> None:
    """Button callback: the page's settings from the learner's θ, and the run starts."""
    state.start = params
    start_run(state, fit.finish_from(params))


def _forget_start(state: DemoState) -> None:
    state.start = None
    state.run = None


def by_hand_panel(context: PageContext) -> None:
    problem, state, config = context.problem, context.state, context.config
    if config is None:
        st.info("These settings cannot run; the sidebar says why.")
        return
    fit = HandFit(config.replace(start=None))
    st.caption("Fit it yourself first: move the sliders to lower the loss, reading which way the gradient points. "
               "Then let gradient descent finish from your point with the sidebar's settings.")
    controls, picture = st.columns([1, 1], gap="medium")
    params = []
    for slider in fit.sliders():
        params.append(controls.slider(slider.name, slider.low, slider.high, slider.snap(slider.start), slider.step,
                                key=widget_key(problem.id, f"hand_{slider.name}_{slider.low:g}_{slider.high:g}")))
    reading = fit.read(params)
    draw_chart(picture, fit_chart(fit.data.problem, fit.data.x, fit.data.y, reading.params, fit.quad.optimum))
    loss, gap = controls.columns(2)
    loss.metric("Loss at your θ", f"{reading.loss:.6g}")
    gap.metric("Above the best possible", f"{reading.gap:.4g}", help=f"The least-squares loss is "
                                                                      f"{reading.optimum_loss:.6g}.")
    controls.markdown(f":material/explore: **{reading.advice}**")
    controls.caption("Gradient: " + ", ".join(f"∂L/∂{name} = {g:.4g}" for name, g in zip(fit.names, reading.gradient)))
    chosen = tuple(params)
    go, back = st.columns([2, 1])
    go.button("Let gradient descent finish from here", icon=":material/play_arrow:", type="primary",
              key=widget_key(problem.id, "hand_finish"), on_click=_finish_from_here, args=(state, fit, chosen),
              width="stretch", help="Start a run from your θ with the sidebar's settings; watch it on the Train tab.")
    back.button("Back to the data's own start", key=widget_key(problem.id, "hand_forget"), on_click=_forget_start,
                args=(state,), disabled=state.start is None, width="stretch")
    if state.start is not None:
        st.caption("Runs on this page start from your θ = (" + ", ".join(f"{v:g}" for v in state.start) + ").")
