"""Stop and rerun, checked on the server (AppTest and the session state): Pause, Stop, changing a setting
and leaving the page each halt a run mid-way, and a halted run resumes to exactly the end an
uninterrupted run reaches.

A run still going when a test acts on it is made by cutting one script run off once the run has trained
a number of steps (AppTest then stops the script at its next Streamlit call, as a click in a browser
does): a step count, not a time, so the run is caught at the same place on a faster or slower machine. The uninterrupted reference is
``fitcore.train`` with the same settings; NumPy's Gram-matrix path is deterministic, so "exactly" is
bit for bit: the parameters, the loss, every recorded point and the printed log.
"""
from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import fitcore
from fitcore import RunConfig

import test_dashboard
from conftest import assert_same_run, trained
from test_dashboard import (PAGE_FILES, assert_every_chart_finite, assert_no_exception, demo_state, enabled, key,
                            metric, open_page)

PAGE = "linear-2x"
# NumPy steps (the Gram path in float32, one update at a time), interrupted after INTERRUPT_AFTER_STEPS:
# many times that, so the run is mid-way when caught, and short enough to finish in one script run.
LONG = {"impl": "numpy", "compiled": "1", "steps": "1200000", "rate": "20", "seed": "0"}  # seed: its input is drawn


def start_and_interrupt(at: AppTest, button: str) -> None:
    """Press ``button`` and cut the script run off once the live loop has trained a number of steps."""
    test_dashboard.start_and_interrupt(at, PAGE, button)


def interrupted(query: dict[str, str] = LONG) -> AppTest:
    at = open_page(PAGE, query)
    start_and_interrupt(at, "run")
    state = demo_state(at, PAGE)
    assert state.training and 0 < state.run.step < state.run.total_steps, "the run was not caught mid-way"
    return at


def assert_halted(at: AppTest) -> int:
    """The run does not move over two more script runs; returns its step."""
    state = demo_state(at, PAGE)
    assert not state.training
    halted_at = state.run.step
    for _ in range(2):
        at.run()
        assert_no_exception(at)
        assert state.run.step == halted_at and not state.training, "the run went on"
    return halted_at


def assert_same_as_uninterrupted(run: fitcore.Run) -> None:
    # Every test here interrupts the same LONG run: its uninterrupted end is trained once for them all.
    assert_same_run(run, trained(run.config))


def test_that_pause_halts_a_run_and_resume_ends_exactly_where_an_uninterrupted_run_ends() -> None:
    at = interrupted()
    enabled(at, PAGE, "pause").click().run()
    paused_at = assert_halted(at)
    state = demo_state(at, PAGE)
    assert state.run.status == "paused" and metric(at, "Step") == f"{paused_at:,}"
    at.button(key=key(PAGE, "resume")).click().run()
    assert_no_exception(at)
    assert state.run.status == "completed" and not state.training
    assert_same_as_uninterrupted(state.run)
    assert_every_chart_finite(at)


def test_that_streamlits_header_stop_ends_a_run_in_this_process_like_our_stop() -> None:
    # The header Stop is a stop request to the running script, not a rerun: a run trained by the page's own
    # loop ends there, and the next click does not train it on.
    at = open_page(PAGE, LONG)
    test_dashboard.start_and_interrupt(at, PAGE, "run", header_stop=True)
    state = demo_state(at, PAGE)
    stopped_at = state.run.step
    assert not state.training and (state.run.status, state.run.reason) == ("stopped", "user")
    assert 0 < stopped_at < state.run.total_steps
    assert_halted(at)
    assert any(w.value == f"Stopped by you at step {stopped_at:,}." for w in at.warning)


def test_that_stop_ends_a_run_where_it_is_and_keeps_its_results() -> None:
    at = interrupted()
    enabled(at, PAGE, "stop").click().run()
    assert_no_exception(at)
    stopped_at = assert_halted(at)
    run = demo_state(at, PAGE).run
    assert (run.status, run.reason) == ("stopped", "user")
    assert [w.value for w in at.warning if w.value == f"Stopped by you at step {stopped_at:,}."]
    assert metric(at, "Step") == f"{stopped_at:,}"
    for name in ("pause", "resume", "stop"):
        assert at.button(key=key(PAGE, name)).disabled, name
    assert not at.button(key=key(PAGE, "run")).disabled
    steps, _, params = run.history.arrays()
    assert steps[-1] == stopped_at
    # What it kept is the start of the uninterrupted run: the same parameters at the step it stopped.
    prefix = fitcore.train(run.config.replace(steps=stopped_at))
    np.testing.assert_array_equal(params[-1], prefix.current_params)
    assert_every_chart_finite(at)


def test_that_the_stop_button_is_enabled_only_while_a_run_can_be_stopped() -> None:
    at = open_page(PAGE, {"steps": "30"})
    assert at.button(key=key(PAGE, "stop")).disabled, "nothing to stop before a run"
    at.button(key=key(PAGE, "step10")).click().run()
    assert demo_state(at, PAGE).run.status == "paused"
    assert not at.button(key=key(PAGE, "stop")).disabled, "a paused run can be stopped"
    at.button(key=key(PAGE, "stop")).click().run()
    run = demo_state(at, PAGE).run
    assert (run.status, run.step) == ("stopped", 10)
    at.button(key=key(PAGE, "step1")).click().run()
    assert demo_state(at, PAGE).run.step == 11, "Step after Stop continues the stopped run's iterates"


@pytest.mark.parametrize("kind, name, value", [("number_input", "lr", 0.002), ("selectbox", "optimizer", "momentum"),
                                               ("number_input", "seed", 3)])
def test_that_changing_a_setting_mid_run_halts_the_old_run_and_resume_finishes_it_as_it_began(
        kind: str, name: str, value: object) -> None:
    at = interrupted()
    state = demo_state(at, PAGE)
    began_with = state.run.config
    getattr(at, kind)(key=key(PAGE, name)).set_value(value)
    at.run()
    assert_no_exception(at)
    halted_at = assert_halted(at)
    assert state.run.config == began_with and state.run.status == "paused"
    assert any(w.value.startswith(f"Paused at step {halted_at:,}. The settings have changed") for w in at.warning)
    at.button(key=key(PAGE, "resume")).click().run()
    assert_no_exception(at)
    assert state.run.config == began_with and state.run.status == "completed"
    assert_same_as_uninterrupted(state.run)


def test_that_a_setting_changed_during_a_resumed_run_halts_it_again() -> None:
    at = interrupted(LONG | {"steps": "8000000"})  # still going after two interruptions
    at.number_input(key=key(PAGE, "lr")).set_value(0.002)
    at.run()
    state = demo_state(at, PAGE)
    halted_at = assert_halted(at)
    start_and_interrupt(at, "resume")
    assert state.training and state.run.step > halted_at
    at.number_input(key=key(PAGE, "seed")).set_value(9)
    at.run()
    assert_halted(at)
    assert state.run.status == "paused"


def test_that_leaving_the_page_mid_run_halts_it_and_coming_back_ends_where_an_uninterrupted_run_ends() -> None:
    at = interrupted()
    state = demo_state(at, PAGE)
    left_at = state.run.step
    at.switch_page(PAGE_FILES["sine-cubic"]).run()
    assert_no_exception(at)
    at.run()
    assert state.run.step == left_at, "the run trained while its page was not shown"
    at.switch_page(PAGE_FILES[PAGE]).run()
    assert_no_exception(at)
    assert state.run.status == "completed"
    assert_same_as_uninterrupted(state.run)


def test_that_run_after_an_interruption_starts_a_fresh_run_with_the_new_settings() -> None:
    at = interrupted()
    at.number_input(key=key(PAGE, "steps")).set_value(50)
    at.run()
    old = demo_state(at, PAGE).run
    at.button(key=key(PAGE, "run")).click().run()
    new = demo_state(at, PAGE).run
    assert new is not old and new.config.steps == 50 and new.status == "completed"
    assert old.status == "paused", "the old run was left as it was"
    assert_same_as_uninterrupted(new)


# --- two scripts of one session (fastReruns) ----------------------------------------------------------------

def test_that_a_new_script_waits_until_the_older_one_has_let_go_of_the_run() -> None:
    import threading

    from ui.page.state import DemoState

    state = DemoState()
    order: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def older_script() -> None:
        with state.busy:
            holding.set()
            release.wait(5)
            order.append("older script let go")

    older = threading.Thread(target=older_script)
    older.start()
    holding.wait(5)
    threading.Timer(0.2, release.set).start()
    state.wait_for_older_script()
    order.append("new script read the run")
    older.join(5)
    assert order == ["older script let go", "new script read the run"]
    assert not state.busy.locked()


def test_that_run_pause_resume_step_and_reset_have_keys_named_in_their_tooltips() -> None:
    from ui.page.controls import SHORTCUTS
    at = open_page(PAGE)
    for name, shortcut in SHORTCUTS.items():
        button = at.button(key=key(PAGE, name))
        assert button.proto.shortcut, f"{name} has no keyboard shortcut"
        assert shortcut.lower() in button.proto.shortcut.lower()
        assert f"Key: **{shortcut}**" in button.help
    assert len(set(SHORTCUTS.values())) == len(SHORTCUTS)
