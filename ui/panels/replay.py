"""Replay: scrub a paused or finished run back to any recorded step, and every chart follows.

With the exact engine any step at all can be shown (the closed form gives θ at step k at once),
on a log-scale slider with an exact step box. Replay only reads the run: nothing here advances,
restarts or changes it, and the replayed step ends as soon as the run moves on.

The loss curve is the bar's chart: a click on it replays the nearest recorded step (as the slider
does), and the pointer resting over it shows that step until it moves off (Streamlit sends a
pointer-over selection to the server once it has settled for 150 ms, then reruns the page). The bar
itself is a slider and a number box, not a chart, so it has no chart selection of its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from fitcore import HISTORY_CAP, Run
from fitcore.explain import exact_state, recorded_params

from ui.charts import HOVER_SELECTION, log_ticks
from ui.page.state import DemoState, widget_key
from ui.page.view import Frame, replay_frame

REPLAY = "replay"
HOVER = "replay_hover"  # the step under the pointer on the loss curve, shown while the pointer stays
CLICKED = "replay_clicked"  # (id of the run, step) of the loss curve's click selection as last seen


@dataclass(frozen=True)
class Replay:
    """The step being replayed, for one run at the step it had when the replay was chosen."""

    run: Run
    at: int
    step: int
    note: str = ""


def _current(state: DemoState, run: Run | None, which: str = REPLAY) -> Replay | None:
    replay = state.extras.get(which)
    if replay is None or run is None or replay.run is not run or replay.at != run.step or state.training:
        return None
    return replay


def replayed_step(state: DemoState, run: Run | None) -> int | None:
    """The step the charts replay, or None when they show the run's latest step."""
    replay = _current(state, run)
    return None if replay is None else replay.step


def can_replay(state: DemoState, run: Run | None) -> bool:
    return run is not None and run.prepared and not state.training and run.step > 0


def is_exact(run: Run) -> bool:
    return run.config.impl == "analytic"


def slider_steps(run: Run, shown: int) -> list[int]:
    """The slider's stops: every recorded step, or, for the exact engine on a long run, 0, 1, 2, 5, 10, …"""
    if is_exact(run) and run.step >= HISTORY_CAP:
        stops = set(log_ticks(run.step))
    elif is_exact(run):
        stops = set(range(run.step + 1))
    else:
        stops = set(run.history.steps)
    return sorted(stops | {run.step, shown})


def frame_at(run: Run, step: int) -> Frame:
    """What the charts show at ``step``: the recorded snapshot, or the exact iterate between records."""
    if is_exact(run) and recorded_params(run, step) is None:
        return replay_frame(run, step, exact_state(run.config, run.data, step, run.quad).params)
    return replay_frame(run, step)


def go_live(state: DemoState) -> None:
    state.extras.pop(REPLAY, None)


def replay_to(state: DemoState, run: Run, step: int, note: str = "") -> None:
    if step >= run.step:
        go_live(state)
    else:
        state.extras[REPLAY] = Replay(run, run.step, max(0, int(step)), note)


def picked_step(selection: Any, name: str) -> int | None:
    """The step a loss-curve selection holds (a recorded step: the curve's points are), or None."""
    chosen = (selection or {}).get("selection", {}).get(name) or []
    if not chosen or "step" not in chosen[0]:
        return None
    return int(chosen[0]["step"])


def step_picked(state: DemoState, run: Run, name: str, key: str, hover_name: str = HOVER_SELECTION) -> None:
    """The loss chart's on_select: a click replays the clicked step (the replay bar and every chart
    follow); the pointer resting over a step shows that step until it moves off the curve.

    Both selections arrive together whenever either changes, so a click is taken only when it is new:
    the pointer moving must not bring back a step clicked before the slider moved on."""
    selection = st.session_state.get(key)
    clicked, hovered = picked_step(selection, name), picked_step(selection, hover_name)
    seen = state.extras.get(CLICKED)
    state.extras[CLICKED] = (id(run), clicked)  # the id: no reference keeps an old run (or its worker) alive
    if not can_replay(state, run):
        state.extras.pop(HOVER, None)
        return
    if clicked is not None and seen != (id(run), clicked):
        replay_to(state, run, min(max(clicked, 0), run.step))
    if hovered is None:
        state.extras.pop(HOVER, None)
    else:
        state.extras[HOVER] = Replay(run, run.step, min(max(hovered, 0), run.step))


def hovered_step(state: DemoState, run: Run | None) -> int | None:
    """The step under the pointer on the loss curve, or None (none, or the run has moved on since)."""
    hover = _current(state, run, HOVER)
    return None if hover is None else hover.step


def _from_slider(state: DemoState, run: Run, key: str) -> None:
    replay_to(state, run, int(st.session_state[key]))


def _from_box(state: DemoState, run: Run, key: str) -> None:
    wanted = min(max(int(st.session_state[key]), 0), run.step)
    if is_exact(run) or recorded_params(run, wanted) is not None or wanted == run.step:
        replay_to(state, run, wanted)
        return
    recorded = [s for s in run.history.steps if s <= wanted]
    nearest = recorded[-1] if recorded else 0
    replay_to(state, run, nearest, f"Step {wanted:,} was not recorded (a run keeps at most {HISTORY_CAP:,} of its "
                                   f"steps; the exact engine has them all): showing step {nearest:,}, the last "
                                   "recorded before it.")


def replay_bar(page_id: str, state: DemoState, run: Run | None) -> Frame | None:
    """The step slider, the exact step box and the way back to live; returns the replayed frame,
    or None when the charts should show the run's latest step."""
    if not can_replay(state, run):
        if state.training:
            go_live(state)
        return None
    assert run is not None
    replay = _current(state, run)
    if replay is None:
        go_live(state)
    shown = run.step if replay is None else replay.step
    slider_key, box_key = widget_key(page_id, "replay_slider"), widget_key(page_id, "replay_step")
    # The widgets always show the replayed step (set before they are drawn, as Streamlit requires).
    st.session_state[slider_key] = shown
    st.session_state[box_key] = shown
    exact = is_exact(run)
    with st.container(border=True):
        slide, box, live = st.columns([5, 1.5, 1.3], vertical_alignment="bottom")
        slide.select_slider(
            "Replay step" + (" (log scale: 0, 1, 2, 5, 10, …)" if exact and run.step >= HISTORY_CAP else ""),
            slider_steps(run, shown), key=slider_key, format_func=lambda s: f"{s:,}",
            on_change=_from_slider, args=(state, run, slider_key),
            help="Scrub back through this run: the fit, the loss, the parameters and the landscape show that "
                 "step. The run itself is not changed.")
        box.number_input("Go to step", min_value=0, max_value=run.step, step=1, key=box_key,
                         on_change=_from_box, args=(state, run, box_key),
                         help="Any step exactly (the exact engine computes it in closed form)." if exact else
                         "The last recorded step at or before this one.")
        live.button("Live / latest", icon=":material/skip_next:", key=widget_key(page_id, "replay_live"),
                    disabled=replay is None, on_click=go_live, args=(state,), width="stretch",
                    help=f"Back to the run's latest step ({run.step:,}).")
        hover = _current(state, run, HOVER)
        if hover is not None and (replay is None or hover.step != replay.step):
            frame = frame_at(run, hover.step)
            values = ", ".join(f"{name} = {value:.6g}" for name, value in zip(run.problem.param_names, frame.params))
            st.caption(f"**Step {frame.step:,}**, under the pointer on the loss curve: {values}, loss "
                       f"{frame.loss:.6g}. Every chart shows it; click to keep it, move off the curve to go back.")
            return frame
        if replay is None:
            st.caption(f"Showing the latest step, {run.step:,}. Drag the slider to replay "
                       + ("any step exactly." if exact else f"any of the {len(run.history):,} recorded steps."))
            return None
        if replay.note:
            st.caption(replay.note)
        st.caption(f"**Replaying step {replay.step:,}** of {run.step:,}: every chart shows the run as it was then. "
                   "The run itself is unchanged; **Live / latest** returns to its latest step.")
    return frame_at(run, replay.step)
