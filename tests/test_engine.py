"""The training engine: chunks, snapshots, stop and resume, divergence, bounded history, limits, schedules."""
from __future__ import annotations

import json
import math
import tracemalloc

import numpy as np
import pytest

import fitcore
from fitcore.config import dataset_of
from fitcore import (HISTORY_CAP, History, Limits, Run, RunConfig, Schedule, StopConditions, get_problem, iterate,
                     make_dataset, quadratic_loss, record_steps, train)
from fitcore.notebook_log import MAX_LOG_LINES
from fitcore.stopping import DIVERGENCE_FACTOR

from conftest import ALL_IMPLS, assert_losses_close, assert_params_close, assert_same_run, quadratic_of, reference_run, require


def data_of(config: RunConfig) -> fitcore.Dataset:
    return dataset_of(config)


def finite_everywhere(run: Run, snapshots: list = ()) -> None:
    steps, losses, params = run.history.arrays()
    assert np.all(np.isfinite(losses)) and np.all(np.isfinite(params))
    for snap in [*snapshots, run.snapshot()]:
        assert math.isfinite(snap.loss) and np.all(np.isfinite(snap.params)), snap
        assert math.isfinite(snap.elapsed) and math.isfinite(snap.steps_per_second)
    json.dumps(run.result(), allow_nan=False)  # raises on NaN or inf anywhere in the result


# --- divergence ------------------------------------------------------------------------------------

def first_exploding_step(config: RunConfig) -> int:
    """The first k with loss(θ_k) above DIVERGENCE_FACTOR × the starting loss, from a float64 loop."""
    data = data_of(config).as_float64()
    quad = quadratic_of(data, config.reduction)
    losses, _ = reference_run(quad, data.init, config.optimizer, np.full(200, config.lr))
    limit = DIVERGENCE_FACTOR * max(losses[0], quad.optimum()[1])
    return int(np.argmax(~np.isfinite(losses) | (losses > limit)))


DIVERGING = [(demo, impl, dtype) for demo in ("quadratic-recovery", "sine-cubic") for impl in ALL_IMPLS
             for dtype in ("float32", "float64") if impl != "analytic" or dtype == "float64"]


@pytest.mark.parametrize("problem_id, impl, dtype", DIVERGING)
def test_that_divergence_is_found_at_the_same_step_on_every_implementation(problem_id: str, impl: str,
                                                                           dtype: str) -> None:
    require(impl)
    base = RunConfig.notebook(problem_id, dtype=dtype, steps=400)
    quad = quadratic_loss(data_of(base), base.reduction)
    config = base.replace(impl=impl, optimizer="sgd", lr=1.5 * quad.max_stable_lr)
    expected = first_exploding_step(config)
    assert 5 < expected < 100  # loss ×4 a step: a clean crossing, long before the budget
    run = Run(config)
    snapshots = list(iterate(run, every_steps=3))
    assert run.status == "diverged" and run.reason in ("exploded", "nonfinite")
    assert abs(run.diverged_at - expected) <= 1
    # the run keeps θ from the step before, except when the bad loss is the first of a chunk: then it
    # stays on that (finite, exploded) step
    assert run.step in (run.diverged_at - 1, run.diverged_at)
    assert "2/λmax" in run.message and f"{run.diverged_at:,}" in run.message
    assert snapshots[-1].status == "diverged" and snapshots[-1].diverged_at == run.diverged_at
    finite_everywhere(run, snapshots)
    assert train(config).diverged_at == run.diverged_at  # in one go, the same step


@pytest.mark.parametrize("impl", ALL_IMPLS)
def test_that_an_overflowing_run_never_hands_out_nan_or_inf(impl: str) -> None:
    require(impl)
    dtype = "float64" if impl == "analytic" else "float32"
    config = RunConfig.notebook("sine-cubic", impl=impl, dtype=dtype, lr=fitcore.MAX_LR, steps=1000)
    run = Run(config)
    snapshots = list(iterate(run, every_steps=1))
    assert run.status == "diverged" and run.diverged_at is not None and run.diverged_at <= 3
    finite_everywhere(run, snapshots)
    assert run.advance().status == "diverged"  # a diverged run stays diverged
    run.extend(100)
    assert run.status == "diverged" and run.advance().step == run.step


# --- pause, stop, resume ---------------------------------------------------------------------------

RESUMABLE = [("numpy", "adam", "float32"), ("numpy", "momentum", "float64"), ("torch-manual", "rmsprop", "float32"),
             ("torch-autograd", "adam", "float32"), ("torch-nn", "momentum", "float32"),
             ("torch-nn", "adam", "float64"), ("tf-tape", "adam", "float32"), ("tf-tape", "momentum", "float64")]


def short_config(impl: str, optimizer: str, dtype: str, steps: int = 120, **changes) -> RunConfig:
    lr = {"sgd": 1e-5, "momentum": 1e-6, "rmsprop": 3e-3, "adam": 1e-2}[optimizer]
    return RunConfig.notebook("quadratic-recovery", impl=impl, optimizer=optimizer, lr=lr, steps=steps, dtype=dtype,
                              **changes)


def same_run(a: Run, b: Run) -> None:
    for x, y in zip(a.history.arrays(), b.history.arrays()):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.current_params, b.current_params)
    assert (a.step, a.status, a.current_loss) == (b.step, b.status, b.current_loss)


@pytest.mark.parametrize("impl, optimizer, dtype", RESUMABLE)
def test_that_advancing_in_pieces_equals_one_go_bit_for_bit(impl: str, optimizer: str, dtype: str) -> None:
    require(impl)
    config = short_config(impl, optimizer, dtype)
    whole = train(config)
    pieces = Run(config)
    for size in (1, 2, 5, 13, 40, 1000):
        snap = pieces.advance(max_steps=size)
        assert snap.status in ("paused", "completed")
    same_run(whole, pieces)


@pytest.mark.parametrize("impl, optimizer, dtype", RESUMABLE[:4] + RESUMABLE[6:7])
def test_that_pausing_and_resuming_through_iterate_continues_exactly(impl: str, optimizer: str, dtype: str) -> None:
    require(impl)
    config = short_config(impl, optimizer, dtype)
    whole = train(config)
    run = Run(config)
    generator = iterate(run, every_steps=7)
    assert [next(generator).step for _ in range(3)] == [7, 14, 21]
    generator.close()  # the user leaves; the run waits where it was
    assert run.pause().status == "paused" and run.step == 21
    snapshots = list(iterate(run, every_steps=10))
    assert snapshots[-1].finished and snapshots[-1].step == config.steps
    same_run(whole, run)


def test_that_analytic_resumes_to_float64_rounding() -> None:
    config = RunConfig.notebook("quadratic-recovery", impl="analytic", optimizer="momentum", lr=1e-6, steps=5000,
                                dtype="float64")
    whole = train(config)
    pieces = Run(config)
    for size in (1, 10, 333, 1000, 10_000):
        pieces.advance(max_steps=size)
    assert pieces.step == 5000
    assert_params_close(pieces.current_params, whole.current_params, 1e-12)
    assert_params_close(pieces.history.arrays()[2], whole.history.arrays()[2], 1e-12)


def test_that_stop_ends_the_run_where_it_is_and_nothing_moves_it_after() -> None:
    run = Run(short_config("numpy", "sgd", "float64"))
    run.advance(max_steps=30)
    snap = run.stop()
    assert (snap.status, snap.reason, snap.step) == ("stopped", "user", 30)
    assert snap.finished and "30" in snap.message
    assert run.advance().step == 30 and run.history.steps[-1] == 30
    assert run.stop().status == "stopped"


def test_that_extending_a_completed_run_equals_a_longer_run() -> None:
    config = short_config("numpy", "adam", "float32", steps=80)
    run = train(config)
    assert run.status == "completed"
    run.extend(40)
    assert run.status == "paused" and run.total_steps == 120
    run.advance()
    same_run(train(config.replace(steps=120)), run)


# --- state in, state out -----------------------------------------------------------------------------

ROUND_TRIPS = [(impl, optimizer, dtype) for impl in ALL_IMPLS
               for optimizer in (("sgd", "momentum") if impl == "analytic" else ("momentum", "rmsprop", "adam"))
               for dtype in (("float64",) if impl == "analytic" else ("float32", "float64"))]


def same_state(a: fitcore.impl.TrainState, b: fitcore.impl.TrainState, exact: bool) -> None:
    assert a.t == b.t and set(a.slots) == set(b.slots)
    pairs = [(a.params, b.params)] + [(a.slots[k], b.slots[k]) for k in a.slots]
    for x, y in pairs:
        if exact:
            np.testing.assert_array_equal(x, y)
        else:
            assert_params_close(x, y, 1e-12)


@pytest.mark.parametrize("impl, optimizer, dtype", ROUND_TRIPS)
def test_that_state_and_load_round_trip_exactly(impl: str, optimizer: str, dtype: str) -> None:
    require(impl)
    config = short_config(impl, optimizer, dtype)
    exact = impl != "analytic"  # the closed form keeps θ in H's eigenbasis: a rotation there and back
    stepper = Run(config).prepare()
    stepper.run(20)
    saved = stepper.state().copy()
    assert saved.t == 20 and set(saved.slots) == set(fitcore.optim.SLOTS[optimizer])
    losses_a, params_a = stepper.run(15, range(16))
    stepper.load(saved)
    same_state(stepper.state(), saved, exact)
    losses_b, params_b = stepper.run(15, range(16))
    fresh = Run(config).prepare()  # a new run object, as after a page rerun
    fresh.load(saved)
    losses_c, params_c = fresh.run(15, range(16))
    for losses, params in ((losses_b, params_b), (losses_c, params_c)):
        if exact:
            np.testing.assert_array_equal(losses, losses_a)
            np.testing.assert_array_equal(params, params_a)
        else:
            assert_params_close(params, params_a, 1e-12)
            assert_losses_close(losses, losses_a, 1e-12, losses_a[0])


@pytest.mark.parametrize("impl", ["numpy", "torch-nn", "tf-tape"])
def test_that_a_scheduled_run_resumes_with_the_right_learning_rate(impl: str) -> None:
    require(impl)
    config = short_config(impl, "sgd", "float64", schedule=Schedule("step", gamma=0.5, step_size=10))
    stepper = Run(config).prepare()
    stepper.run(25)
    saved = stepper.state().copy()
    _, continued = stepper.run(30, [30])
    fresh = Run(config).prepare()
    fresh.load(saved)
    _, resumed = fresh.run(30, [30])
    np.testing.assert_array_equal(resumed, continued)


# --- stop conditions ------------------------------------------------------------------------------

def reference_losses(config: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    data = data_of(config).as_float64()
    losses, params = reference_run(quadratic_of(data, config.reduction), data.init, config.optimizer,
                                   np.full(config.steps, config.lr))
    return losses, params


@pytest.mark.parametrize("impl", ["numpy", "analytic", "torch-autograd"])
@pytest.mark.parametrize("every", [None, 7])
def test_that_loss_below_ends_the_run_at_the_first_step_under_the_threshold(impl: str, every: int | None) -> None:
    require(impl)
    config = RunConfig.notebook("quadratic-recovery", impl=impl, dtype="float64", steps=3000)
    losses, params = reference_losses(config)
    threshold = math.sqrt(losses[1234] * losses[1235])  # strictly between two consecutive losses
    expected = int(np.argmax(losses <= threshold))
    assert expected == 1235
    run = Run(config.replace(stop=StopConditions(loss_below=threshold)))
    snapshots = list(iterate(run, every_steps=every)) if every else [run.advance()]
    assert (run.status, run.reason, run.step) == ("completed", "loss_below", expected)
    assert snapshots[-1].reason == "loss_below"
    assert run.current_loss == pytest.approx(losses[expected], rel=1e-9) and run.current_loss <= threshold
    assert_params_close(run.current_params, params[expected], 1e-9)
    assert run.history.steps[-1] == expected


@pytest.mark.parametrize("impl", ["numpy", "analytic"])
@pytest.mark.parametrize("every", [None, 9])
def test_that_a_plateau_ends_the_run_where_the_loss_stops_moving(impl: str, every: int | None) -> None:
    config = RunConfig.notebook("quadratic-recovery", impl=impl, dtype="float64", steps=3000)
    losses, _ = reference_losses(config)
    tol, window = 1e-3, 50
    k = np.arange(window, len(losses))
    flat = np.abs(losses[k] - losses[k - window]) <= tol * np.abs(losses[k - window])
    expected = int(k[np.argmax(flat)])
    assert 0 < expected < 3000
    run = Run(config.replace(stop=StopConditions(plateau_tol=tol, plateau_window=window)))
    list(iterate(run, every_steps=every)) if every else run.advance()
    assert (run.status, run.reason, run.step) == ("completed", "plateau", expected)
    assert f"{expected:,}" in run.message


def test_that_impossible_stop_conditions_are_refused() -> None:
    for kwargs in (dict(loss_below=-1.0), dict(loss_below=float("nan")), dict(plateau_tol=1.0),
                   dict(plateau_tol=-0.1), dict(plateau_tol=0.01, plateau_window=0)):
        with pytest.raises(fitcore.ConfigError):
            StopConditions(**kwargs)


# --- schedules drive every implementation the same way ---------------------------------------------

SCHEDULED = [(impl, optimizer, kind) for impl in ("numpy", "torch-manual", "torch-nn", "tf-tape", "analytic")
             for optimizer, kind in (("sgd", "step"), ("sgd", "exponential"), ("sgd", "cosine"),
                                     ("momentum", "cosine"))
             if not (impl == "analytic" and optimizer == "momentum")]


def schedule_rates(kind: str, lr: float, steps: int) -> tuple[Schedule, np.ndarray]:
    t = np.arange(steps)
    if kind == "step":
        return Schedule("step", gamma=0.5, step_size=15), lr * 0.5 ** (t // 15)
    if kind == "exponential":
        return Schedule("exponential", gamma=0.97), lr * 0.97**t
    lr_min = 0.1 * lr
    return Schedule("cosine", lr_min=lr_min), lr_min + (lr - lr_min) * (1 + np.cos(np.pi * t / steps)) / 2


@pytest.mark.parametrize("impl, optimizer, kind", SCHEDULED)
def test_that_a_schedule_changes_the_trajectory_as_its_formula_says(impl: str, optimizer: str, kind: str) -> None:
    require(impl)
    steps = 60
    base = RunConfig.notebook("sine-cubic", dtype="float64", steps=steps, optimizer=optimizer)
    quad = quadratic_loss(data_of(base), base.reduction)
    lr = (0.9 if optimizer == "sgd" else 0.09) * quad.max_stable_lr
    schedule, rates = schedule_rates(kind, lr, steps)
    run = train(base.replace(impl=impl, lr=lr, schedule=schedule))
    data = data_of(base)
    # Keras keeps its momentum as m = μm − lr·g: with a changing rate that is its own trajectory
    # (fitcore.optim.KERAS_RESIDUALS["momentum"]), so tf-tape is held to Keras's formula.
    convention = "keras" if impl == "tf-tape" else "torch"
    ref_losses, ref_params = reference_run(quadratic_of(data, base.reduction), data.init, optimizer, rates,
                                           convention)
    assert_params_close(run.history.arrays()[2], ref_params, 1e-10)
    constant = reference_run(quadratic_of(data, base.reduction), data.init, optimizer, np.full(steps, lr),
                             convention)[1]
    assert np.abs(constant[-1] - ref_params[-1]).max() > 1e-6 * np.abs(ref_params[-1]).max()


def test_that_keras_momentum_under_a_schedule_differs_from_torchs_as_documented() -> None:
    steps = 60
    base = RunConfig.notebook("sine-cubic", dtype="float64", steps=steps, optimizer="momentum")
    data = data_of(base)
    quad = quadratic_of(data, base.reduction)
    lr = 0.09 * quadratic_loss(data, base.reduction).max_stable_lr
    _, rates = schedule_rates("cosine", lr, steps)
    keras_way = reference_run(quad, data.init, "momentum", rates, "keras")[1]
    torch_way = reference_run(quad, data.init, "momentum", rates, "torch")[1]
    assert np.abs(keras_way - torch_way).max() > 1e-6 * np.abs(torch_way).max()
    same_rate = [reference_run(quad, data.init, "momentum", np.full(steps, lr), c)[1] for c in ("keras", "torch")]
    assert_params_close(same_rate[0], same_rate[1], 1e-12)


# --- limits for a shared deployment ----------------------------------------------------------------

# The sentence on how to raise a cap is the deployment's (ui.limits writes it); fitcore only appends it.
def test_that_a_step_cap_stops_the_run_at_the_cap_with_its_reason() -> None:
    config = RunConfig.notebook("quadratic-recovery", impl="numpy", steps=500)
    run = train(config, Limits(max_steps=120, steps_hint="Raise FITCORE_MAX_STEPS."))
    assert (run.status, run.reason, run.step) == ("stopped", "cap_steps", 120)
    assert "FITCORE_MAX_STEPS" in run.message
    same_prefix = train(config.replace(steps=120))
    np.testing.assert_array_equal(run.current_params, same_prefix.current_params)
    assert train(config, Limits(max_steps=10_000)).status == "completed"


def test_that_a_time_cap_stops_the_run_with_its_reason() -> None:
    config = RunConfig.notebook("quadratic-recovery", impl="numpy", steps=fitcore.MAX_STEPS)
    run = train(config, Limits(max_seconds=0.05, seconds_hint="Raise FITCORE_MAX_SECONDS."))
    assert (run.status, run.reason) == ("stopped", "cap_time")
    assert 0 < run.step < config.steps and "FITCORE_MAX_SECONDS" in run.message
    finite_everywhere(run)


# --- iterate ----------------------------------------------------------------------------------------

def test_that_iterate_yields_snapshots_every_n_steps_and_ends() -> None:
    run = Run(RunConfig.notebook("linear-2x", steps=35))
    snapshots = list(iterate(run, every_steps=10))
    steps = [s.step for s in snapshots]
    assert steps[:4] == [10, 20, 30, 35] and set(steps[4:]) <= {35}
    assert [s.status for s in snapshots[:3]] == ["paused"] * 3
    assert snapshots[-1].finished and snapshots[-1].status == "completed" and snapshots[-1].progress == 1.0
    assert all(0 <= s.progress <= 1 and s.steps_per_second >= 0 for s in snapshots)


def test_that_iterate_by_time_reaches_the_end() -> None:
    run = Run(RunConfig.notebook("sine-cubic", steps=3000))
    snapshots = list(iterate(run, every_seconds=0.02))
    assert snapshots and snapshots[-1].step == 3000 and snapshots[-1].status == "completed"
    assert [s.step for s in snapshots] == sorted(s.step for s in snapshots)


def test_that_observers_reading_snapshots_cannot_change_the_run() -> None:
    config = short_config("numpy", "adam", "float64")
    reference = train(config)
    run = Run(config)
    for snap in iterate(run, every_steps=11):
        snap.params[:] = 1e9  # a careless observer
    same_run(reference, run)


# --- bounded history --------------------------------------------------------------------------------

def test_that_a_million_step_run_keeps_at_most_2000_points_dense_early_and_the_last() -> None:
    run = train(RunConfig.notebook("quadratic-recovery", impl="analytic", dtype="float64"))
    steps, losses, params = run.history.arrays()
    assert 1000 <= len(steps) <= HISTORY_CAP
    assert steps[-1] == 1_000_001 and np.all(np.diff(steps) > 0)  # the notebook's step by hand, then 1,000,000
    np.testing.assert_array_equal(steps[:51], np.arange(51))  # every one of the first 50 steps
    assert np.sum(steps <= 10_000) > np.sum(steps > 990_000) * 10
    assert params.shape == (len(steps), 3) and np.all(np.isfinite(losses))
    assert len(run.log) <= MAX_LOG_LINES + 2  # the notebook's loss and gradient lines before its loop


def test_that_history_memory_does_not_grow_with_the_number_of_steps() -> None:
    retained, peaks, lengths = {}, {}, {}
    for steps in (1_000_000, 10_000_000):
        tracemalloc.start()
        run = train(RunConfig.notebook("quadratic-recovery", impl="analytic", dtype="float64", steps=steps))
        retained[steps], peaks[steps] = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        lengths[steps] = (len(run.history), len(run.log))
        assert run.history.steps[-1] == steps
        del run
    assert all(n <= HISTORY_CAP and lines <= MAX_LOG_LINES + 2 for n, lines in lengths.values())
    assert retained[10_000_000] <= 1.5 * retained[1_000_000] + 500_000
    assert peaks[10_000_000] < 40e6  # keeping every loss of 10M steps would take 80 MB


def test_that_the_record_plan_is_every_step_for_short_runs_and_capped_for_long_ones() -> None:
    np.testing.assert_array_equal(record_steps(1999), np.arange(2000))
    for total in (2000, 12_345, 10_000_000):
        plan = record_steps(total)
        assert len(plan) <= HISTORY_CAP and plan[0] == 0 and plan[-1] == total
        assert np.all(np.diff(plan) > 0)


def test_that_the_history_thins_itself_but_keeps_the_last_point() -> None:
    history = History(plan=np.arange(0), width=1)
    for step in range(200_000):
        history.add(step, 1.0 / (step + 1), np.array([float(step)]))
        assert len(history) <= HISTORY_CAP
    steps, losses, params = history.arrays()
    assert steps[-1] == 199_999 and steps[0] == 0
    np.testing.assert_array_equal(params[:, 0], steps)
    history.add(10, 0.0, np.array([0.0]))  # a step already past is ignored
    assert history.steps[-1] == 199_999


def test_that_every_advance_makes_progress_however_little_time_it_is_given() -> None:
    # A caller that loops until a time budget is spent (the Speed page) would spin forever otherwise.
    run = Run(RunConfig.notebook("quadratic-bias", impl="numpy", steps=1000))
    for expected in range(1, 51):
        run.advance(max_seconds=1e-9)
        assert run.step >= expected


# --- moving a run to another process ---------------------------------------------------------------

@pytest.mark.parametrize("settings", [
    {"impl": "numpy", "dtype": "float32", "compiled": True}, {"impl": "numpy", "compiled": True},
    {"impl": "numpy", "optimizer": "adam", "lr": 0.01}, {"impl": "numpy", "optimizer": "momentum"},
], ids=["gram-float32", "gram-float64-blocks", "adam", "momentum"])
def test_that_a_run_carried_as_a_pickle_goes_on_bit_for_bit_as_the_run_it_was(settings: dict) -> None:
    import pickle

    config = RunConfig.notebook("sine-cubic", steps=6000, **settings)
    run = Run(config)
    run.advance(max_steps=1234)
    carried = pickle.loads(pickle.dumps(run))
    assert carried.prepared and (carried.step, carried.status) == (1234, "paused")
    carried.advance()
    expected = run  # the same run, gone on where it was (float64 blocks round by where a run resumes)
    expected.advance()
    assert_same_run(carried, expected)


def test_that_a_run_not_yet_begun_is_carried_unprepared() -> None:
    import pickle

    config = RunConfig.notebook("linear-2x")
    carried = pickle.loads(pickle.dumps(Run(config)))
    assert not carried.prepared and carried.status == "ready"
    assert carried.advance().status == "completed" and carried.log_text() == train(config).log_text()
