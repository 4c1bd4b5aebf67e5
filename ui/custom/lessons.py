"""The Lessons tab of "Your own data": the shared lesson card over ``fitcore.custom_lessons``, whose lessons
bring their own data source (loading one fills the data panel as well as the sidebar)."""
from __future__ import annotations

from fitcore import Problem
from fitcore.custom import CUSTOM_ID, custom_problem
from fitcore.custom_lessons import custom_lessons
from fitcore.lessons import Lesson, lesson_config

from ui.custom.panel_state import set_panel
from ui.custom.settings import preset_of, source_values
from ui.page.context import PageContext
from ui.page.state import DemoState
from ui.panels.lessons import lesson_cards, load_lesson


def load_custom_lesson(problem: Problem, state: DemoState, lesson: Lesson, run: bool) -> None:
    """Button callback: the lesson's data source into the panel, then every setting over the problem it makes."""
    source = lesson_config(lesson, CUSTOM_ID).custom
    set_panel(state, source_values(source) | {"preset": preset_of(source.expression)})
    load_lesson(custom_problem(source), state, lesson, run)


def custom_lessons_panel(context: PageContext) -> None:
    lessons = custom_lessons()
    lesson_cards(context, lessons, f"{len(lessons)} presets on why raw powers of x make gradient descent crawl. Each "
                 "replaces the data source above and every setting; pin a run on the Compare tab before loading the "
                 "next to see both loss curves together.", load=load_custom_lesson)
