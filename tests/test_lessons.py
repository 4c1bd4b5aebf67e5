"""Guided lessons: every preset runs through fitcore and does what its text says.

The promised status is checked for every lesson on every demo; the numbers a lesson quotes (where
the run stops, what a parameter reaches) are checked against the run too, so an edit to the
engine or the data that changes a story fails here instead of misleading a room.
"""
from __future__ import annotations

import dataclasses
import math
import re
from typing import Any, Callable

import numpy as np
import pytest

import fitcore
from fitcore import CUSTOM_ID, PROBLEMS, Run, RunConfig, train
from fitcore.custom_lessons import CUSTOM_LESSONS
from fitcore.stopping import DIVERGENCE_FACTOR
from fitcore.lessons import PROMISES, Lesson, lesson_config, lessons_for

from conftest import nudged, require, trained

EVERY_LESSON = [(problem.id, lesson) for problem in PROBLEMS.values() for lesson in problem.lessons]
CONFIG_FIELDS = {f.name for f in dataclasses.fields(RunConfig)}


def sentences(text: str) -> int:
    """Sentence ends: a full stop, ! or ? followed by a space or the end (not the point in 0.01)."""
    return len(re.findall(r"[.!?](?:\s|$)", text))


@pytest.mark.parametrize("problem_id, lesson", EVERY_LESSON, ids=[f"{p}:{l.key}" for p, l in EVERY_LESSON])
def test_that_every_lesson_ends_as_it_promises(problem_id: str, lesson: Lesson) -> None:
    config = lesson_config(lesson, problem_id)
    require(config.impl)
    run = trained(config)
    assert run.status == lesson.promise, run.message
    assert run.step == (config.steps if lesson.promise == "completed" else run.diverged_at - 1)


def test_that_every_demo_has_three_to_five_lessons_with_a_diverging_one() -> None:
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
    with pytest.raises(KeyError, match="unknown demo"):
        lessons_for("no-such-demo")


# --- the numbers a lesson quotes, on every implementation and from a nudged start --------------------------
#
# Each check holds a lesson's run to what its text says. Where a number follows from the settings by hand
# (the gap to 5 after 2,000 steps of the factor 1 − 2·lr; the step where 1.44ᵗ passes 10⁸) the check
# derives it the same way from the lesson's own lr and steps; the rest are read off the run.

def _derived_divergence_step(loss_factor: float) -> int:
    """The first step whose loss passes DIVERGENCE_FACTOR times the start's, the loss growing loss_factor a step."""
    return math.ceil(math.log(DIVERGENCE_FACTOR) / math.log(loss_factor))


def _first_params(run: Run, count: int) -> list[float]:
    return [float(p[0]) for p in run.history.params[1:count + 1]]


def _loss_at(run: Run, step: int) -> float:
    """The recorded loss at ``step`` (the recorded point nearest it, for runs longer than the history keeps)."""
    steps = np.array(run.history.steps)
    return run.history.losses[int(np.argmin(np.abs(steps - step)))]


def _bias_too_small(run: Run) -> None:
    lr, steps = run.config.lr, run.config.steps
    assert round(run.current_params[0], 2) == round(5 - 5 * (1 - 2 * lr) ** steps, 2) == 4.32


def _bias_one_step(run: Run) -> None:
    assert np.allclose([p[0] for p in run.history.params[1:]], 5.0, rtol=0, atol=1e-5)


def _bias_oscillating(run: Run) -> None:
    factor = 1 - 2 * run.config.lr                                   # −0.8
    assert np.allclose(_first_params(run, 3), [5 - 5 * factor**t for t in (1, 2, 3)], atol=1e-5)
    assert np.allclose(_first_params(run, 3), [9, 1.8, 7.56], atol=1e-5)
    losses = np.array(run.history.losses[:6])
    assert np.allclose(losses[1:] / losses[:-1], factor**2, rtol=1e-4) and round(factor**2, 2) == 0.64


def _bias_diverging(run: Run) -> None:
    factor = 1 - 2 * run.config.lr                                   # −1.2, so the loss grows 1.44 times a step
    assert run.diverged_at == _derived_divergence_step(factor**2) == 51


def _float32_stall(run: Run) -> None:
    # bias − 0.02·2·gap rounds back to the bias once the update is under half float32's spacing near 5
    lr = run.config.lr
    stall_gap = float(np.spacing(np.float32(5))) / 2 / (2 * lr)        # 1.19e-5
    gap = 5 - run.current_params[0]
    spacing = float(np.spacing(np.float32(5)))
    assert stall_gap - 2 * spacing < gap <= stall_gap + spacing and round(stall_gap, 6) == 1.2e-5
    assert 1e-10 < run.current_loss < 1.1 * stall_gap**2
    assert np.array_equal(run.history.params[-1], _params_at(run, run.config.steps - 500)), "extra steps moved it"


def _params_at(run: Run, step: int) -> np.ndarray:
    steps = np.array(run.history.steps)
    return run.history.params[int(np.argmin(np.abs(steps - step)))]


def _sum_first_steps(run: Run) -> None:
    factor = 1 - run.config.lr * 60                                  # summed loss: λ = 2·Σx² = 60
    assert np.allclose(_first_params(run, 3), [2 - 2 * factor**t for t in (1, 2, 3)]) \
        and np.allclose(_first_params(run, 3), [1.2, 1.68, 1.872])
    assert "Epoch 1: w = 1.200" in run.log_text()


def _mean_first_step(run: Run) -> None:
    factor = 1 - run.config.lr * 15                                  # mean loss: λ = 2·Σx²/4 = 15
    assert np.isclose(run.history.params[1][0], 2 - 2 * factor) and np.isclose(run.history.params[1][0], 0.3)
    assert "Epoch 1: w = 0.300" in run.log_text() and round(factor, 2) == 0.85


def _linear_too_small(run: Run) -> None:
    w = 2 - 2 * (1 - run.config.lr * 15) ** run.config.steps
    assert round(run.current_params[0], 2) == round(w, 2) == 1.56
    assert round(5 * run.current_params[0], 2) == round(5 * w, 2) == 7.79


def _linear_oscillating(run: Run) -> None:
    factor = 1 - run.config.lr * 60                                  # −0.8
    assert np.allclose(_first_params(run, 3), [2 - 2 * factor**t for t in (1, 2, 3)], atol=1e-5)
    assert np.allclose(_first_params(run, 3), [3.6, 0.72, 3.024], atol=1e-5)


def _linear_diverging(run: Run) -> None:
    factor = 1 - run.config.lr * 60                                  # −1.4
    assert run.diverged_at == _derived_divergence_step(factor**2) == 28
    assert np.allclose(_first_params(run, 3), [2 - 2 * factor**t for t in (1, 2, 3)], atol=1e-5)
    assert np.allclose(_first_params(run, 3), [4.8, -1.92, 7.488], atol=1e-5)


def _recovery_slowest(run: Run) -> None:
    lam = np.linalg.eigvalsh(run.quad.hessian)
    assert round((1 - run.config.lr * lam[0]) ** run.config.steps, 3) == 0.075
    assert round(run.current_loss, 2) == 9.10 and round(run.problem.derived(run.current_params)["ê"], 2) == 9.14


CHECKS: dict[tuple[str, str], Callable[[Run], None]] = {
    ("quadratic-bias", "too-small"): _bias_too_small,
    ("quadratic-bias", "one-step"): _bias_one_step,
    ("quadratic-bias", "oscillating"): _bias_oscillating,
    ("quadratic-bias", "diverging"): _bias_diverging,
    ("quadratic-bias", "float32-stall"): _float32_stall,
    ("linear-2x", "sum"): _sum_first_steps,
    ("linear-2x", "mean"): _mean_first_step,
    ("linear-2x", "too-small"): _linear_too_small,
    ("linear-2x", "oscillating"): _linear_oscillating,
    ("linear-2x", "diverging"): _linear_diverging,
    ("quadratic-recovery", "slowest-direction"): _recovery_slowest,
    ("quadratic-recovery", "momentum"): lambda r: round(r.current_loss, 4) == 9.0995 or _fail(r),
    ("quadratic-recovery", "edge"): lambda r: round(r.current_loss, 6) == 5.921045 or _fail(r),
    ("quadratic-recovery", "diverging"): lambda r: (r.diverged_at == 40 and round(r.initial_loss) == 36827) or _fail(r),
    ("quadratic-recovery", "adam"): lambda r: (round(r.current_loss, 2) == 5.92 and 3000 < r.history.steps[
        int(np.argmax(np.array(r.history.losses) < 5.93))] < 3500) or _fail(r),
    ("sine-cubic", "notebook"): lambda r: (round(r.current_loss, 2) == 9.47 and r.config.seed is None
                                           and 1550 < _loss_at(r, 100) < 1650) or _fail(r),
    ("sine-cubic", "mean"): lambda r: (round(r.current_loss) == 259 and round(r.initial_loss) == 743) or _fail(r),
    ("sine-cubic", "diverging"): lambda r: r.diverged_at == 42 or _fail(r),
    ("sine-cubic", "momentum"): lambda r: f"{r.current_loss:.6f}" == "8.817165" or _fail(r),
    ("sine-cubic", "rmsprop"): lambda r: (min(r.history.losses) < 8.83 and 8.85 < r.current_loss < 9.0) or _fail(r),
    (CUSTOM_ID, "raw-crawls"): lambda r: (round(r.initial_loss) == 145 and round(r.current_loss, 2) == 1.08
                                          and r.current_loss > 100 * r.quad.optimum_loss) or _fail(r),
    (CUSTOM_ID, "raw-diverges"): lambda r: r.diverged_at == 15 and r.step == 14 or _fail(r),
    (CUSTOM_ID, "standardised"): lambda r: r.current_loss == pytest.approx(r.quad.optimum_loss, rel=0.01)
    and round(r.quad.optimum_loss, 4) == 0.0094 or _fail(r),
    (CUSTOM_ID, "adam-raw"): lambda r: _adam_raw(r),
}


def _fail(run: Run) -> None:
    raise AssertionError(f"ended at step {run.step:,} with loss {run.current_loss!r} (diverged at {run.diverged_at}), "
                         f"θ = {run.current_params.tolist()}")


def _adam_raw(run: Run) -> None:
    sgd = trained(lesson_config(next(l for l in CUSTOM_LESSONS if l.key == "raw-crawls"), CUSTOM_ID).replace(impl="analytic"))
    before = _loss_at(run, 1500)
    assert round(run.initial_loss) == 145 and round(before, 2) == 0.18 and round(sgd.current_loss / before) == 6
    steps, losses = np.array(run.history.steps), np.array(run.history.losses)
    spike = losses[(steps >= 1550) & (steps <= 1700)]
    assert spike.max() > 10 * _loss_at(run, 1550), "no jump near step 1,600"
    assert _loss_at(run, 1800) < 2 * _loss_at(run, 1550), "the loss did not fall back"


NUDGES = {"start": 0.0, "start+1ulp": np.inf, "start-1ulp": -np.inf}
# Eager steps an implementation runs in this test at most: the 1,000,000-step SGD lessons are linear
# recurrences in float64, checked on NumPy (Gram path) and the exact engine; eager TensorFlow takes 1.6 ms
# a step, so its budget keeps this test to minutes.
EAGER_STEP_BUDGET = {"numpy": 200_000, "torch-manual": 20_000, "torch-autograd": 20_000, "torch-nn": 20_000,
                     "tf-tape": 5_000, "analytic": fitcore.MAX_STEPS}
ADAPTIVE = ("adam", "rmsprop")


def nudged_run(config: RunConfig, towards: float) -> Run:
    """The finished run of ``config`` from the start moved one unit in the last place towards ``towards`` (0: as it
    is), shared with every other test that trains the same settings (a challenge poses a lesson's runs)."""
    return trained(nudged(config, towards))


def _supporting(problem_id: str, lesson: Lesson) -> list[tuple[str, RunConfig]]:
    """(implementation, settings) for every implementation that runs the lesson's settings, or those it names."""
    config = lesson_config(lesson, problem_id)
    chosen = []
    for impl in lesson.holds_on or tuple(fitcore.IMPLEMENTATIONS):
        try:
            settings = config.replace(impl=impl)
        except fitcore.ConfigError:        # the exact engine runs SGD and momentum only
            continue
        if settings.steps > EAGER_STEP_BUDGET[impl]:
            if impl != "numpy":
                continue
            settings = settings.replace(compiled=True)  # the Gram path: the same iterates, in blocks of steps
        chosen.append((impl, settings))
    return chosen


def _cases() -> list[Any]:
    cases = []
    every = [(p, l) for p, l in EVERY_LESSON] + [(CUSTOM_ID, l) for l in CUSTOM_LESSONS]
    for problem_id, lesson in every:
        for impl, settings in _supporting(problem_id, lesson):
            # SGD and momentum are linear recurrences: a nudge moves their iterates by ulps, so the nudged
            # starts run on the fast implementations; Adam and RMSprop amplify it, so they run everywhere.
            nudges = NUDGES if impl in ("numpy", "analytic") or settings.optimizer in ADAPTIVE else {"start": 0.0}
            for name, towards in nudges.items():
                marks = [pytest.mark.slow] if impl not in ("numpy", "analytic") else []
                cases.append(pytest.param(problem_id, lesson, settings, towards,
                                          id=f"{problem_id}:{lesson.key}:{impl}:{name}", marks=marks))
    return cases


def test_that_every_lesson_has_a_check_of_the_numbers_it_quotes() -> None:
    assert set(CHECKS) == {(p, l.key) for p, l in EVERY_LESSON} | {(CUSTOM_ID, l.key) for l in CUSTOM_LESSONS}


@pytest.mark.parametrize("problem_id, lesson, settings, towards", _cases())
def test_that_the_numbers_a_lesson_quotes_hold_on_every_implementation_and_from_a_nudged_start(
        problem_id: str, lesson: Lesson, settings: RunConfig, towards: float) -> None:
    require(settings.impl)
    run = nudged_run(settings, towards)
    assert run.status == lesson.promise, run.message
    if towards:
        assert not np.array_equal(run.data.init, Run(settings).data.init), "the start was not nudged"
    CHECKS[(problem_id, lesson.key)](run)


def test_that_the_mean_loss_retraces_the_summed_run_at_n_times_the_rate() -> None:
    """The sine lesson's answer: lr × 2000 with the mean gives the summed run's coefficients."""
    summed = train(RunConfig.notebook("sine-cubic", steps=300))
    mean = train(RunConfig.notebook("sine-cubic", steps=300, reduction="mean", lr=2000 * 1e-6))
    np.testing.assert_allclose(mean.current_params, summed.current_params, rtol=1e-9)
