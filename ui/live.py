"""The live loop: advance the run for one update interval, redraw, repeat.

Each pass calls into Streamlit, so a click elsewhere (Pause, any widget) stops this script
within one interval; the run itself lives in session state and simply waits to be resumed.
"""
from __future__ import annotations

import time
from typing import Callable

import streamlit as st

from fitcore import FrameworkMissing, Run

from .state import DemoState
from .view import framework_spinner_text


def prepare(run: Run, slot: st.delta_generator.DeltaGenerator) -> str | None:
    """Import the framework (and compile) with a spinner; returns an error message on failure."""
    if run.prepared:
        return None
    try:
        with slot.container(), st.spinner(framework_spinner_text(run.config.impl, run.config.compiled)):
            run.prepare()
    except FrameworkMissing as error:
        return str(error)
    except Exception as error:  # a broken framework install must not show a traceback
        return f"{run.config.impl} could not start: {error}"
    return None


def step_now(state: DemoState, slot: st.delta_generator.DeltaGenerator) -> None:
    """Apply the steps a Step button asked for."""
    run, count = state.run, state.pending_steps
    state.pending_steps = 0
    if run is None or count <= 0:
        return
    state.error = prepare(run, slot)
    if state.error is None:
        run.advance(max_steps=count)


def train_live(state: DemoState, rate: int, slot: st.delta_generator.DeltaGenerator,
               redraw: Callable[[Run], None]) -> None:
    run = state.run
    if run is None:
        return
    state.error = prepare(run, slot)
    if state.error is not None:
        state.training = False
        st.rerun()
    interval = 1.0 / max(1, rate)
    drawing = 0.0
    try:
        while state.training and not run.finished:
            # Train for what is left of the interval after the last redraw, so charts keep their rate.
            run.advance(max_seconds=max(interval - drawing, 0.25 * interval))
            began = time.perf_counter()
            redraw(run)
            drawing = time.perf_counter() - began
    except Exception as error:  # any failure inside a framework ends the run, not the page
        state.error = f"The run stopped with an error: {error}"
    state.training = False
    st.rerun()
