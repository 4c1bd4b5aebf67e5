"""Predict, then run: a question posed before a run, answered by the run itself.

A challenge names the runs it needs (usually one lesson's settings) and a judge that reads the
right answer off those runs: a choice among a few, or a number with the tolerance a fair estimate
deserves. Nothing stores the answer: the judge decides from the finished runs each time, so an edit
to the engine or the data that changes a story changes the answer (and fails the tests that hold
the answers to their text). A judge decides only from margins that survive rounding: thresholds
far from where the runs land, on every implementation and from a start nudged one unit in the last
place (``tests/test_challenges.py``).

The learner's answers for a session are ``Answer`` values; ``score_line`` and ``answers_csv`` turn
them into "4 of 6 right" and a file to keep. Nothing here keeps them anywhere.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .config import RunConfig
from .engine import Run
from .lessons import Lesson
from .stopping import Limits

ONE_RUN = "run"
FOLLOW_SECONDS = 0.5  # between looks at a run trained elsewhere (nothing is drawn meanwhile)


@dataclass(frozen=True)
class Setup:
    """One run a challenge needs: settings over a notebook's, as a lesson gives them."""

    label: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    variant: str | None = None

    @classmethod
    def of(cls, lesson: Lesson, label: str = ONE_RUN, **changes: Any) -> "Setup":
        return cls(label, {**lesson.settings, **changes}, lesson.variant)

    def config(self, problem_id: str) -> RunConfig:
        return RunConfig.notebook(problem_id, self.variant, **self.settings)


@dataclass(frozen=True)
class Outcome:
    """What the runs did: the right answer and one sentence with the numbers it rests on."""

    answer: str | float
    said: str


Judge = Callable[[Mapping[str, Run]], Outcome]


@dataclass(frozen=True)
class Challenge:
    key: str
    question: str
    why: str                        # one paragraph, shown beside the outcome
    setups: tuple[Setup, ...]
    judge: Judge
    choices: tuple[str, ...] = ()   # empty: the answer is a number
    tolerance: float = 0.0          # a number answer is right within this distance of the run's
    lesson: str | None = None       # the lesson whose run this is, where there is one

    def __post_init__(self) -> None:
        if len({s.label for s in self.setups}) != len(self.setups) or not self.setups:
            raise ValueError(f"challenge {self.key!r} needs runs with distinct labels")
        if self.tolerance < 0 or (self.choices and self.tolerance):
            raise ValueError(f"challenge {self.key!r}: a tolerance ≥ 0 belongs to number answers only")

    @property
    def is_number(self) -> bool:
        return not self.choices

    def configs(self, problem_id: str, impl: str | None = None) -> dict[str, RunConfig]:
        """Every run's settings (on ``impl`` if given)."""
        configs = {s.label: s.config(problem_id) for s in self.setups}
        return {label: c.replace(impl=impl) for label, c in configs.items()} if impl else configs

    def outcome(self, runs: Mapping[str, Run]) -> Outcome:
        outcome = self.judge(runs)
        if self.choices and outcome.answer not in self.choices:
            raise ValueError(f"challenge {self.key!r} judged {outcome.answer!r}, not one of its choices")
        return outcome

    def is_right(self, prediction: str | float, outcome: Outcome) -> bool:
        if self.choices:
            return prediction == outcome.answer
        return isinstance(prediction, (int, float)) and math.isfinite(prediction) \
            and abs(float(prediction) - float(outcome.answer)) <= self.tolerance + 1e-12 * abs(float(outcome.answer))


def run_challenge(challenge: Challenge, problem_id: str, impl: str | None = None,
                  open_run: Callable[[RunConfig, Limits], Run] = Run) -> dict[str, Run]:
    """Train every run the challenge needs, to the end (where ``open_run`` puts it: a worker pool's ``open``
    trains it in a worker, to the same numbers)."""
    runs = {}
    for label, config in challenge.configs(problem_id, impl).items():
        run = runs[label] = open_run(config, Limits())
        for _ in run.follow(FOLLOW_SECONDS):
            pass
    return runs


# --- judges: read the answer off the runs, deciding only where the margin is wide ----------------------------

BEHAVIOURS = ("creeps towards it without passing it", "zig-zags around it and settles", "runs away (diverges)")
# A sign change of θ − θ* counts as a zig-zag only where both errors exceed this share of the start's:
# a run that lands on the optimum flips sign in the last bits, which is no zig-zag.
ZIGZAG_SHARE = 1e-3


def behaviour(name: str, index: int = 0) -> Judge:
    """Which of ``BEHAVIOURS`` parameter ``index`` shows in the single run."""
    title = name[:1].upper() + name[1:]

    def judge(runs: Mapping[str, Run]) -> Outcome:
        run = runs[ONE_RUN]
        if run.status == "diverged":
            return Outcome(BEHAVIOURS[2], f"The run stopped at step {run.diverged_at:,}: the loss passed 10⁸ times "
                                          f"its start, with {name} at {run.current_params[index]:.4g}.")
        best = run.quad.optimum[index]
        errors = np.array([p[index] for p in run.history.params]) - best
        big = np.abs(errors) > ZIGZAG_SHARE * abs(errors[0])
        flips = int(np.sum(big[1:] & big[:-1] & (np.sign(errors[1:]) != np.sign(errors[:-1]))))
        if flips:
            return Outcome(BEHAVIOURS[1], f"{title} crossed {best:.4g} {flips} times on its way and ended at "
                                          f"{run.current_params[index]:.6g}.")
        return Outcome(BEHAVIOURS[0], f"{title} never passed {best:.4g}: it ended at {run.current_params[index]:.6g} "
                                      f"after {run.step:,} steps.")
    return judge


def converges_or_diverges(runs: Mapping[str, Run]) -> Outcome:
    run = runs[ONE_RUN]
    if run.status == "diverged":
        return Outcome("diverges", f"The run stopped at step {run.diverged_at:,}: the loss passed 10⁸ times its "
                                   f"start ({run.initial_loss:.6g}).")
    return Outcome("converges", f"All {run.step:,} steps ran; the loss ended at {run.current_loss:.6g} "
                                f"(the least-squares optimum is {run.quad.optimum_loss:.6g}).")


def divergence_step(runs: Mapping[str, Run]) -> Outcome:
    run = runs[ONE_RUN]
    if run.diverged_at is None:
        return Outcome(float("inf"), f"The run did not diverge: all {run.step:,} steps ran.")
    return Outcome(float(run.diverged_at), f"The loss passed 10⁸ times its start at step {run.diverged_at:,}.")


def final_param(index: int, name: str, scale: float = 1.0, what: str | None = None) -> Judge:
    """The run's last θ[index] (times ``scale``: f(5) = 5·w)."""
    def judge(runs: Mapping[str, Run]) -> Outcome:
        run = runs[ONE_RUN]
        value = scale * float(run.current_params[index])
        return Outcome(value, f"After {run.step:,} steps {what or name} is {value:.4f}.")
    return judge


def steps_until_within(index: int, name: str, distance: float) -> Judge:
    """The first recorded step at which |θ[index] − θ*| < distance."""
    def judge(runs: Mapping[str, Run]) -> Outcome:
        run = runs[ONE_RUN]
        best = run.quad.optimum[index]
        for step, params in zip(run.history.steps, run.history.params):
            if abs(params[index] - best) < distance:
                return Outcome(float(step), f"{name} was {params[index]:.6g} after step {step:,}: within "
                                            f"{distance:g} of {best:.6g}.")
        return Outcome(float("inf"), f"{name} never came within {distance:g} of {best:.6g} in {run.step:,} steps.")
    return judge


def loss_band(bands: Sequence[tuple[float, str]], what: str = "The loss") -> Judge:
    """The label of the first band whose upper bound the final loss is under (the last band: above all)."""
    def judge(runs: Mapping[str, Run]) -> Outcome:
        run = runs[ONE_RUN]
        label = next((label for bound, label in bands if run.current_loss < bound), bands[-1][1])
        return Outcome(label, f"{what} after {run.step:,} steps is {run.current_loss:.6g} (it started at "
                              f"{run.initial_loss:.6g}; the least-squares optimum is {run.quad.optimum_loss:.6g}).")
    return judge


def furthest_behind(names: Sequence[str], note: str) -> Judge:
    """The parameter with the largest |θ − θ*| at the run's end (the eigen-directions live in θ's own units)."""
    def judge(runs: Mapping[str, Run]) -> Outcome:
        run = runs[ONE_RUN]
        distance = np.abs(run.current_params - run.quad.optimum)
        parts = ", ".join(f"{n} {d:.3g}" for n, d in zip(names, distance))
        return Outcome(names[int(np.argmax(distance))], f"{note} at step {run.step:,}: {parts}.")
    return judge


def lower_loss(labels: Mapping[str, str], against: float | None = None) -> Judge:
    """Which run's final loss is lower (or, with ``against``, nearer that value)."""
    def judge(runs: Mapping[str, Run]) -> Outcome:
        distance = {label: abs(run.current_loss - (against or 0.0)) for label, run in runs.items()}
        winner = min(distance, key=distance.__getitem__)
        parts = "; ".join(f"{labels[label]}: {run.current_loss:.6g} after {run.step:,} steps"
                          for label, run in runs.items())
        return Outcome(labels[winner], f"Final losses: {parts}.")
    return judge


# --- the learner's answers -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """One prediction and what the run said, as the learner's record for the session keeps it."""

    page: str
    challenge: str
    question: str
    prediction: str
    outcome: str
    right: bool


def answer(page: str, challenge: Challenge, prediction: str | float, outcome: Outcome) -> Answer:
    said = outcome.answer if isinstance(outcome.answer, str) else f"{outcome.answer:g}"
    shown = prediction if isinstance(prediction, str) else f"{prediction:g}"
    return Answer(page, challenge.key, challenge.question, shown, f"{said}: {outcome.said}",
                  challenge.is_right(prediction, outcome))


def score_line(answers: Sequence[Answer]) -> str:
    """"4 of 6 right" (the last answer to each challenge counts once)."""
    latest = {(a.page, a.challenge): a for a in answers}
    return f"{sum(a.right for a in latest.values())} of {len(latest)} right"


def answers_csv(answers: Sequence[Answer]) -> str:
    """Every answer of the session, oldest first, as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["page", "challenge", "question", "your prediction", "what the run did", "right"])
    for a in answers:
        writer.writerow([a.page, a.challenge, a.question, a.prediction, a.outcome, "yes" if a.right else "no"])
    return out.getvalue()
