"""Guided lessons: every preset runs through fitcore and does what its text says.

The promised status is checked for every lesson on every demo; the numbers a lesson quotes (where
the run stops, what a parameter reaches) are checked against the run too, so an edit to the
engine or the data that changes a story fails here instead of misleading a room.
"""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from fitcore import PROBLEMS, RunConfig, train
from fitcore.lessons import LESSONS, PROMISES, Lesson, lessons_for

from conftest import require

EVERY_LESSON = [(problem_id, lesson) for problem_id, lessons in LESSONS.items() for lesson in lessons]
CONFIG_FIELDS = {f.name for f in dataclasses.fields(RunConfig)}


def sentences(text: str) -> int:
    """Sentence ends: a full stop, ! or ? followed by a space or the end (not the point in 0.01)."""
    return len(re.findall(r"[.!?](?:\s|$)", text))


@pytest.mark.parametrize("problem_id, lesson", EVERY_LESSON, ids=[f"{p}:{l.key}" for p, l in EVERY_LESSON])
def test_that_every_lesson_ends_as_it_promises(problem_id: str, lesson: Lesson) -> None:
    config = lesson.config(problem_id)
    require(config.impl)
    run = train(config)
    assert run.status == lesson.promise, run.message
    assert run.step == (config.steps if lesson.promise == "completed" else run.diverged_at - 1)


def test_that_every_demo_has_three_to_five_lessons_with_a_diverging_one() -> None:
    assert set(LESSONS) == set(PROBLEMS)
    for problem_id in PROBLEMS:
        lessons = lessons_for(problem_id)
        assert 3 <= len(lessons) <= 5
        assert len({l.key for l in lessons}) == len(lessons) and len({l.title for l in lessons}) == len(lessons)
        assert {l.promise for l in lessons} == set(PROMISES)


@pytest.mark.parametrize("problem_id, lesson", EVERY_LESSON, ids=[f"{p}:{l.key}" for p, l in EVERY_LESSON])
def test_that_every_lesson_says_what_to_look_at_in_two_sentences_and_asks_a_question(problem_id: str,
                                                                                       lesson: Lesson) -> None:
    assert sentences(lesson.look) == 2, lesson.look
    assert lesson.question.endswith("?") and lesson.answer
    assert set(lesson.settings) <= CONFIG_FIELDS
    # a presenter never types a number: the lesson fixes the rate and the budget itself
    assert {"lr", "steps"} <= set(lesson.settings) or lesson.variant is not None


def test_that_a_lesson_with_an_unknown_promise_is_refused() -> None:
    with pytest.raises(ValueError, match="promises"):
        Lesson("x", "x", "One. Two.", "Why?", "Because.", "converged")
    with pytest.raises(KeyError, match="no lessons"):
        lessons_for("no-such-demo")


def final(problem_id: str, key: str):
    lesson = next(l for l in lessons_for(problem_id) if l.key == key)
    config = lesson.config(problem_id)
    require(config.impl)
    return train(config)


# (demo, lesson, what the run must show) for the numbers the lessons quote
QUOTED = [
    ("quadratic-bias", "too-small", lambda r: round(r.current_params[0], 2) == 4.32),
    ("quadratic-bias", "one-step", lambda r: r.history.params[1][0] == 5.0 and r.current_params[0] == 5.0),
    ("quadratic-bias", "oscillating", lambda r: np.allclose([p[0] for p in r.history.params[1:4]], [9, 1.8, 7.56],
                                                          atol=1e-5)),
    ("quadratic-bias", "diverging", lambda r: r.diverged_at == 51),
    ("quadratic-bias", "float32-stall", lambda r: f"{r.current_params[0]:.8f}" == "4.99998856"
     and f"{r.current_loss:.1e}" == "1.3e-10"),
    ("linear-2x", "sum", lambda r: np.allclose([p[0] for p in r.history.params[1:4]], [1.2, 1.68, 1.872])
     and "Epoch 1: w = 1.200" in r.log_text()),
    ("linear-2x", "mean", lambda r: np.isclose(r.history.params[1][0], 0.3) and "Epoch 1: w = 0.300" in r.log_text()),
    ("linear-2x", "too-small", lambda r: round(r.current_params[0], 2) == 1.56
     and round(5 * r.current_params[0], 2) == 7.79),
    ("linear-2x", "oscillating", lambda r: np.allclose([p[0] for p in r.history.params[1:4]], [3.6, 0.72, 3.024],
                                                       atol=1e-5)),
    ("linear-2x", "diverging", lambda r: r.diverged_at == 28
     and np.allclose([p[0] for p in r.history.params[1:4]], [4.8, -1.92, 7.488], atol=1e-5)),
    ("quadratic-recovery", "slowest-direction", lambda r: round(r.current_loss, 2) == 9.10
     and round(r.problem.derived(r.current_params)["ê"], 2) == 9.14),
    ("quadratic-recovery", "momentum", lambda r: round(r.current_loss, 4) == 9.0995),
    ("quadratic-recovery", "edge", lambda r: round(r.current_loss, 6) == 5.921045),
    ("quadratic-recovery", "diverging", lambda r: r.diverged_at == 40 and round(r.initial_loss) == 36827),
    ("quadratic-recovery", "adam", lambda r: round(r.current_loss, 2) == 5.92
     and 3000 < r.history.steps[int(np.argmax(np.array(r.history.losses) < 5.93))] < 3500),
    ("sine-cubic", "notebook", lambda r: round(r.current_loss, 2) == 9.47 and r.config.seed is None
     and 1550 < r.history.losses[r.history.steps.index(100)] < 1650),
    ("sine-cubic", "mean", lambda r: round(r.current_loss) == 259 and round(r.initial_loss) == 743),
    ("sine-cubic", "diverging", lambda r: r.diverged_at == 42),
    ("sine-cubic", "momentum", lambda r: f"{r.current_loss:.6f}" == "8.817165"),
    ("sine-cubic", "rmsprop", lambda r: min(r.history.losses) < 8.83 and 8.85 < r.current_loss < 9.0),
]


@pytest.mark.parametrize("problem_id, key, holds", QUOTED, ids=[f"{p}:{k}" for p, k, _ in QUOTED])
def test_that_the_numbers_a_lesson_quotes_are_what_its_run_does(problem_id: str, key: str, holds) -> None:
    assert holds(final(problem_id, key))


def test_that_the_mean_loss_retraces_the_summed_run_at_n_times_the_rate() -> None:
    """The sine lesson's answer: lr × 2000 with the mean gives the summed run's coefficients."""
    summed = train(RunConfig.notebook("sine-cubic", steps=300))
    mean = train(RunConfig.notebook("sine-cubic", steps=300, reduction="mean", lr=2000 * 1e-6))
    np.testing.assert_allclose(mean.current_params, summed.current_params, rtol=1e-9)
