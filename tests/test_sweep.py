"""The points sweep: entries per device, one measured point, the crossover, the H200 reference table, and
a size refused when it will not fit in memory. No speed is asserted."""
from __future__ import annotations

import math

import pytest

import fitcore
from fitcore import device as devices
from fitcore import sweep
from fitcore.sweep import H200_TABLE, SweepEntry, crossover, measure_point, reference_crossover, sweep_entries

needs_torch = pytest.mark.skipif(not fitcore.is_available("torch-autograd"), reason="PyTorch is not installed")


@needs_torch
def test_that_the_entries_are_every_pytorch_style_eager_then_compiled_on_each_device() -> None:
    entries = sweep_entries(["cpu", "cuda"])
    assert [(e.impl, e.compiled, e.device) for e in entries[:2]] == [("torch-manual", False, "cpu"),
                                                                    ("torch-manual", True, "cpu")]
    assert len(entries) == 12 and {e.device for e in entries} == {"cpu", "cuda"}
    assert sweep_entries(["cpu"], compiled=False, numpy=True)[0] == SweepEntry("numpy", False, "cpu")
    assert all(not e.compiled for e in sweep_entries(["cpu"], compiled=False))


def test_that_the_crossover_is_where_the_accelerator_wins_at_every_larger_size() -> None:
    cpu = {10: 1.0, 100: 2.0, 1000: 20.0, 10000: 200.0}
    assert crossover(cpu, {10: 5.0, 100: 1.0, 1000: 25.0, 10000: 5.0}) == 10000  # a win at 100 that does not last
    assert crossover(cpu, {10: 5.0, 100: 1.0, 1000: 5.0, 10000: 5.0}) == 100
    assert crossover(cpu, {10: 5.0, 100: 5.0, 1000: 50.0, 10000: 500.0}) is None
    assert crossover(cpu, {10: 0.5}) == 10  # only sizes measured on both count
    assert crossover(cpu, {10: 0.5, 100: math.nan}) is None  # a failed size is not a win


def test_that_the_h200_reference_says_eager_cuda_pays_from_200000_points_and_names_its_source() -> None:
    assert reference_crossover() == 200_000
    assert [r.points for r in H200_TABLE] == [2_000, 20_000, 200_000, 2_000_000, 20_000_000]
    assert H200_TABLE[-1].cpu_us / H200_TABLE[-1].cuda_eager_us > 565
    assert "H200" in sweep.H200_SOURCE and "issue 14" in sweep.H200_SOURCE


@needs_torch
def test_that_one_point_is_timed_over_several_runs_of_the_same_number_of_steps() -> None:
    point = measure_point(SweepEntry("torch-autograd", False, "cpu"), 500, seconds=0.005, runs=3)
    assert point.error is None and len(point.samples_us) == 3 and point.steps_per_run >= 1
    assert point.steps_per_second > 0 and math.isclose(point.steps_per_second, 1e6 / point.microseconds_per_step)


def test_that_numpys_loop_is_swept_too() -> None:
    point = measure_point(SweepEntry("numpy", False, "cpu"), 300, seconds=0.005, runs=2)
    assert point.error is None and len(point.samples_us) == 2


def test_that_a_size_too_big_for_free_memory_is_reported_not_attempted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "available_host_bytes", lambda: 2**30)
    point = measure_point(SweepEntry("numpy", False, "cpu"), 20_000_000, seconds=0.005)
    assert point.samples_us == () and "points need about" in point.error and math.isnan(point.steps_per_second)


def test_that_the_sweep_yields_progress_then_a_point_per_entry_and_size() -> None:
    events = list(sweep.sweep([SweepEntry("numpy", False, "cpu")], [100, 200], seconds=0.002, runs=2))
    measured = [e.point for e in events if e.point is not None]
    assert [p.points for p in measured] == [100, 200] and events[-1].done == events[-1].total == 2


@needs_torch
def test_that_a_compiled_point_is_timed_in_whole_compiled_chunks() -> None:
    from fitcore.impl.torch_compiled import UNROLL
    assert sweep.COMPILED_CHUNK == UNROLL
    point = measure_point(SweepEntry("torch-manual", True, "cpu"), 200, seconds=0.002, runs=2)
    assert point.error is None and point.steps_per_run % UNROLL == 0
