"""Comparisons: one setting on every implementation, every optimizer and a learning-rate grid.

Each comparison must equal running its jobs one by one through ``train``; agreement digits and the
diverging region are checked against numbers computed here from the runs and from the written-out
loss in conftest.py (its Hessian eigenvalues give 2/λmax independently of fitcore).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import fitcore
from fitcore import FrameworkMissing, RunConfig, Schedule, StopConditions, get_problem, make_dataset, train
from fitcore.compare import (FRAMEWORK_MAX_STEPS, OPTIMIZER_MAX_STEPS, SWEEP_EXACT_MAX_STEPS, SWEEP_LOOP_MAX_STEPS,
                             Comparison, Job, Outcome, compare, exact_applies, plan_frameworks, plan_optimizers,
                             plan_sweep, run_plan, sweep_grid)
from fitcore.compare_report import (DIGITS_CAP, agreement, agreement_sentence, difference_rows, diverging_region,
                                    framework_rows, significant_digits, summarize_sweep, table_steps)
from fitcore.run_labels import pin_labels

from conftest import FRAMEWORK_IMPLS, quadratic_of


def max_stable_lr(config: RunConfig) -> float:
    """2/λmax from the written-out Hessian of the data this configuration trains on."""
    problem = get_problem(config.problem)
    data = make_dataset(problem, config.seed, config.points, config.noise, config.dtype,
                        problem.variant(config.variant))
    return 2.0 / quadratic_of(data, config.reduction).hessian_eigenvalues().max()


def assert_same_run(outcome: Outcome, config: RunConfig) -> None:
    """The outcome is exactly what training its configuration alone gives."""
    alone = train(config)
    steps, losses, params = alone.history.arrays()
    np.testing.assert_array_equal(outcome.steps, steps)
    np.testing.assert_array_equal(outcome.losses, losses)
    np.testing.assert_array_equal(outcome.params, params)
    assert (outcome.status, outcome.diverged_at, outcome.final_step) == (alone.status, alone.diverged_at, alone.step)
    assert outcome.final_loss == alone.current_loss


# --- frameworks ------------------------------------------------------------------------------------------

def test_that_comparing_frameworks_equals_running_each_installed_implementation_alone() -> None:
    config = RunConfig.notebook("linear-2x")  # 20 steps, float32, sgd
    comparison = compare(plan_frameworks(config))
    assert comparison.complete
    reference, *others = comparison.outcomes
    assert reference.job.config == config.replace(impl="analytic", dtype="float64")
    installed = [impl for impl in FRAMEWORK_IMPLS if fitcore.is_available(impl)]
    assert [o.key for o in others] == installed
    for outcome in comparison.outcomes:
        assert outcome.ran, outcome.message
        assert outcome.job.config.steps == 20 and outcome.job.config.stop == StopConditions()
        assert_same_run(outcome, outcome.job.config)
    for outcome in others:
        assert outcome.job.config.dtype == "float32"
        assert outcome.job.config.compiled == (outcome.key == "tf-tape")


def test_that_the_reference_is_the_closed_form_where_it_is_exact_and_numpy_float64_elsewhere() -> None:
    sgd = plan_frameworks(RunConfig.notebook("sine-cubic", schedule=Schedule("cosine")))
    assert sgd.jobs[0].config.impl == "analytic" and sgd.jobs[0].config.dtype == "float64"
    assert "analytic" not in [job.key for job in sgd.jobs[1:]]
    for config in (RunConfig.notebook("sine-cubic", optimizer="adam"),
                   RunConfig.notebook("sine-cubic", optimizer="momentum", schedule=Schedule("step"))):
        plan = plan_frameworks(config)
        assert plan.jobs[0].config.impl == "numpy" and plan.jobs[0].config.dtype == "float64"
        assert plan.jobs[0].config.compiled is False
        skipped = {s.key: s.reason for s in plan.skipped}
        assert "does not apply" in skipped["analytic"]
        # the float64 notebook's own NumPy run would be the reference twice: it is listed, not rerun
        assert "is the reference" in skipped["numpy"]


def test_that_missing_frameworks_are_listed_with_their_pip_command() -> None:
    plan = plan_frameworks(RunConfig.notebook("quadratic-bias"), available=lambda impl: impl == "numpy")
    assert [job.key for job in plan.jobs] == ["reference", "numpy"]
    reasons = {s.key: s.reason for s in plan.skipped}
    for impl in ("torch-manual", "torch-autograd", "torch-nn"):
        assert reasons[impl] == "not installed: pip install torch==2.13.0"
    assert reasons["tf-tape"] == "not installed: pip install tensorflow-cpu==2.21.0"
    rows = {row.label: row for row in framework_rows(Comparison(plan))}
    assert rows["TensorFlow"].status == "skipped" and "pip install" in rows["TensorFlow"].note


def test_that_long_runs_are_capped_and_the_plan_says_so() -> None:
    config = RunConfig.notebook("quadratic-recovery")  # 1,000,001 steps: one by hand, then the learner's million
    frameworks, optimizers = plan_frameworks(config), plan_optimizers(config)
    assert frameworks.steps == FRAMEWORK_MAX_STEPS and frameworks.capped
    assert optimizers.steps == OPTIMIZER_MAX_STEPS and optimizers.capped
    assert all(job.config.steps == FRAMEWORK_MAX_STEPS for job in frameworks.jobs)
    assert "capped from 1,000,001" in frameworks.path and "capped from 1,000,001" in optimizers.path
    short = plan_frameworks(RunConfig.notebook("linear-2x"))
    assert short.steps == 20 and not short.capped and "capped" not in short.path


def test_that_agreement_digits_count_the_leading_digits_two_runs_share() -> None:
    assert significant_digits(0.0) == DIGITS_CAP
    assert significant_digits(3e-7) == 6
    assert significant_digits(1e-6 * 0.999) == 6
    assert significant_digits(0.5) == 0 and significant_digits(math.inf) == 0


def outcome(label: str, steps: list[int], params: list[list[float]], status: str = "completed",
            diverged_at: int | None = None) -> Outcome:
    config = RunConfig.notebook("sine-cubic")
    return Outcome(Job("reference" if label == "ref" else label, label, config), np.array(steps),
                   np.ones(len(steps)), np.array(params, dtype=np.float64), status, "", diverged_at, steps[-1],
                   1.0, 2.0, 0.0)


def test_that_the_agreement_sentence_groups_implementations_by_the_digits_they_share() -> None:
    plan = plan_frameworks(RunConfig.notebook("sine-cubic"), available=lambda impl: impl == "numpy")
    reference = outcome("ref", [0, 1000, 2000], [[1, 2], [1, 2], [3.0, -2.0]])
    close = outcome("PyTorch", [0, 1000, 2000], [[1, 2], [1, 2], [3.0 + 2e-6, -2.0]])      # 6.7e-7 of 3
    closer = outcome("TensorFlow", [0, 1000, 2000], [[1, 2], [1, 2], [3.0, -2.0 - 2e-6]])
    far = outcome("NumPy", [0, 1000, 2000], [[1, 2], [1, 2], [3.0, -2.0 + 3e-3]])          # 1e-3 of 3
    text = agreement_sentence(Comparison(plan, (reference, close, closer, far)))
    assert text == ("After 2,000 steps, PyTorch and TensorFlow agree with the ref to 6 significant digits; "
                    "NumPy to 3 significant digits.")
    found = agreement(reference, far)
    np.testing.assert_allclose(found.max_diff, [0, 0, 3e-3], atol=1e-15)
    np.testing.assert_allclose(found.relative, [0, 0, 1e-3], rtol=1e-9)
    same = outcome("NumPy", [0, 1000, 2000], [[1, 2], [1, 2], [3.0, -2.0]])
    assert agreement_sentence(Comparison(plan, (reference, same))) == \
        "After 2,000 steps, NumPy matches the ref bit for bit."


def test_that_a_run_that_diverged_is_compared_up_to_its_last_recorded_step_and_named() -> None:
    plan = plan_frameworks(RunConfig.notebook("sine-cubic"), available=lambda impl: impl == "numpy")
    reference = outcome("ref", [0, 10, 20], [[1.0], [2.0], [3.0]])
    gone = outcome("NumPy", [0, 10], [[1.0], [2.0]], status="diverged", diverged_at=12)
    text = agreement_sentence(Comparison(plan, (reference, gone)))
    assert "NumPy matches the ref bit for bit" in text and "NumPy diverged at step 12." in text
    steps, columns = difference_rows(Comparison(plan, (reference, gone)))
    np.testing.assert_array_equal(steps, [0, 10, 20])
    np.testing.assert_array_equal(columns["NumPy"][:2], [0, 0])
    assert math.isnan(columns["NumPy"][2])


def test_that_the_difference_table_reads_a_float32_run_against_the_exact_trajectory() -> None:
    comparison = compare(plan_frameworks(RunConfig.notebook("quadratic-bias", impl="numpy"),
                                         available=lambda impl: impl == "numpy"))
    reference, numpy_run = comparison.outcomes
    steps, columns = difference_rows(comparison)
    assert steps[0] == 0 and steps[-1] == 2000 and len(steps) <= 12
    for step, diff in zip(steps, columns["NumPy"]):
        mine, exact = numpy_run.params[numpy_run.steps == step], reference.params[reference.steps == step]
        assert diff == abs(mine[0, 0] - exact[0, 0])
    final = abs(numpy_run.params[-1, 0] - reference.params[-1, 0]) / abs(reference.params[-1, 0])
    row = framework_rows(comparison)[1]
    assert row.digits == math.floor(-math.log10(final)) and 5 <= row.digits <= 8


def test_that_table_steps_are_recorded_steps_spaced_one_two_five() -> None:
    recorded = np.array([0, 1, 2, 3, 4, 5, 7, 10, 15, 20, 40, 50, 99, 100, 150, 200, 333])
    np.testing.assert_array_equal(table_steps(recorded), [0, 1, 2, 5, 10, 20, 50, 100, 200, 333])
    assert len(table_steps(np.arange(1_000_001), rows=12)) == 12


def test_that_a_job_whose_framework_fails_is_reported_and_the_others_still_run(monkeypatch) -> None:
    import fitcore.engine

    real = fitcore.engine.make_stepper

    def broken_torch(impl, data, settings, *solution):
        if impl == "torch-nn":
            raise FrameworkMissing("PyTorch is not installed here: pip install torch==2.13.0")
        return real(impl, data, settings, *solution)

    monkeypatch.setattr(fitcore.engine, "make_stepper", broken_torch)
    plan = plan_frameworks(RunConfig.notebook("linear-2x"), available=lambda impl: impl in ("numpy", "torch-nn"))
    progress = list(run_plan(plan))
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    outcomes = [p.outcome for p in progress if p.outcome is not None]
    assert [o.key for o in outcomes] == ["reference", "numpy", "torch-nn"]
    assert [o.status for o in outcomes] == ["completed", "completed", "failed"]
    assert "pip install torch" in outcomes[2].message
    assert "could not run" in agreement_sentence(Comparison(plan, tuple(outcomes)))


def test_that_a_comparison_stopped_early_keeps_what_finished() -> None:
    plan = plan_optimizers(RunConfig.notebook("linear-2x"))
    comparison = Comparison(plan)
    for progress in run_plan(plan):
        if progress.outcome is not None:
            comparison = comparison.adding(progress.outcome)
            if len(comparison.outcomes) == 2:
                break  # the caller stops listening, as a click does in the page
    assert not comparison.complete and [o.key for o in comparison.outcomes] == ["sgd", "momentum"]


# --- optimizers -------------------------------------------------------------------------------------------

def test_that_comparing_optimizers_runs_all_four_from_the_same_start_as_separate_runs() -> None:
    config = RunConfig.notebook("quadratic-recovery", steps=300)
    comparison = compare(plan_optimizers(config))
    assert [o.key for o in comparison.outcomes] == ["sgd", "momentum", "rmsprop", "adam"]
    for o in comparison.outcomes:
        assert o.job.config == config.replace(impl="numpy", compiled=True, optimizer=o.key)
        assert_same_run(o, o.job.config)
    starts = {float(o.losses[0]) for o in comparison.outcomes}
    assert len(starts) == 1  # same data, same θ₀
    finals = [o.final_loss for o in comparison.outcomes]
    assert len(set(finals)) == 4


# --- learning-rate sweep --------------------------------------------------------------------------------

@pytest.mark.parametrize("problem_id", ["linear-2x", "quadratic-bias", "sine-cubic"])
def test_that_an_sgd_sweep_diverges_exactly_above_two_over_lambda_max(problem_id: str) -> None:
    config = RunConfig.notebook(problem_id, impl="numpy", optimizer="sgd", steps=300)
    limit = max_stable_lr(config.replace(dtype="float64"))
    plan = plan_sweep(config)
    assert plan.jobs[0].config.impl == "analytic" and "Exact closed form" in plan.path
    summary = summarize_sweep(compare(plan))
    assert summary.max_stable_lr == pytest.approx(limit, rel=1e-9)
    lrs = np.array([p.lr for p in summary.points])
    assert lrs.min() < limit / 100 and lrs.max() > 2 * limit and (lrs > limit).sum() >= 2
    for point in summary.points:
        assert point.unstable == (point.lr > limit), point
    low, high = summary.diverging_region
    assert max(lrs[lrs < limit]) < low < limit * 1.0001 and low < min(lrs[lrs > limit]) and high == lrs.max()
    assert any(p.diverged for p in summary.points)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_that_the_sweep_marks_exactly_the_runs_that_diverge_when_run_alone(optimizer: str) -> None:
    config = RunConfig.notebook("linear-2x", optimizer=optimizer, steps=40)
    comparison = compare(plan_sweep(config))
    summary = summarize_sweep(comparison)
    assert len(summary.points) == len(comparison.plan.jobs)
    for point, job in zip(summary.points, comparison.plan.jobs):
        alone = train(job.config)
        assert point.lr == job.config.lr
        assert point.diverged == (alone.status == "diverged")
        assert point.growing == (alone.status != "diverged" and alone.current_loss > alone.initial_loss)
    unstable = [p.lr for p in summary.points if p.unstable]
    if unstable:
        assert summary.diverging_region[1] == max(p.lr for p in summary.points)


def test_that_the_sweep_takes_the_fastest_faithful_path_and_caps_loops() -> None:
    exact = plan_sweep(RunConfig.notebook("quadratic-recovery"))
    assert exact.steps == SWEEP_EXACT_MAX_STEPS["sgd"] and not exact.capped
    momentum = plan_sweep(RunConfig.notebook("quadratic-recovery", optimizer="momentum"))
    assert momentum.steps == SWEEP_EXACT_MAX_STEPS["momentum"] and momentum.capped
    for config in (RunConfig.notebook("quadratic-recovery", optimizer="adam"),
                   RunConfig.notebook("quadratic-recovery", optimizer="momentum", schedule=Schedule("cosine"))):
        assert not exact_applies(config)
        plan = plan_sweep(config)
        assert plan.steps == SWEEP_LOOP_MAX_STEPS and plan.capped and "NumPy" in plan.path
        assert {job.config.impl for job in plan.jobs} == {"numpy"}
        assert {job.config.dtype for job in plan.jobs} == {config.dtype}


def test_that_the_grid_is_logarithmic_and_contains_the_current_learning_rate() -> None:
    config = RunConfig.notebook("sine-cubic", lr=1.234e-7)
    grid = sweep_grid(config, 3.5e-6)
    assert config.lr in grid and np.all(np.diff(grid) > 0) and len(grid) == 13
    others = np.log10(np.delete(grid, np.flatnonzero(grid == config.lr)))
    np.testing.assert_allclose(np.diff(others), np.diff(others)[0], atol=0.01)
    near = sweep_grid(config.replace(lr=3.5e-6 * 10**0.8), 3.5e-6)  # on a grid point already: not added twice
    assert len(near) == 12 and 3.5e-6 * 10**0.8 in near
    adaptive = sweep_grid(RunConfig.notebook("sine-cubic", "nn-rmsprop"), 3.5e-6)
    assert adaptive.max() >= 1e-2  # RMSprop's own scale, a decade past its 1e-3


def test_that_the_diverging_region_starts_between_the_last_stable_and_first_unstable_rate() -> None:
    assert diverging_region([1, 10, 100, 1000], [False, False, True, True]) == (pytest.approx(math.sqrt(1000)), 1000)
    assert diverging_region([1000, 1, 100, 10], [True, False, True, False]) == (pytest.approx(math.sqrt(1000)), 1000)
    assert diverging_region([1, 10, 100], [False, True, False]) is None
    assert diverging_region([1, 10], [True, True]) == (1, 10)
    assert diverging_region([], []) is None


# --- pinned-run labels ------------------------------------------------------------------------------------

def test_that_pinned_runs_are_labelled_by_the_settings_that_tell_them_apart() -> None:
    slow = RunConfig.notebook("linear-2x", lr=0.01)
    fast = slow.replace(lr=0.03)
    adam = slow.replace(optimizer="adam", dtype="float64")
    assert pin_labels([slow, fast], [1, 2], ["completed", "completed"]) == ["#1 lr 0.01", "#2 lr 0.03"]
    assert pin_labels([slow, fast, adam], [1, 2, 5], ["completed", "completed", "diverged"]) == [
        "#1 SGD, lr 0.01, float32", "#2 SGD, lr 0.03, float32",
        "#5 Adam (0.9, 0.999), lr 0.01, float64 (diverged)"]
    # alone, or among identical runs, a run shows what differs from its notebook's settings
    assert pin_labels([fast], [3], ["completed"]) == ["#3 lr 0.03"]
    assert pin_labels([slow, slow], [1, 2], ["completed", "stopped"]) == [
        "#1 the notebook's settings", "#2 the notebook's settings (stopped)"]
