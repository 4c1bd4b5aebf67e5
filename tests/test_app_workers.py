"""A demo page whose runs train in worker processes (FITCORE_WORKERS ≥ 1, the deployed default): Run, Step,
Resume, a changed setting and Stop (ours and Streamlit's header Stop) drive the worker's run, the page shows
exactly the numbers of the same run trained in-process, and a worker that dies ends its run with a status
that says so while the page goes on. (Pause halts through the same call as a changed setting; its own
behaviour in a worker is in tests/test_workers.py.)"""
from __future__ import annotations

import os
import signal

import pytest
from streamlit.testing.v1 import AppTest

import fitcore
from fitcore import RemoteRun

from test_dashboard import (assert_every_chart_finite, assert_no_exception, demo_state, key, open_page,
                            start_and_interrupt)
from test_workers import assert_same_run

PAGE = "linear-2x"
SHORT = {"impl": "numpy", "steps": "3000"}
LONG = {"impl": "numpy", "compiled": "1", "steps": "8000000", "rate": "20"}


@pytest.fixture(autouse=True)
def one_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FITCORE_WORKERS", "1")


def training_between_scripts(query: dict[str, str] = LONG) -> AppTest:
    """A run training in its worker while no script of its session runs, as after a click cut the live loop
    off and before the next script takes over: a few steps by Step, then the worker trains it on its own."""
    at = open_page(PAGE, query)
    at.button(key=key(PAGE, "step10")).click().run()
    state = demo_state(at, PAGE)
    assert isinstance(state.run, RemoteRun) and state.run.step == 10
    state.run.train()
    state.training = True
    for _ in range(100):
        if state.run.sync(wait=0.2).step > 10:
            break
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


def test_that_a_setting_changed_while_the_worker_trains_halts_its_run_and_resume_ends_it_bit_for_bit() -> None:
    at = training_between_scripts(LONG | {"steps": "3000000"})
    state = demo_state(at, PAGE)
    began_with = state.run.config
    at.number_input(key=key(PAGE, "lr")).set_value(0.002).run()  # the control bar halts it, as Pause does
    assert_no_exception(at)
    halted_at = state.run.step
    assert state.run.status == "paused" and 10 < halted_at < state.run.total_steps and not state.training
    for _ in range(2):
        at.run()
        assert state.run.sync(wait=0.2).step == halted_at, "the run went on in its worker"
    at.button(key=key(PAGE, "resume")).click().run()
    assert_no_exception(at)
    assert state.run.config == began_with and state.run.status == "completed"
    assert_same_run(state.run, fitcore.train(began_with))


def test_that_a_killed_worker_ends_the_run_with_a_clear_status_and_the_page_goes_on() -> None:
    at = training_between_scripts()
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


def test_that_streamlits_header_stop_ends_the_run_like_our_stop() -> None:
    at = open_page(PAGE, LONG)
    # The header Stop is a stop request to the running script, not a rerun: sent here once the run has trained
    # 50,000 steps (a step count, so a fast machine cannot finish the 8,000,000 first).
    start_and_interrupt(at, PAGE, "run", after_steps=50_000, header_stop=True)
    state = demo_state(at, PAGE)
    run = state.run
    assert isinstance(run, RemoteRun) and not state.training
    stopped_at = run.step
    assert (run.status, run.reason) == ("stopped", "user") and 0 < stopped_at < run.total_steps
    assert run.message == f"Stopped by you at step {stopped_at:,}."
    assert run.sync(wait=0.3).step == stopped_at, "the worker trained on after the stop"
    at.run()
    assert_no_exception(at)
    assert any(w.value == f"Stopped by you at step {stopped_at:,}." for w in at.warning)
