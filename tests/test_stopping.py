"""The rules that end a run early (fitcore.stopping), on losses written out here: divergence before a stop
rule at the same step, a loss target, a plateau across chunks, and the deployment caps' messages."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from fitcore.config import StopConditions
from fitcore.stopping import (DIVERGENCE_FACTOR, Limits, divergence_limit, divergence_message, first_event,
                              remembered_losses)

NONE = StopConditions()


def why(step: int) -> str:
    return f"diverged at {step}"


def event_of(losses: list[float], stop: StopConditions = NONE, start: int = 0, limit: float = 1e6,
             recent: list[float] = ()):  # type: ignore[assignment]
    return first_event(start, np.array(losses, dtype=np.float64), limit, stop, np.array(recent, dtype=np.float64),
                       why)


def test_that_no_event_is_found_in_losses_that_stay_bounded_with_no_stop_rule() -> None:
    assert event_of([5.0, 4.0, 3.0, 1e6]) is None


def test_that_a_loss_that_is_not_finite_or_past_the_bound_diverges_at_its_own_step() -> None:
    nonfinite = event_of([5.0, 4.0, math.inf, math.nan], start=100)
    assert (nonfinite.offset, nonfinite.status, nonfinite.reason, nonfinite.message) == \
        (2, "diverged", "nonfinite", "diverged at 102")
    exploded = event_of([5.0, 2e6, math.nan])
    assert (exploded.offset, exploded.reason) == (1, "exploded")


def test_that_the_bound_is_the_divergence_factor_times_the_start_or_the_optimum() -> None:
    assert divergence_limit(3.0, 1.0) == 3.0 * DIVERGENCE_FACTOR
    assert divergence_limit(0.0, 2.0) == 2.0 * DIVERGENCE_FACTOR
    assert divergence_limit(0.0, 0.0) == 1e-12 * DIVERGENCE_FACTOR


def test_that_a_loss_target_ends_the_run_at_the_first_loss_at_or_under_it() -> None:
    found = event_of([5.0, 3.0, 2.0, 1.0], StopConditions(loss_below=2.0), start=10)
    assert (found.offset, found.status, found.reason) == (2, "completed", "loss_below")
    assert found.message == "Loss reached 2 ≤ 2 at step 12."


def test_that_divergence_wins_over_a_stop_rule_at_the_same_step_and_the_earlier_event_wins_otherwise() -> None:
    earlier = event_of([5.0, math.nan], StopConditions(loss_below=1e9))
    assert (earlier.offset, earlier.reason) == (0, "loss_below")  # the target, one step before the NaN
    tie = event_of([2e6], StopConditions(loss_below=1e9))           # past the bound 1e6 and under the target
    assert (tie.offset, tie.status, tie.reason) == (0, "diverged", "exploded")


def test_that_a_plateau_is_found_across_a_chunk_boundary_from_the_losses_remembered_before_it() -> None:
    stop = StopConditions(plateau_tol=0.01, plateau_window=3)
    first = [10.0, 9.0, 8.0, 7.0]
    assert event_of(first, stop) is None
    recent = remembered_losses(np.array([]), np.array(first), stop)
    np.testing.assert_array_equal(recent, [9.0, 8.0, 7.0])  # only the window's worth
    found = event_of([6.95, 6.94, 6.94], stop, start=4, recent=recent.tolist())
    # step 4: |6.95 − 9| > 0.09; step 5: |6.94 − 8| > 0.08; step 6: |6.94 − 7| = 0.06 ≤ 0.01·7, a plateau
    assert (found.offset, found.reason) == (2, "plateau") and "plateau at step 6" in found.message
    assert "over 3 steps" in found.message


def test_that_without_a_plateau_rule_no_losses_are_remembered() -> None:
    recent = np.array([1.0])
    assert remembered_losses(recent, np.array([2.0, 3.0]), NONE) is recent


def test_that_the_divergence_message_names_two_over_lambda_max_and_whether_sgd_passed_it() -> None:
    above = divergence_message(7, "sgd", 0.5, 0.1)
    assert above.startswith("Diverged at step 7:") and "This learning rate 0.5 is above 2/λmax = 0.1" in above
    assert "grew past 1e+08 × its starting value" in divergence_message(7, "adam", 0.5, 0.1)


def test_that_a_cap_says_what_stopped_the_run_and_adds_the_deployments_hint_only_where_it_gives_one() -> None:
    assert Limits(max_steps=1200).steps_message() == "Stopped at the deployment's cap of 1,200 steps per run."
    assert Limits(max_seconds=2.5, seconds_hint="Raise it.").seconds_message() == \
        "Stopped after the deployment's cap of 2.5 s per run. Raise it."


def test_that_fitcore_writes_no_deployment_text() -> None:
    core = Path(__file__).resolve().parent.parent / "fitcore"
    for path in core.rglob("*.py"):
        text = path.read_text()
        assert "secrets.toml" not in text and "FITCORE_MAX" not in text, path
