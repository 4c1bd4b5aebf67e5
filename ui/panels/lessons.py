"""The Lessons tab: presets from ``fitcore.lessons`` that a presenter loads with one click.

Loading a lesson sets every setting through the sidebar (so the sidebar shows what the lesson
chose), forgets the current run and, with "Load and run", starts the lesson's run at once. The
demos and "Your own data" draw the same card; a page whose lessons bring their own data passes
its own ``load`` (which sets its data panel first).
"""
from __future__ import annotations

from typing import Callable, Sequence

import streamlit as st

from fitcore import Problem, RunConfig, is_available, missing_message
from fitcore.run_labels import setting_phrases
from fitcore.lessons import Lesson, lesson_config, lessons_for

from ui.page import sidebar
from ui.panels.challenges import prediction_hint
from ui.page.controls import reset, start_run
from ui.page.settings import values_from_config
from ui.page.context import PageContext
from ui.page.state import DemoState, widget_key

SUMMARY_KEYS = ("impl", "optimizer", "lr", "steps", "reduction", "dtype")
PROMISE_WORDS = {"completed": "runs all its steps", "diverged": "diverges"}
# (problem, state, lesson, run it too?): a button callback that sets everything the lesson sets
LoadLesson = Callable[[Problem, DemoState, Lesson, bool], None]


def load_lesson(problem: Problem, state: DemoState, lesson: Lesson, run: bool) -> None:
    """Button callback: every setting from the lesson, a fresh start, and the run if asked."""
    config = lesson_config(lesson, problem.id)
    sidebar.set_values(problem, state, values_from_config(config))
    reset(state)
    if run:
        start_run(state, config)


def lesson_summary(config: RunConfig, promise: str) -> str:
    """The card's one line of settings. A lesson that brings its own data names them in place of its loss and
    dtype (the same in every such lesson), so the line stays one line."""
    phrases = setting_phrases(config)
    if config.custom is None:
        parts = [phrases[k] for k in SUMMARY_KEYS]
    else:
        parts = [config.custom.describe(), *(phrases[k] for k in SUMMARY_KEYS if k not in ("reduction", "dtype"))]
    return " · ".join(parts) + f" · {PROMISE_WORDS[promise]}"


def _outcome_note(context: PageContext, lesson: Lesson, config: RunConfig) -> None:
    """Once the lesson's own run has finished, whether it ended as the lesson said."""
    run = context.run
    if run is None or not run.finished or run.config != config:
        return
    if run.status == lesson.promise:
        st.success(f"This run {PROMISE_WORDS[lesson.promise]}, as the lesson says: {run.message}",
                   icon=":material/check_circle:")
    else:
        st.warning(f"This run ended {run.status}, not {lesson.promise} as the lesson expects: {run.message}",
                   icon=":material/info:")


def lesson_card(context: PageContext, number: int, lesson: Lesson, load: LoadLesson = load_lesson) -> None:
    """One lesson: its settings, Load and Load-and-run, what to look at, the question, the answer, the outcome."""
    problem, state = context.problem, context.state
    config = lesson_config(lesson, problem.id)
    runnable = is_available(config.impl)
    sets = "the data source and every setting" if config.custom is not None else "every setting"
    with st.container(border=True):
        head, load_column, start = st.columns([4, 1, 1.3], vertical_alignment="center")
        badge = " :blue-badge[:material/check: loaded]" if context.config == config else ""
        head.markdown(f"**{number}. {lesson.title}**{badge}")
        head.caption(lesson_summary(config, lesson.promise))
        load_column.button("Load", icon=":material/input:", key=widget_key(problem.id, f"lesson_{lesson.key}_load"),
                           on_click=load, args=(problem, state, lesson, False), width="stretch",
                           help=f"Set {sets} to this lesson's, ready to run.")
        start.button("Load and run", icon=":material/play_arrow:", type="primary", width="stretch",
                     key=widget_key(problem.id, f"lesson_{lesson.key}_run"), disabled=not runnable,
                     on_click=load, args=(problem, state, lesson, True),
                     help=f"Set {sets} to this lesson's and start training."
                     if runnable else missing_message(config.impl))
        prediction_hint(problem.id, lesson.key)
        st.markdown(lesson.look)
        st.markdown(f":material/psychology_alt: **Think about it:** {lesson.question}")
        with st.expander("Answer (for the presenter)"):
            st.markdown(lesson.answer)
        _outcome_note(context, lesson, config)


def lesson_cards(context: PageContext, lessons: Sequence[Lesson], caption: str,
                 load: LoadLesson = load_lesson) -> None:
    """A caption, then one card per lesson, numbered in the order a presenter walks through them."""
    st.caption(caption)
    for number, lesson in enumerate(lessons, start=1):
        lesson_card(context, number, lesson, load)


def lessons_panel(context: PageContext) -> None:
    """A demo's Lessons tab."""
    lessons = lessons_for(context.problem.id)
    lesson_cards(context, lessons, f"{len(lessons)} presets to walk a room through. Each sets every setting in the "
                 "sidebar; **Load** shows its starting point, **Load and run** trains it straight away (each "
                 "finishes in about a second). Change anything afterwards to explore from there.")
