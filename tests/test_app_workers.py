"""A demo page whose runs train in worker processes (FITCORE_WORKERS ≥ 1, the deployed default): Run, Step,
Pause, Resume and Stop drive the worker's run, the page shows exactly the numbers of the same run trained
in-process, and a worker that dies ends its run with a status that says so while the page goes on."""
from __future__ import annotations

import os
import signal

import pytest
from streamlit.testing.v1 import AppTest

import fitcore
from fitcore import RemoteRun

from test_dashboard import assert_every_chart_finite, assert_no_exception, demo_state, enabled, key, open_page
from test_workers import assert_same_run

PAGE = "linear-2x"
SHORT = {"impl": "numpy", "steps": "3000"}
LONG = {"impl": "numpy", "compiled": "1", "steps": "8000000", "rate": "20"}


@pytest.fixture(autouse=True)
def one_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FITCORE_WORKERS", "1")


def interrupted(query: dict[str, str] = LONG) -> AppTest:
    """A run training in its worker while no script of its session runs (a script that timed out)."""
    at = open_page(PAGE, query)
    pressed = at.button(key=key(PAGE, "run")).click()
    with pytest.raises(RuntimeError, match="timed out"):
        at.run(timeout=3)
    pressed.set_value(False)
    return at


def test_that_run_trains_in_a_worker_and_the_page_shows_the_in_process_numbers() -> None:
    at = open_page(PAGE, SHORT)
    at.button(key=key(PAGE, "run")).click().run()
    assert_no_exception(at)
    state = demo_state(at, PAGE)
    assert isinstance(state.run, RemoteRun) and not state.training
    assert state.run.status == "completed"
    assert_same_run(state.run, fitcore.train(state.run.config))
    assert_every_chart_finite(at)
    assert any(s.value == state.run.message for s in at.success)


def test_that_a_run_of_a_handful_of_steps_stays_in_the_page_process() -> None:
    at = open_page(PAGE)  # the notebook's 20 steps: cheaper than the trip to a worker
    at.button(key=key(PAGE, "run")).click().run()
    run = demo_state(at, PAGE).run
    assert type(run) is fitcore.Run and run.status == "completed" and run.step == 20


def test_that_step_and_stop_go_through_the_worker() -> None:
    at = open_page(PAGE, SHORT)
    at.button(key=key(PAGE, "step10")).click().run()
    at.button(key=key(PAGE, "step1")).click().run()
    state = demo_state(at, PAGE)
    assert isinstance(state.run, RemoteRun) and (state.run.status, state.run.step) == ("paused", 11)
    at.button(key=key(PAGE, "stop")).click().run()
    assert_no_exception(at)
    assert (state.run.status, state.run.step) == ("stopped", 11)
    assert any(w.value == "Stopped by you at step 11." for w in at.warning)
    assert_same_run(state.run, _stopped(state.run.config, 11))


def _stopped(config: fitcore.RunConfig, steps: int) -> fitcore.Run:
    run = fitcore.Run(config)
    run.advance(max_steps=steps)
    run.stop()
    return run


def test_that_pause_halts_the_workers_run_and_resume_ends_where_an_uninterrupted_run_ends() -> None:
    at = interrupted(LONG | {"steps": "3000000"})
    enabled(at, PAGE, "pause").click().run()
    assert_no_exception(at)
    state = demo_state(at, PAGE)
    paused_at = state.run.step
    assert state.run.status == "paused" and 0 < paused_at < state.run.total_steps and not state.training
    for _ in range(2):
        at.run()
        assert state.run.sync(wait=0.2).step == paused_at, "the run went on in its worker"
    at.button(key=key(PAGE, "resume")).click().run()
    assert_no_exception(at)
    assert state.run.status == "completed"
    assert_same_run(state.run, fitcore.train(state.run.config))


def test_that_a_killed_worker_ends_the_run_with_a_clear_status_and_the_page_goes_on() -> None:
    at = interrupted()
    run = demo_state(at, PAGE).run
    os.kill(run.worker_pid, signal.SIGKILL)
    for _ in range(50):
        if run.sync(wait=0.2).finished:
            break
    at.run()
    assert_no_exception(at)
    assert (run.status, run.reason) == ("stopped", "worker_died")
    assert any("ended unexpectedly" in w.value for w in at.warning)
    at.button(key=key(PAGE, "reset")).click().run()
    at.number_input(key=key(PAGE, "steps")).set_value(2000).run()
    at.button(key=key(PAGE, "run")).click().run()
    assert_no_exception(at)
    fresh = demo_state(at, PAGE).run
    assert fresh.status == "completed" and fresh.worker_pid != run.worker_pid
