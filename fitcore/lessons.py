"""Guided lessons: presets a presenter loads with one click, each with what to look at and a question.

Each demo's lessons are part of its definition (``Problem.lessons``, written in ``fitcore.demos``; the
type is ``fitcore.demo.Lesson``). A lesson's settings override its notebook's (``RunConfig.notebook``), so
loading one sets every setting; each runs on NumPy or the closed form (one on PyTorch, for float32's own
arithmetic) and finishes in about a second. ``promise`` is how the run ends. Every number a lesson
quotes holds on every implementation that runs its settings (or on those ``holds_on`` names) and from a
start nudged by one unit in the last place: the tests run each lesson so, and quote nothing that
depends on last-bit rounding (where a run is chaotic, the lesson says so and quotes what survives).
"""
from __future__ import annotations

from .config import RunConfig
from .demo import PROMISES, Lesson  # noqa: F401 (the lesson's type, re-exported)
from .problems import get_problem


def lessons_for(problem_id: str) -> tuple[Lesson, ...]:
    """The lessons of one demo, in the order a presenter walks through them."""
    return get_problem(problem_id).lessons


def lesson_config(lesson: Lesson, problem_id: str) -> RunConfig:
    """Every setting of ``lesson``'s run on ``problem_id``'s page (a "custom" lesson's settings carry its data)."""
    return RunConfig.notebook(problem_id, lesson.variant, **lesson.settings)
