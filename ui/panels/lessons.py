"""The Lessons tab: presets from ``fitcore.lessons`` that a presenter loads with one click.

Loading a lesson sets every setting through the sidebar (so the sidebar shows what the lesson
chose), forgets the current run and, with "Load and run", starts the lesson's run at once.
"""
from __future__ import annotations

import streamlit as st

from fitcore import Problem, is_available, missing_message
from fitcore.compare import setting_phrases
from fitcore.lessons import Lesson, lessons_for

from ui.page import sidebar
from ui.page.controls import reset, start_run
from ui.page.settings import values_from_config
from ui.page.context import PageContext
from ui.page.state import DemoState, widget_key

SUMMARY_KEYS = ("impl", "optimizer", "lr", "steps", "reduction", "dtype")
PROMISE_WORDS = {"completed": "runs all its steps", "diverged": "diverges"}


def load_lesson(problem: Problem, state: DemoState, lesson: Lesson, run: bool) -> None:
    """Button callback: every setting from the lesson, a fresh start, and the run if asked."""
    config = lesson.config(problem.id)
    sidebar.set_values(problem, state, values_from_config(config))
    reset(state)
    if run:
        start_run(state, config)


def _outcome_note(context: PageContext, lesson: Lesson) -> None:
    """Once the lesson's own run has finished, whether it ended as the lesson said."""
    run = context.run
    if run is None or not run.finished or run.config != lesson.config(context.problem.id):
        return
    if run.status == lesson.promise:
        st.success(f"This run {PROMISE_WORDS[lesson.promise]}, as the lesson says: {run.message}",
                   icon=":material/check_circle:")
    else:
        st.warning(f"This run ended {run.status}, not {lesson.promise} as the lesson expects: {run.message}",
                   icon=":material/info:")


def lesson_card(context: PageContext, number: int, lesson: Lesson) -> None:
    problem, state = context.problem, context.state
    config = lesson.config(problem.id)
    phrases = setting_phrases(config)
    loaded = context.config == config
    runnable = is_available(config.impl)
    with st.container(border=True):
        head, load, start = st.columns([4, 1, 1.3], vertical_alignment="center")
        badge = " :blue-badge[:material/check: loaded]" if loaded else ""
        head.markdown(f"**{number}. {lesson.title}**{badge}")
        head.caption(" · ".join(phrases[k] for k in SUMMARY_KEYS) + f" · {PROMISE_WORDS[lesson.promise]}")
        load.button("Load", icon=":material/input:", key=widget_key(problem.id, f"lesson_{lesson.key}_load"),
                    on_click=load_lesson, args=(problem, state, lesson, False), width="stretch",
                    help="Set every setting to this lesson's, ready to run.")
        start.button("Load and run", icon=":material/play_arrow:", type="primary", width="stretch",
                     key=widget_key(problem.id, f"lesson_{lesson.key}_run"), disabled=not runnable,
                     on_click=load_lesson, args=(problem, state, lesson, True),
                     help="Set every setting to this lesson's and start training."
                     if runnable else missing_message(config.impl))
        st.markdown(lesson.look)
        st.markdown(f":material/psychology_alt: **Think about it:** {lesson.question}")
        with st.expander("Answer (for the presenter)"):
            st.markdown(lesson.answer)
        _outcome_note(context, lesson)


def lessons_panel(context: PageContext) -> None:
    lessons = lessons_for(context.problem.id)
    st.caption(f"{len(lessons)} presets to walk a room through. Each sets every setting in the sidebar; **Load** shows "
               "its starting point, **Load and run** trains it straight away (each finishes in about a second). "
               "Change anything afterwards to explore from there.")
    for number, lesson in enumerate(lessons, start=1):
        lesson_card(context, number, lesson)
