"""The Predict and By hand tabs in the running app (AppTest).

Predict: a prediction is taken before its run, Run and reveal judges it from the run, the outcome
and the why appear beside it, and the session's score counts it. By hand: moving a slider changes the
loss and the gradient's advice, and "finish from here" starts a run at the sliders' θ.
"""
from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from fitcore import RunConfig
from fitcore.by_hand import HandFit
from fitcore.challenge_sets import challenges_for
from fitcore.challenges import run_challenge
from fitcore.engine import train

from test_app_compare_lessons import act, open_page

pytestmark = pytest.mark.filterwarnings("ignore")


def texts(at: AppTest) -> str:
    return "\n".join(str(m.value) for kind in ("markdown", "success", "warning", "caption")
                     for m in at.get(kind))


def test_that_a_prediction_walks_to_its_reveal_and_into_the_score() -> None:
    page = "quadratic-bias"
    at = open_page(page)
    first, second = challenges_for(page)[:2]
    # the lesson whose run the question is about points to it before its own text
    assert f"Predict first (question 1 on the Predict tab): {first.question}" in texts(at)
    reveal = at.button(key=f"{page}:predict_{first.key}_reveal")
    assert reveal.disabled, "a run can be revealed before any prediction"
    outcome = first.outcome(run_challenge(first, page))
    wrong = next(choice for choice in first.choices if choice != outcome.answer)
    at.radio(key=f"{page}:predict_{first.key}").set_value(wrong)
    act(at)
    assert not at.button(key=f"{page}:predict_{first.key}_reveal").disabled
    at.button(key=f"{page}:predict_{first.key}_reveal").click()
    act(at)
    shown = texts(at)
    assert "Your prediction" in shown and wrong in shown and outcome.said in shown and first.why in shown
    assert "Not this time." in shown and "0 of 1 right" in shown
    at.radio(key=f"{page}:predict_{second.key}").set_value(second.outcome(run_challenge(second, page)).answer)
    act(at)
    at.button(key=f"{page}:predict_{second.key}_reveal").click()
    act(at)
    assert "Right." in texts(at) and "1 of 2 right" in texts(at)
    assert at.get("download_button"), "no download of the session's answers"


def test_that_a_number_prediction_is_judged_within_its_tolerance() -> None:
    page = "linear-2x"
    at = open_page(page)
    challenge = next(c for c in challenges_for(page) if c.is_number)
    truth = float(challenge.outcome(run_challenge(challenge, page)).answer)
    at.number_input(key=f"{page}:predict_{challenge.key}").set_value(round(truth, 1))
    act(at)
    at.button(key=f"{page}:predict_{challenge.key}_reveal").click()
    act(at)
    assert "Right." in texts(at) and "1 of 1 right" in texts(at)


def hand_loss(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Loss at your θ")


def test_that_moving_a_slider_changes_the_loss_and_the_advice_and_finish_starts_from_there() -> None:
    page = "quadratic-bias"
    at = open_page(page)
    at.button(key=f"{page}:lesson_too-small_load").click()  # NumPy settings: the finished run takes no framework
    act(at)
    [slider] = [s for s in at.slider if s.key.startswith(f"{page}:hand_bias")]
    before = hand_loss(at)
    assert "The gradient says: increase bias" in texts(at)
    slider.set_value(7.0)
    act(at)
    assert hand_loss(at) != before
    assert "The gradient says: decrease bias" in texts(at)
    fit = HandFit(RunConfig.notebook(page))  # the lesson keeps the notebook's data
    assert hand_loss(at) == f"{fit.read([7.0]).loss:.6g}"
    at.button(key=f"{page}:hand_finish").click()
    act(at)
    state = at.session_state[f"state:{page}"]
    assert state.start == (7.0,) and state.run is not None and state.run.config.start == (7.0,)
    np.testing.assert_array_equal(state.run.data.init, np.array([7.0], dtype=state.run.data.init.dtype))
    assert state.run.initial_loss == pytest.approx(fit.read([7.0]).loss, rel=1e-6)
    # the page's settings now hold the start too, so the run is the page's own and trains live
    assert state.run.config.impl == "numpy" and state.run.step > 0
    assert "Runs on this page start from your θ = (7)." in texts(at)



def test_that_a_reveal_runs_the_questions_own_settings_whatever_the_sidebar_and_the_chosen_start_hold() -> None:
    from test_dashboard import open_page as open_with_link
    page = "quadratic-bias"
    at = open_with_link(page, {"impl": "numpy", "lr": "0.3", "steps": "7", "start": "9"})
    for challenge in challenges_for(page)[:3]:
        outcome = challenge.outcome(run_challenge(challenge, page))  # the question's settings, nothing else
        sidebar = challenge.outcome({label: train(config.replace(lr=0.3, steps=7, start=(9.0,), impl="numpy"))
                                     for label, config in challenge.configs(page).items()})
        if challenge.is_number:
            at.number_input(key=f"{page}:predict_{challenge.key}").set_value(float(outcome.answer))
        else:
            at.radio(key=f"{page}:predict_{challenge.key}").set_value(outcome.answer)
        act(at)
        at.button(key=f"{page}:predict_{challenge.key}_reveal").click()
        act(at)
        assert outcome.said in texts(at) and sidebar.said not in texts(at), challenge.key
    assert "3 of 3 right" in texts(at)
    state = at.session_state[f"state:{page}"]
    assert state.values["lr"] == 0.3 and state.start == (9.0,), "a reveal leaves the page's own settings alone"
