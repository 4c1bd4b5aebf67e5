"""Run-time estimates: what a rate is keyed by, the arithmetic and its thresholds, the words, the
faster alternatives, and the calibration that measures a rate."""
from __future__ import annotations

import math

import pytest

from fitcore import Limits, RunConfig, Schedule
from fitcore.estimate import (CONFIRM_SECONDS, PROPOSE_SECONDS, SHOW_SECONDS, Estimate, Rate, about, alternatives,
                              calibrate, duration_text, estimate, measured_rate, rate_key, training_share)
from fitcore.engine import Run

from conftest import require

RECOVERY = RunConfig.notebook("quadratic-recovery", seed=0)  # torch-autograd, sgd, 1,000,001 steps; seeded data


def test_that_a_rate_is_shared_by_settings_that_cost_the_same_per_step() -> None:
    same_cost = [RECOVERY.replace(lr=2e-5), RECOVERY.replace(steps=10), RECOVERY.replace(seed=7),
                 RECOVERY.replace(noise=0.5), RECOVERY.replace(schedule=Schedule("cosine"))]
    assert {rate_key(c) for c in same_cost} == {rate_key(RECOVERY)}


@pytest.mark.parametrize("change", [dict(impl="numpy"), dict(compiled=True), dict(optimizer="adam"),
                                    dict(reduction="sum"), dict(dtype="float64"), dict(points=200)])
def test_that_a_rate_is_not_shared_by_settings_that_change_a_steps_cost(change: dict) -> None:
    assert rate_key(RECOVERY.replace(**change)) != rate_key(RECOVERY)


def test_that_numpys_gram_path_has_a_rate_for_block_steps_and_one_for_single_steps() -> None:
    blocks = RECOVERY.replace(impl="numpy", compiled=True, dtype="float64")
    assert rate_key(blocks.replace(schedule=Schedule("cosine"))) != rate_key(blocks)
    assert rate_key(blocks.replace(schedule=Schedule("step", step_size=1000))) == rate_key(blocks)


def test_that_the_exact_engine_has_one_rate_whether_or_not_compiled_is_ticked() -> None:
    exact = RECOVERY.replace(impl="analytic")
    assert rate_key(exact.replace(compiled=True)) == rate_key(exact)


def test_that_an_estimate_is_the_steps_left_over_the_measured_rate() -> None:
    rates = {rate_key(RECOVERY): Rate(8000.0, "measured in an earlier run")}
    found = estimate(RECOVERY, rates)
    assert found.steps == 1_000_001 and found.seconds == pytest.approx(125.000125)
    assert estimate(RECOVERY, rates, steps_done=600_001).seconds == pytest.approx(50.0)
    assert estimate(RECOVERY.replace(impl="numpy"), rates) is None


@pytest.mark.parametrize("seconds, shown, long, confirm", [
    (SHOW_SECONDS, False, False, False), (SHOW_SECONDS + 0.1, True, False, False),
    (PROPOSE_SECONDS + 0.1, True, True, False), (CONFIRM_SECONDS, True, True, False),
    (CONFIRM_SECONDS + 0.1, True, True, True)])
def test_that_the_thresholds_say_when_to_show_propose_and_confirm(seconds: float, shown: bool, long: bool,
                                                                  confirm: bool) -> None:
    found = Estimate(steps=1000, rate=Rate(1000 / seconds, "test"))
    assert (found.worth_showing, found.long, found.needs_confirmation) == (shown, long, confirm)


def test_that_a_zero_rate_means_forever_not_a_division_error() -> None:
    found = Estimate(steps=10, rate=Rate(0.0, "test"))
    assert found.seconds == math.inf and found.needs_confirmation
    assert duration_text(found.seconds) == "forever"


@pytest.mark.parametrize("seconds, text", [(0.4, "under a second"), (1.0, "1 s"), (12.4, "12 s"), (59.4, "59 s"),
                                           (60, "1 min 00 s"), (124.6, "2 min 05 s"), (3599, "59 min 59 s"),
                                           (3600, "1 h 00 min"), (3725, "1 h 02 min")])
def test_that_durations_read_the_way_one_says_them(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def test_that_about_is_not_said_of_under_a_second() -> None:
    assert about(0.2) == "under a second" and about(125) == "about 2 min 05 s"


def test_that_the_estimate_text_names_the_steps_the_rate_and_how_it_was_measured() -> None:
    text = Estimate(1_000_000, Rate(8000.0, "measured in an earlier run")).text()
    assert text == "about 2 min 05 s: 1,000,000 steps at 8,000 steps/s, measured in an earlier run"


def test_that_an_eager_sgd_run_is_offered_the_compiled_path_and_the_exact_engine() -> None:
    offers = {offer.key: offer for offer in alternatives(RECOVERY)}
    assert list(offers) == ["compiled", "analytic"]
    assert offers["compiled"].config(RECOVERY) == RECOVERY.replace(compiled=True)
    exact = offers["analytic"].config(RECOVERY)
    assert (exact.impl, exact.compiled, exact.dtype) == ("analytic", False, "float64")
    assert (exact.lr, exact.steps, exact.seed) == (RECOVERY.lr, RECOVERY.steps, RECOVERY.seed)


def test_that_the_exact_engine_is_offered_only_where_it_has_a_closed_form() -> None:
    for config in (RECOVERY.replace(optimizer="adam"), RECOVERY.replace(optimizer="rmsprop", lr=1e-3),
                   RECOVERY.replace(optimizer="momentum", schedule=Schedule("cosine"))):
        assert [offer.key for offer in alternatives(config)] == ["compiled"]
    assert [o.key for o in alternatives(RECOVERY.replace(optimizer="momentum"))] == ["compiled", "analytic"]


def test_that_nothing_is_offered_to_the_exact_engine_and_a_compiled_run_is_offered_only_the_exact_one() -> None:
    assert alternatives(RECOVERY.replace(impl="analytic")) == []
    assert [o.key for o in alternatives(RECOVERY.replace(compiled=True))] == ["analytic"]


def test_that_calibration_measures_a_positive_rate_without_touching_the_run_it_estimates() -> None:
    config = RunConfig.notebook("quadratic-recovery", impl="numpy", steps=10_000_000)
    rate = calibrate(config, seconds=0.1)
    assert rate is not None and rate.steps_per_second > 0 and rate.source.startswith("measured just now over ")


def test_that_calibrating_a_run_shorter_than_the_calibration_still_gives_its_rate() -> None:
    # 20 steps; the first pays one-off costs, so the rate times the other 19 (a rate that counted it
    # could ask to confirm a run of seconds on a busy server).
    rate = calibrate(RunConfig.notebook("linear-2x"), seconds=0.2)
    assert rate is not None and rate.steps_per_second > 0 and "over 19 steps" in rate.source



@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_that_a_diverging_calibration_gives_no_rate() -> None:
    assert calibrate(RunConfig.notebook("linear-2x", lr=5.0, steps=10_000), seconds=0.2) is None


def test_that_a_run_too_short_to_time_gives_no_measured_rate() -> None:
    run = Run(RunConfig.notebook("linear-2x"))
    assert measured_rate(run) is None  # nothing trained yet
    run.advance()
    run.elapsed = 0.001
    assert measured_rate(run) is None
    run.elapsed = 0.5
    assert measured_rate(run).steps_per_second == pytest.approx(run.step / 0.5)


def test_that_an_uninstalled_framework_is_not_offered_its_compiled_path(monkeypatch: pytest.MonkeyPatch) -> None:
    require("torch-autograd")
    import fitcore.estimate as module
    monkeypatch.setattr(module, "is_available", lambda impl: False)
    assert [o.key for o in alternatives(RECOVERY)] == ["analytic"]


def test_that_the_share_of_time_the_live_charts_take_lengthens_the_estimate_and_is_said() -> None:
    rates = {rate_key(RECOVERY): Rate(8000.0, "measured in an earlier run")}
    found = estimate(RECOVERY, rates, training_share=0.625)
    assert found.seconds == pytest.approx(1_000_001 / 8000 / 0.625)
    assert found.text().endswith("while drawing the live charts takes 38% of the time")
    assert "live charts" not in estimate(RECOVERY, rates).text()


def test_that_the_training_share_is_training_time_over_wall_time_after_the_compile() -> None:
    run = Run(RunConfig.notebook("linear-2x"))
    run.elapsed, run.compile_seconds = 3.0, 2.0
    assert training_share(run, wall_seconds=6.0) == pytest.approx(0.75)
    assert training_share(run, wall_seconds=2.5) is None  # half a second after the compile: too short to tell
    run.elapsed = 9.0
    assert training_share(run, wall_seconds=6.0) == 1.0


def test_that_calibrate_times_a_copy_wherever_it_is_told_to_open_it_a_worker_included() -> None:
    from fitcore import RemoteRun, WorkerPool

    opened: list[object] = []
    pool = WorkerPool(1)

    def in_a_worker(config: RunConfig, limits: Limits) -> RemoteRun:
        opened.append(pool.open(config, limits))
        return opened[-1]  # type: ignore[return-value]

    try:
        config = RunConfig.notebook("sine-cubic", impl="numpy", steps=5_000_000)
        rate = calibrate(config, open_run=in_a_worker)
    finally:
        pool.shutdown()
    assert len(opened) == 1 and isinstance(opened[0], RemoteRun) and opened[0].step > 1
    assert rate is not None and rate.steps_per_second > 0 and "measured just now" in rate.source
