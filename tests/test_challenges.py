"""Predict, then run: every challenge's answer is read off its runs, on every implementation and from
nudged starts, and it is the answer its question and its why expect.

The table below is what a challenge's text commits to; the app never stores it, it judges each run.
"""
from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pytest

import fitcore
from fitcore import CUSTOM_ID, PROBLEMS, RunConfig
from fitcore.config import dataset_of
from fitcore.challenge_sets import CHALLENGES, challenges_for
from fitcore.challenges import (BEHAVIOURS, Answer, Challenge, Outcome, Setup, answer, answers_csv, run_challenge,
                                score_line)
from fitcore.custom_lessons import CUSTOM_LESSONS
from fitcore.lessons import lessons_for

from conftest import nudged, require, trained

EXPECTED: dict[tuple[str, str], str | float] = {
    ("quadratic-bias", "bias-1.1"): BEHAVIOURS[2],
    ("quadratic-bias", "bias-0.9"): BEHAVIOURS[1],
    ("quadratic-bias", "bias-0.0005"): 4.32,
    ("quadratic-bias", "bias-0.5"): 1,
    ("linear-2x", "first-step"): "NumPy's",
    ("linear-2x", "sum-0.04"): BEHAVIOURS[2],
    ("linear-2x", "sum-0.03"): BEHAVIOURS[1],
    ("linear-2x", "f5-0.001"): 7.79,
    ("quadratic-recovery", "arrives-last"): "c",
    ("quadratic-recovery", "blows-up-first"): "a",
    ("quadratic-recovery", "momentum-or-more-steps"): "momentum, 100,000 steps",
    ("quadratic-recovery", "edge"): "converges",
    ("sine-cubic", "notebook-2000"): "about 9.5",
    ("sine-cubic", "diverges-at"): 41,     # ln(10⁸)/ln(1.25²), as the why derives it
    ("sine-cubic", "mean-same-rate"): "between 10 and 500",
    ("sine-cubic", "momentum-or-sgd"): "momentum",
    (CUSTOM_ID, "raw-diverges-at"): 14.4,  # ln(10⁸)/ln(3.6)
    (CUSTOM_ID, "raw-crawls"): "about 1",
    (CUSTOM_ID, "standardised"): "yes",
}
EVERY_CHALLENGE = [(page, c) for page, challenges in CHALLENGES.items() for c in challenges]

# Eager steps one case may take per implementation (as in test_lessons): the million-step SGD runs are
# linear recurrences, checked on NumPy's Gram path and the exact engine; eager TensorFlow is sampled.
EAGER_STEP_BUDGET = {"numpy": 200_000, "torch-manual": 20_000, "torch-autograd": 20_000, "torch-nn": 20_000,
                     "tf-tape": 2_000, "analytic": fitcore.MAX_STEPS}
FAST = ("numpy", "analytic")
NUDGES = {"start": 0.0, "start+1ulp": np.inf, "start-1ulp": -np.inf}


def _supported(page: str, challenge: Challenge, impl: str) -> list[RunConfig] | None:
    """The challenge's runs on ``impl``, or None where the implementation does not take them all."""
    configs = []
    for config in challenge.configs(page).values():
        try:
            config = config.replace(impl=impl)
        except fitcore.ConfigError:   # the exact engine runs SGD and momentum only
            return None
        if config.steps > EAGER_STEP_BUDGET[impl]:
            if impl != "numpy":
                return None
            config = config.replace(compiled=True)  # the Gram path: the same iterates, in blocks of steps
        configs.append(config)
    return configs


def _cases() -> list[Any]:
    cases = []
    for page, challenge in EVERY_CHALLENGE:
        for impl in fitcore.IMPLEMENTATIONS:
            configs = _supported(page, challenge, impl)
            if configs is None:
                continue
            adaptive = any(c.optimizer in ("adam", "rmsprop") for c in configs)
            nudges = NUDGES if impl in FAST or adaptive else {"start": 0.0}
            for name, towards in nudges.items():
                marks = [] if impl in FAST else [pytest.mark.slow]
                cases.append(pytest.param(page, challenge, configs, towards, marks=marks,
                                          id=f"{page}:{challenge.key}:{impl}:{name}"))
    return cases


def test_that_every_challenge_has_an_expected_answer_in_the_table() -> None:
    assert set(EXPECTED) == {(page, c.key) for page, c in EVERY_CHALLENGE}


@pytest.mark.parametrize("page, challenge, configs, towards", _cases())
def test_that_every_challenge_judges_its_runs_as_its_text_expects_on_every_implementation_and_nudged_start(
        page: str, challenge: Challenge, configs: list[RunConfig], towards: float) -> None:
    require(configs[0].impl)
    runs = {label: trained(nudged(config, towards))
            for label, config in zip(challenge.configs(page), configs)}
    if towards:
        assert all(not np.array_equal(run.data.init, dataset_of(config).init)
                   for run, config in zip(runs.values(), configs)), "the start was not nudged"
    outcome = challenge.outcome(runs)
    expected = EXPECTED[(page, challenge.key)]
    assert challenge.is_right(expected, outcome), (expected, outcome)
    if challenge.is_number:
        # the expected estimate is right with room to spare: rounding cannot tip it over the tolerance
        assert abs(float(outcome.answer) - float(expected)) <= 0.7 * challenge.tolerance + 1e-9, outcome
        assert not challenge.is_right(float(expected) + 2 * challenge.tolerance + 1, outcome)
    else:
        assert not any(challenge.is_right(other, outcome) for other in challenge.choices if other != expected)


def test_that_every_page_has_at_least_three_challenges_posed_before_a_lesson_run() -> None:
    assert set(CHALLENGES) == set(PROBLEMS) | {CUSTOM_ID}
    for page, challenges in CHALLENGES.items():
        lesson_keys = {l.key for l in (CUSTOM_LESSONS if page == CUSTOM_ID else lessons_for(page))}
        assert len(challenges) >= 3 and len({c.key for c in challenges}) == len(challenges)
        for challenge in challenges:
            assert challenge.question.endswith("?") and "\n" not in challenge.why
            assert challenge.lesson is None or challenge.lesson in lesson_keys
            assert challenge.choices or challenge.tolerance >= 0
    assert challenges_for("linear-2x") == CHALLENGES["linear-2x"]
    with pytest.raises(KeyError, match="no challenges"):
        challenges_for("no-such-page")


def test_that_a_challenge_runs_on_the_implementation_asked_for() -> None:
    challenge = challenges_for("linear-2x")[0]
    runs = run_challenge(challenge, "linear-2x", impl="analytic")
    assert {run.config.impl for run in runs.values()} == {"analytic"}
    assert challenge.outcome(runs).answer == "NumPy's"


def test_that_a_number_answer_is_right_within_its_tolerance_only() -> None:
    challenge = next(c for c in challenges_for("quadratic-bias") if c.key == "bias-0.0005")
    outcome = Outcome(4.324, "")
    assert challenge.is_right(4.3, outcome) and challenge.is_right(4.37, outcome)
    assert not challenge.is_right(4.2, outcome) and not challenge.is_right(float("nan"), outcome)
    assert not challenge.is_right("4.32", outcome)


def test_that_a_judge_must_answer_with_one_of_the_choices() -> None:
    wrong = Challenge("x", "Why?", "Because.", (Setup("run", {"steps": 1}),), lambda runs: Outcome("maybe", ""),
                      ("yes", "no"))
    with pytest.raises(ValueError, match="not one of its choices"):
        wrong.outcome(run_challenge(wrong, "linear-2x"))


def test_that_a_challenge_with_clashing_runs_or_a_tolerance_on_choices_is_refused() -> None:
    judge = lambda runs: Outcome("yes", "")  # noqa: E731
    with pytest.raises(ValueError, match="distinct labels"):
        Challenge("x", "Why?", "Because.", (Setup("run"), Setup("run")), judge, ("yes", "no"))
    with pytest.raises(ValueError, match="number answers only"):
        Challenge("x", "Why?", "Because.", (Setup("run"),), judge, ("yes", "no"), tolerance=1.0)


def _answer(key: str, right: bool) -> Answer:
    return Answer("linear-2x", key, "Why?", "yes", "no: it said so", right)


def test_that_the_score_counts_each_challenge_once_by_its_latest_answer() -> None:
    answers = [_answer("a", False), _answer("b", True), _answer("a", True), _answer("c", False)]
    assert score_line(answers) == "2 of 3 right"
    assert score_line([]) == "0 of 0 right"


def test_that_the_answers_download_as_csv_with_every_answer_in_order() -> None:
    challenge = challenges_for("linear-2x")[0]
    outcome = challenge.outcome(run_challenge(challenge, "linear-2x"))
    given = [answer("Linear 2x", challenge, "PyTorch's", outcome), answer("Linear 2x", challenge, "NumPy's", outcome)]
    rows = list(csv.reader(io.StringIO(answers_csv(given))))
    assert rows[0] == ["page", "challenge", "question", "your prediction", "what the run did", "right"]
    assert [r[3] for r in rows[1:]] == ["PyTorch's", "NumPy's"] and [r[5] for r in rows[1:]] == ["no", "yes"]
    assert rows[1][4].startswith("NumPy's: After one step NumPy's w is 1.2000")


def test_that_a_number_prediction_is_recorded_as_typed() -> None:
    challenge = next(c for c in challenges_for("quadratic-bias") if c.key == "bias-0.5")
    recorded = answer("Quadratic bias", challenge, 1.0, Outcome(1.0, "The bias was 5 after step 1."))
    assert recorded.right and recorded.prediction == "1" and recorded.outcome.startswith("1: The bias")
