"""The live loop: advance the run for one update interval, redraw, repeat.

The loop calls into Streamlit at least every ``HANDBACK`` seconds, so a click elsewhere (Pause, any
widget) stops this script within that; the run itself lives in session state and waits to be resumed.
A run in a worker process (``fitcore.RemoteRun``) trains there on its own: the loop only brings its
progress in and redraws, and the controls' callbacks halt it in the worker.
"""
from __future__ import annotations

import time
from typing import Callable

import streamlit as st
from streamlit.logger import get_logger
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner_utils.exceptions import StopException
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from fitcore import FrameworkMissing, RemoteRun, Run, WorkerError

from ui.page.state import DemoState
from ui.page.view import framework_spinner_text

LOG = get_logger(__name__)
HANDBACK = 0.05  # seconds of training at most between two calls into Streamlit (issue 3: within 0.5 s)
# Redraws per second that all sessions training in workers share: the Streamlit process draws every
# session's charts with one interpreter, so 30 sessions at the page's default rate would queue behind
# each other and every page would stall; under the budget each page slows evenly instead.
REDRAW_BUDGET = 40.0
# How often a session following a worker's run calls into Streamlit between redraws: only so that a click's
# new script takes over (the click's callback has already halted the worker). It sends nothing (hand_back);
# when it drew an empty placeholder, 60 sessions calling every 50 ms flooded the server's event loop.
REMOTE_HANDBACK = 0.25
HANDBACK_KEY = "fitcore:handback"  # a session-state key never set: reading it is the hand-back


def hand_back() -> None:
    """A call into Streamlit where a click's rerun request stops this script (``runner.fastReruns``), and
    that sends the browser nothing: every read of session state yields to the script runner. The loops
    called ``slot.empty()`` here, a message to the browser and a render there each time: 120 a second
    for 30 sessions following their workers, every one of them work for the server's one interpreter."""
    st.session_state.get(HANDBACK_KEY)


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
    with state.busy:
        state.error = prepare(run, slot)
        if state.error is None:
            run.advance(max_steps=count)


def train_live(state: DemoState, rate: int, slot: st.delta_generator.DeltaGenerator,
               redraw: Callable[[Run], None]) -> None:
    run = state.run
    if run is None:
        return
    try:
        with state.busy:
            if isinstance(run, RemoteRun):
                _follow_remote(state, run, rate, slot, redraw)
            else:
                _train(state, run, rate, slot, redraw)
    except StopException:
        # Streamlit's own header Stop, or the session closing: the run ends as our Stop ends it, rather than
        # resuming at the next click (in this process) or training on in its worker with no page left to
        # show it. A click stops the script too (runner.fastReruns) and then its callback decides.
        if stopped_without_a_rerun():
            run.stop()
            state.training = False
        raise
    finally:
        # A worker's run trains on after its page's script ends (a click's callback halts it, and logs that).
        if not (isinstance(run, RemoteRun) and run.training_on_its_own and not run.finished):
            log_halted(run)
    st.rerun()


def log_halted(run: Run) -> None:
    """In the server's log: when a click (or the end) stopped the training, for whoever watches the load."""
    LOG.info("training halted at step %d of %d (%s; unix time %.3f)", run.step, run.total_steps, run.status,
             time.time())


def stopped_without_a_rerun(settle: float = 0.1) -> bool:
    """Whether the StopException this script caught ends it for good (the header Stop, the session closing)
    rather than making way for a click's rerun. With ``runner.fastReruns`` (on here and forced on by
    Community Cloud) a click stops the running script as the header Stop does, but the session then hands
    the click to a new script runner at once; Streamlit has no public way to ask, so this compares the
    session's current runner with this script's. Outside a server (AppTest) a stop is taken as final."""
    ctx = get_script_run_ctx(suppress_warning=True)
    runtime = Runtime.instance() if Runtime.exists() else None
    if ctx is None or type(runtime) is not Runtime:  # AppTest puts a mock in the Runtime's place
        return True
    time.sleep(settle)  # the session replaces its runner right after stopping this one, on its event loop
    try:
        info = runtime._session_mgr.get_session_info(ctx.session_id)
        runner = info.session._scriptrunner if info is not None else None
    except AttributeError:  # a Streamlit whose internals moved: take the stop as final, as before
        return True
    return runner is None or getattr(runner, "_requests", None) is ctx.script_requests


def next_redraw(last_due: float, interval: float) -> float:
    """When the next redraw is due: one interval after the last one was due, not after it ended, so the
    page keeps its rate whatever the loop's own costs (drawing, reading progress) add to each round; they
    made 10 updates asked for 9.9 (BENCHMARKS.md, live). A redraw that ran late moves the schedule on:
    a quarter of an interval of training comes before the next one whatever happens."""
    return max(last_due + interval, time.perf_counter() + 0.25 * interval)


def _train(state: DemoState, run: Run, rate: int, slot: st.delta_generator.DeltaGenerator,
           redraw: Callable[[Run], None]) -> None:
    state.error = prepare(run, slot)
    if state.error is not None:
        state.training = False
        return
    interval = 1.0 / max(1, rate)
    deadline = time.perf_counter()
    try:
        while state.training and not run.finished:
            # Train until the next redraw is due, in slices of at most HANDBACK seconds with a call into
            # Streamlit after each: that call is where a click's rerun request stops this script.
            deadline = next_redraw(deadline, interval)
            while True:
                run.advance(max_seconds=min(HANDBACK, max(deadline - time.perf_counter(), 0.0)))
                if run.finished or time.perf_counter() >= deadline:
                    break
                hand_back()
            redraw(run)
    except Exception as error:  # any failure inside a framework ends the run, not the page
        state.error = f"The run stopped with an error: {error}"
    state.training = False


def _follow_remote(state: DemoState, run: RemoteRun, rate: int, slot: st.delta_generator.DeltaGenerator,
                   redraw: Callable[[Run], None]) -> None:
    """The worker trains; this loop waits for its progress, calls into Streamlit every REMOTE_HANDBACK
    seconds (where a click stops this script) and redraws at the page's rate, within the server's budget.
    A click reruns the script (RerunException) and the worker trains on meanwhile."""
    state.error = prepare(run, slot)
    if state.error is not None:
        state.training = False
        return
    deadline = time.perf_counter()
    try:
        run.train()
        while state.training and not run.finished:
            deadline = next_redraw(deadline, max(1.0 / max(1, rate), run.neighbours_training() / REDRAW_BUDGET))
            handed_back = time.perf_counter()
            while True:
                run.sync(wait=min(REMOTE_HANDBACK, max(deadline - time.perf_counter(), 0.0)))
                if not run.finished and not run.worker_training and run.training_on_its_own:
                    # The worker paused it: this script went unheard past the lease (a server busy for
                    # seconds, e.g. importing a framework for another page). The page still trains it.
                    run.train()
                now = time.perf_counter()
                if run.finished or now >= deadline:
                    break
                if now - handed_back >= REMOTE_HANDBACK:
                    hand_back()
                    handed_back = now
            redraw(run)
    except WorkerError as error:  # the framework failed inside the worker: the run ends, not the page
        state.error = f"The run stopped with an error: {error}"
    state.training = False
