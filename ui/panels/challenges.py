"""The Predict tab: a question before a run, the learner's answer, the run, and the outcome beside it.

fitcore.challenge_sets poses the questions and fitcore judges each from its own run; this panel only
takes the answer, asks fitcore to run and judge, and keeps the session's answers in session_state
(downloadable; nothing is stored on the server).
"""
from __future__ import annotations

import streamlit as st

from fitcore.challenge_sets import challenges_for, has_challenges
from fitcore.challenges import Answer, Challenge, answer, answers_csv, run_challenge, score_line

from ui.page.context import PageContext
from ui.page.state import open_run, widget_key

ANSWERS = "challenge_answers"   # every answer of the session, oldest first, across pages


def _answers() -> list[Answer]:
    return st.session_state.setdefault(ANSWERS, [])


def _reveal(page_title: str, problem_id: str, challenge: Challenge, prediction_key: str) -> None:
    """Button callback: run, judge from the run, keep the learner's answer."""
    prediction = st.session_state.get(prediction_key)
    if prediction is None:
        return
    outcome = challenge.outcome(run_challenge(challenge, problem_id, open_run=open_run))
    _answers().append(answer(page_title, challenge, prediction, outcome))


def _latest(page_title: str, challenge: Challenge) -> Answer | None:
    return next((a for a in reversed(_answers()) if a.page == page_title and a.challenge == challenge.key), None)


def challenge_card(context: PageContext, number: int, challenge: Challenge) -> None:
    problem = context.problem
    key = widget_key(problem.id, f"predict_{challenge.key}")
    with st.container(border=True):
        st.markdown(f"**{number}.** {challenge.question}")
        if challenge.is_number:
            st.number_input("Your prediction", value=None, key=key, format="%g",
                            placeholder=f"a number (within {challenge.tolerance:g} counts)"
                            if challenge.tolerance else "a whole number")
        else:
            st.radio("Your prediction", challenge.choices, index=None, key=key, horizontal=True)
        st.button("Run and reveal", icon=":material/play_arrow:", key=f"{key}_reveal",
                  disabled=st.session_state.get(key) is None, on_click=_reveal,
                  args=(problem.title, problem.id, challenge, key),
                  help="Runs this question's settings here (about a second) and judges your prediction "
                       "from the run itself." if st.session_state.get(key) is not None
                  else "Predict first: pick or type your answer.")
        latest = _latest(problem.title, challenge)
        if latest is None:
            return
        yours, ran = st.columns(2)
        yours.markdown(f"**Your prediction**  \n{latest.prediction}")
        ran.markdown(f"**What the run did**  \n{latest.outcome}")
        if latest.right:
            st.success("Right.", icon=":material/check_circle:")
        else:
            st.warning("Not this time.", icon=":material/cancel:")
        st.markdown(f":material/lightbulb: **Why:** {challenge.why}")


def prediction_hint(problem_id: str, lesson_key: str) -> None:
    """One line on a lesson's card: the Predict tab's question about this lesson's run, if there is one."""
    if not has_challenges(problem_id):
        return
    numbered = [(n, c) for n, c in enumerate(challenges_for(problem_id), start=1) if c.lesson == lesson_key]
    if numbered:
        number, challenge = numbered[0]
        st.caption(f":material/quiz: Predict first (question {number} on the Predict tab): {challenge.question}")


def challenges_panel(context: PageContext) -> None:
    challenges = challenges_for(context.problem.id)
    st.caption("Predict first, then run: answer each question before its run, then **Run and reveal** trains its "
               "settings and puts the outcome beside your prediction. The page's own settings stay as they are.")
    for number, challenge in enumerate(challenges, start=1):
        challenge_card(context, number, challenge)
    answers = _answers()
    if answers:
        summary, download = st.columns([2, 1], vertical_alignment="center")
        summary.markdown(f"**This session: {score_line(answers)}** (every page, your latest answer to each question)")
        download.download_button("Download my answers", answers_csv(answers), file_name="my-predictions.csv",
                                 mime="text/csv", icon=":material/download:", on_click="ignore",
                                 key=widget_key(context.problem.id, "predict_download"), width="stretch")
