"""Run, Pause, Resume, Step and Reset: callbacks that only change session state.

A click reruns the script; Streamlit stops the old script at its next call into Streamlit,
and the new one reads the state these callbacks left. Training itself happens in ``ui.live``.
"""
from __future__ import annotations

import streamlit as st

from fitcore import Run, RunConfig

from .limits import run_limits
from .state import DemoState, widget_key


def start_run(state: DemoState, config: RunConfig) -> None:
    state.run = Run(config, run_limits(config))
    state.training = True
    state.error = None


def pause(state: DemoState) -> None:
    state.training = False


def resume(state: DemoState) -> None:
    if state.run is not None and not state.run.finished:
        state.training = True


def step(state: DemoState, config: RunConfig, count: int) -> None:
    run = state.run
    if run is None or run.config != config or run.status == "diverged":
        state.run = run = Run(config, run_limits(config))
    if run.finished:
        run.extend(count)
    state.training = False
    state.pending_steps = count


def reset(state: DemoState) -> None:
    state.run = None
    state.training = False
    state.pending_steps = 0
    state.error = None


def control_bar(page_id: str, state: DemoState, config: RunConfig | None, stale: bool, blocked: str | None) -> None:
    run = state.run
    can_run = config is not None and blocked is None
    paused = run is not None and not run.finished and not state.training and run.status in ("paused", "running")
    key = lambda name: widget_key(page_id, name)  # noqa: E731
    cols = st.columns([1.3, 1, 1.1, 0.9, 0.9, 0.9, 1])
    cols[0].button("Run", icon=":material/play_arrow:", key=key("run"), type="primary", disabled=not can_run, width="stretch",
                   on_click=start_run, args=(state, config), help="Start a new run with the current settings.")
    cols[1].button("Pause", icon=":material/pause:", key=key("pause"), disabled=not state.training, width="stretch",
                   on_click=pause, args=(state,))
    cols[2].button("Resume", icon=":material/resume:", key=key("resume"), disabled=not paused, width="stretch", on_click=resume,
                   args=(state,), help="Continue the paused run where it stopped.")
    for col, count in zip(cols[3:6], (1, 10, 100)):
        col.button(f"Step ×{count}", key=key(f"step{count}"), disabled=not can_run or state.training,
                   width="stretch", on_click=step, args=(state, config, count),
                   help=f"Advance {count} update{'s' if count > 1 else ''}, then stop.")
    cols[6].button("Reset", icon=":material/restart_alt:", key=key("reset"), width="stretch", on_click=reset, args=(state,),
                   help="Forget this run and start from the initial parameters.")
    if stale and state.training:
        state.training = False
