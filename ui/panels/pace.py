"""Respect the user's time: an estimate before a long run, faster ways to the same answer, and no
run estimated over a minute that starts without saying so.

Rates come from ``fitcore.estimate``: measured by a short calibration of the same settings, or by
any earlier run (or the Speed page) in this session, and kept in session state per rate key. NumPy
and the exact engine are calibrated as the page draws (a fraction of a second, no framework to
load); PyTorch and TensorFlow only once Run is pressed (loading a framework on every page visit would
cost seconds), and if that run then needs more than a minute it waits for a second click. A run that
went start to end in one go also tells how much of the wall time the live charts took, and later
estimates count it.
"""
from __future__ import annotations

import threading
import time

import streamlit as st

from fitcore import FrameworkMissing, Problem, Run, RunConfig, get_implementation
from fitcore.estimate import (Alternative, Estimate, Rate, RateKey, about, alternatives, calibrate, estimate,
                              measured_rate, rate_key, training_share)

from ui.page import sidebar
from ui.page.controls import start_run
from ui.page.limits import run_limits
from ui.page.settings import config_from_values
from ui.page.state import DemoState, timing_run, widget_key

RATES = "pace:rates"       # session state: rate key -> Rate, shared by every page of the session
SHARE = "pace:share"       # session state: the share of wall time live runs left to training
BEGAN = "pace:began"       # this page's extras: (id of the run, when it started training)
SEEN = "pace:seen"         # this page's extras: the config whose over-a-minute estimate the user has seen
ASKED = "pace:asked"       # this page's extras: the config whose Run waits for a second click


def known_rates() -> dict[RateKey, Rate]:
    return st.session_state.setdefault(RATES, {})


def remember(config: RunConfig, rate: Rate | None) -> None:
    if rate is not None:
        known_rates()[rate_key(config)] = rate


def calibrates_as_it_draws(config: RunConfig) -> bool:
    """NumPy-based runs measure their rate in a fraction of a second without loading anything."""
    return get_implementation(config.impl).framework == "numpy"


@st.cache_resource(show_spinner=False)
def timed_on_this_server() -> tuple[dict[RateKey, Rate | None], threading.Lock]:
    """NumPy and exact rates timed by any session of this server, and the lock one timing holds: every
    session runs on the same machine, and a room opening the same page at once timed the same settings
    once per attendee in the server's one interpreter (a fifth of a second each, sixty queued)."""
    return {}, threading.Lock()


def _timed(config: RunConfig) -> Rate | None:
    try:
        return calibrate(config, limits=run_limits(config), open_run=timing_run)
    except FrameworkMissing:
        return None
    except Exception:  # a calibration that fails says nothing about the run: it reports its own error
        return None


def _calibrate(config: RunConfig) -> None:
    if not calibrates_as_it_draws(config):
        remember(config, _timed(config))
        return
    shared, timing = timed_on_this_server()
    key = rate_key(config)
    with timing:  # a session arriving while another times these settings waits for its figure
        if key not in shared:
            shared[key] = _timed(config)
        rate = shared[key]
    remember(config, rate)


def _estimate_for(config: RunConfig, *, measure: bool) -> Estimate | None:
    share = st.session_state.get(SHARE, 1.0)
    found = estimate(config, known_rates(), training_share=share)
    if found is None and measure:
        with st.spinner("Timing these settings for a moment before the run starts…"):
            _calibrate(config)
        found = estimate(config, known_rates(), training_share=share)
    return found


def _learn(state: DemoState, run: Run) -> None:
    """Keep a stopped run's rate, and, if it ran start to end in one go, the share of its wall time that
    training had beside the live charts."""
    remember(run.config, measured_rate(run))
    began = state.extras.pop(BEGAN, None)
    if began is not None and began[0] == id(run) and run.finished:
        share = training_share(run, time.perf_counter() - began[1])
        if share is not None:
            st.session_state[SHARE] = share


def _switch(problem: Problem, state: DemoState, alternative: Alternative) -> None:
    """One click: change the settings to the faster path and start the run with them."""
    sidebar.set_values(problem, state, dict(alternative.changes))
    state.extras.pop(ASKED, None)
    try:
        config = config_from_values(problem, state.values)
    except Exception:  # the settings cannot run (the sidebar will say why): just switch
        state.run = None
        return
    start_run(state, config)


def _run_anyway(state: DemoState, config: RunConfig) -> None:
    state.extras[SEEN] = config
    state.extras.pop(ASKED, None)
    start_run(state, config)


def _alternative_text(config: RunConfig, alternative: Alternative) -> str:
    other = alternative.config(config)
    found = _estimate_for(other, measure=calibrates_as_it_draws(other))  # an instant for NumPy or exact
    if found is not None:
        return f"{alternative.why}; {about(found.seconds)}"
    if get_implementation(other.impl).framework == "torch":
        return f"{alternative.why}; compiles first (a few seconds, once per server)"
    return alternative.why


def _proposals(problem: Problem, state: DemoState, config: RunConfig, found: Estimate, asked: bool) -> None:
    over = found.needs_confirmation
    text = (f"**This run would take {about(found.seconds)}**: {found.text().split(': ', 1)[1]}."
            if over else f"Estimated time: **{found.text()}**.")
    offers = alternatives(config)
    if offers:
        text += " The same answer comes faster:"
    with st.container(border=True):
        (st.warning if over else st.info)(text, icon=":material/timer:")
        for offer in offers:
            left, right = st.columns([1, 2], vertical_alignment="center")
            label = "Run on the compiled path" if offer.key == "compiled" else "Run with the exact engine"
            left.button(label, key=widget_key(problem.id, f"pace_{offer.key}"), on_click=_switch,
                        args=(problem, state, offer), width="stretch",
                        icon=":material/bolt:" if offer.key == "compiled" else ":material/functions:")
            right.caption(_alternative_text(config, offer))
        if asked:
            st.button("Run anyway", key=widget_key(problem.id, "pace_anyway"), on_click=_run_anyway,
                      args=(state, config), type="primary", icon=":material/play_arrow:",
                      help=f"Start it as it is: {about(found.seconds)}. Pause stops it at any step.")
        elif over:
            st.caption("**Run** starts it as it is; **Pause** stops it at any step.")


def pace_panel(problem: Problem, state: DemoState, config: RunConfig | None, blocked: str | None) -> None:
    """Drawn under the controls: learns the rate of the current run, shows the estimate of the next,
    and holds back a just-started run estimated over a minute that nobody was told about."""
    run = state.run
    if run is not None and not state.training:
        _learn(state, run)
    if config is None or blocked:
        return
    just_started = state.training and run is not None and run.config == config and run.step == 0 \
        and not run.finished and not run.prepared
    if state.training and not just_started:
        return
    if just_started:
        found = _estimate_for(config, measure=True)
        if found is not None and found.needs_confirmation and state.extras.get(SEEN) != config:
            state.training = False
            state.extras[ASKED] = config
            st.rerun()
        state.extras[BEGAN] = (id(run), time.perf_counter())
        return
    found = _estimate_for(config, measure=calibrates_as_it_draws(config))
    if found is None or not found.worth_showing:
        return
    asked = state.extras.get(ASKED) == config
    if found.needs_confirmation:
        state.extras[SEEN] = config  # the user is told before the click: Run may start it now
    if found.long or asked:
        _proposals(problem, state, config, found, asked)
    else:
        st.caption(f":material/timer: Estimated time: {found.text()}.")


def record_rate(config: RunConfig, steps_per_second: float, source: str) -> None:
    """Let another page (the Speed page) share a rate it measured."""
    if steps_per_second > 0:
        remember(config, Rate(steps_per_second, source))

