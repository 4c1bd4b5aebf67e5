"""Run, Pause, Resume, Stop, Step and Reset: callbacks that only change session state.

A click reruns the script; Streamlit stops the old script at its next call into Streamlit,
and the new one reads the state these callbacks left. Training itself happens in ``ui.page.live``.
Changing a setting mid-run reruns the script too: the control bar then halts the old run (its
settings are no longer the sidebar's) unless Resume was pressed under exactly these settings.
A run in a worker process trains there between scripts too, so halting one also tells its worker.
"""
from __future__ import annotations

import streamlit as st

from fitcore import RunConfig

from ui.page.live import log_halted
from ui.page.state import DemoState, is_remote, new_run, widget_key
from ui.style import CONTROL_BAR


def halt(state: DemoState) -> None:
    """Training ends here; a worker's run has taken its last step when this returns."""
    state.training = False
    if is_remote(state.run) and state.run.training_on_its_own and not state.run.finished:
        state.run.pause()
        log_halted(state.run)


def start_run(state: DemoState, config: RunConfig) -> None:
    if is_remote(state.run) and not state.run.finished:
        state.run.pause()  # the old run stops using its worker now, not when it is collected
    state.run = new_run(config)
    state.training = True
    state.resumed_under = None
    state.error = None


def pause(state: DemoState) -> None:
    halt(state)


def resume(state: DemoState, config: RunConfig | None) -> None:
    """Continue the run with its own settings, even when the sidebar's have changed since it began."""
    if state.run is not None and not state.run.finished:
        state.training = True
        state.resumed_under = config


def stop(state: DemoState) -> None:
    """End the run where it is: it keeps its charts and can be pinned, but not resumed."""
    if state.run is not None and not state.run.finished:
        was_training = is_remote(state.run) and state.run.training_on_its_own
        state.run.stop()
        if was_training:
            log_halted(state.run)
    state.training = False
    state.pending_steps = 0


def step(state: DemoState, config: RunConfig, count: int) -> None:
    run = state.run
    if run is None or run.config != config or run.status == "diverged" or run.reason == "worker_died":
        state.run = run = new_run(config)
    if run.finished:
        run.extend(count)
    halt(state)
    state.pending_steps = count


def reset(state: DemoState) -> None:
    """Forget the run and any start the learner chose: the next run starts where the demo does."""
    state.run = None
    state.start = None
    state.training = False
    state.resumed_under = None
    state.pending_steps = 0
    state.error = None


# Keys for the controls a learner reaches for while watching the charts (Streamlit reserves C and R).
# A shortcut fires only while its button is enabled and not while the learner types into a field.
SHORTCUTS = {"run": "G", "pause": "P", "resume": "E", "step1": "S", "reset": "X"}


def _keyed(text: str, name: str) -> str:
    """A button's tooltip with its key named, so the shortcut can be found without a manual."""
    return f"{text} Key: **{SHORTCUTS[name]}**."


def control_bar(page_id: str, state: DemoState, config: RunConfig | None, stale: bool, blocked: str | None) -> None:
    run = state.run
    can_run = config is not None and blocked is None
    # Steps a Step button asked for run after this bar is drawn: the run they make is a paused one.
    paused = run is not None and not run.finished and not state.training and (
        run.status in ("paused", "running") or state.pending_steps > 0)
    key = lambda name: widget_key(page_id, name)  # noqa: E731
    # Buttons as wide as their labels, wrapping onto a second line on a narrow screen: in equal
    # columns "Step ×100" was cut short at 1280 px once Stop joined the bar.
    bar = st.container(horizontal=True, gap="small", vertical_alignment="center", key=CONTROL_BAR)
    bar.button("Run", icon=":material/play_arrow:", key=key("run"), type="primary", disabled=not can_run,
               on_click=start_run, args=(state, config), shortcut=SHORTCUTS["run"],
               help=_keyed("Start a new run with the current settings.", "run"))
    bar.button("Pause", icon=":material/pause:", key=key("pause"), disabled=not state.training,
               on_click=pause, args=(state,), shortcut=SHORTCUTS["pause"],
               help=_keyed("Halt the run where it is; Resume continues it.", "pause"))
    bar.button("Resume", icon=":material/resume:", key=key("resume"), disabled=not paused, on_click=resume,
               args=(state, config), shortcut=SHORTCUTS["resume"],
               help=_keyed("Continue the paused run where it stopped.", "resume"))
    bar.button("Stop", icon=":material/stop:", key=key("stop"), disabled=not (state.training or paused),
               on_click=stop, args=(state,),
               help="End this run here: its charts stay (and it can be pinned); Run starts a new one.")
    for count in (1, 10, 100):
        bar.button(f"Step ×{count}", key=key(f"step{count}"), disabled=not can_run or state.training,
                   on_click=step, args=(state, config, count), shortcut=SHORTCUTS.get(f"step{count}"),
                   help=(_keyed("Advance 1 update, then stop.", "step1") if count == 1
                         else f"Advance {count} updates, then stop."))
    bar.button("Reset", icon=":material/restart_alt:", key=key("reset"), on_click=reset, args=(state,),
               shortcut=SHORTCUTS["reset"], help=_keyed("Forget this run (and any start you chose) and start from the "
                                                        "demo's own initial parameters.", "reset"))
    if stale and state.training and state.resumed_under != config:
        halt(state)  # a setting changed mid-run: the old run halts where it is
