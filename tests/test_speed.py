"""The Speed page's core: the line-up of implementations, the settings each runs, timing, import costs."""
from __future__ import annotations

import math

import pytest

from fitcore import IMPLEMENTATIONS, RunConfig
from fitcore.config import MAX_STEPS
from fitcore.speed import Entry, Timing, import_cost, installed_frameworks, lineup, measure, speed_config, spread


def test_that_the_lineup_has_every_implementation_eager_then_compiled_and_the_exact_engine_last() -> None:
    entries = lineup(installed_only=False)
    frameworks = [impl for impl in IMPLEMENTATIONS if impl != "analytic"]
    assert entries[:-1] == tuple(Entry(impl, compiled) for impl in frameworks for compiled in (False, True))
    assert entries[-1] == Entry("analytic")
    assert [e.kind for e in entries[:2]] == ["eager", "compiled"] and entries[-1].kind == "exact"
    assert len({e.label for e in entries}) == len(entries), "two bars with the same label"


def test_that_the_lineup_leaves_out_what_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    import fitcore.speed as module
    monkeypatch.setattr(module, "is_available", lambda impl: IMPLEMENTATIONS[impl].framework == "numpy")
    assert [e.impl for e in module.lineup()] == ["numpy", "numpy", "analytic"]


@pytest.mark.parametrize("problem_id", ["quadratic-bias", "linear-2x", "quadratic-recovery", "sine-cubic"])
def test_that_every_entry_runs_the_demos_notebook_settings_with_room_for_any_number_of_steps(problem_id: str) -> None:
    notebook = RunConfig.notebook(problem_id)
    for entry in lineup(installed_only=False):
        config = speed_config(problem_id, entry)
        assert (config.impl, config.compiled) == (entry.impl, entry.compiled)
        assert config.steps == MAX_STEPS
        assert config.replace(impl=notebook.impl, compiled=notebook.compiled, steps=notebook.steps) == notebook


def test_that_measuring_yields_progress_then_one_timing_per_entry() -> None:
    entries = [Entry("numpy"), Entry("numpy", True), Entry("analytic")]
    reports = list(measure("quadratic-recovery", entries, seconds_each=0.05, slice_seconds=0.02))
    timings = [r.timing for r in reports if r.timing is not None]
    assert [t.entry for t in timings] == entries
    assert all(t.error is None and t.steps > 0 and t.seconds > 0 and t.steps_per_second > 0 for t in timings)
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert reports[0].label == "NumPy" and reports[0].timing is None


def test_that_an_entry_that_cannot_run_the_settings_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    import fitcore.speed as module
    adam = RunConfig.notebook("linear-2x", optimizer="adam")
    monkeypatch.setattr(module.RunConfig, "notebook", classmethod(lambda cls, problem_id: adam))
    reports = list(measure("linear-2x", [Entry("analytic")], seconds_each=0.05))
    timing = reports[-1].timing
    assert timing.error is not None and "analytic" in timing.error and timing.steps == 0


def test_that_a_timing_without_steps_has_no_rate() -> None:
    timing = Timing(Entry("numpy"), error="missing")
    assert timing.steps_per_second == 0.0 and math.isnan(timing.microseconds_per_step)


def test_that_importing_numpy_in_a_fresh_python_is_timed_with_its_memory() -> None:
    cost = import_cost("numpy")
    assert cost.error is None and math.isfinite(cost.seconds) and cost.seconds > 0 and cost.megabytes > 0
    assert cost.name == "NumPy"
    assert "numpy" in installed_frameworks()


def test_that_the_spread_names_the_fastest_and_slowest_measured_and_their_ratio() -> None:
    slow, fast = Timing(Entry("numpy"), 100, 1.0), Timing(Entry("analytic"), 50_000, 0.5)
    assert spread([slow, Timing(Entry("tf-tape"), error="missing"), fast]) == (fast, slow, 1000.0)
    assert spread([slow]) is None
