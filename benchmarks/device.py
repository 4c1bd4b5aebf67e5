"""PyTorch on each device this machine has: µs per step against the number of points, per style, eager
and compiled (fitcore/sweep.py: sine-cubic, float32, SGD on the mean loss, the stepper timed alone,
every run ending with its losses read back so the device's queued work is inside the time). The CPU
rows use 2 threads, like the machines the app runs on and the CPU column of issue 14's H200 table.
On CUDA the compiled path is torch.compile(mode="reduce-overhead"): a chunk of 8 steps replays as
one CUDA graph. Compiled CPU rows stop at 2,000,000 points (a compile per size; 20,000,000 points
take half a second per step there either way).

Imports numpy and torch only (no Streamlit, no TensorFlow): it runs on a bare GPU machine.
"""
from __future__ import annotations

import math
import os

from fitcore import is_available
from fitcore.device import ACCELERATORS, device_status, describe_accelerators
from fitcore.sweep import DEVICE_POINTS, H200_TABLE, SweepEntry, SweepPoint, crossover, measure_point, sweep_entries

from .report import describe_machine
from .stats import Section, stat

CPU_THREADS = 2
COMPILED_CPU_MAX = 2_000_000
SMOKE_POINTS = (200, 2_000)
GRAPH_TARGET = 2.0    # compiled CUDA within 2× of the hand-written CUDA-graph column, at every size
CPU_RATIO_TARGET = 300.0  # at 20,000,000 points, compiled CUDA at least 300× the 2-thread CPU per step
CHECK = "bash benchmarks/device_check.sh"
OVERSUBSCRIBED = ("The CPUs were oversubscribed when this ran (load {load:.1f} on {cores} cores): compiled CPU code "
                  "runs OpenMP threads that stall for milliseconds when another process holds their core, so the "
                  "compiled CPU rows here are upper bounds, not what the path costs on an idle machine.")


def _sizes(entry: SweepEntry, smoke: bool) -> tuple[int, ...]:
    if smoke:
        return SMOKE_POINTS[:1] if entry.compiled else SMOKE_POINTS
    if entry.device == "cpu" and entry.compiled:
        return tuple(n for n in DEVICE_POINTS if n <= COMPILED_CPU_MAX)
    return DEVICE_POINTS


def _entries(devices: list[str], smoke: bool) -> tuple[SweepEntry, ...]:
    entries = sweep_entries(devices)
    if smoke:  # a compile costs seconds: one compiled style is enough to show the path still runs
        entries = tuple(e for e in entries if not e.compiled or (e.impl == "torch-autograd"))
    return entries


def _measure(entry: SweepEntry, points: int, runs: int, smoke: bool) -> SweepPoint:
    import torch
    threads = torch.get_num_threads()
    if entry.device == "cpu":
        torch.set_num_threads(min(CPU_THREADS, threads))
    try:
        return measure_point(entry, points, seconds=0.01 if smoke else 0.2, runs=runs)
    finally:
        torch.set_num_threads(threads)


def _row_name(point: SweepPoint) -> str:
    return f"{point.entry.label}, {point.points:,} points"


def _accelerator_name(device: str) -> str:
    if device != "cuda":
        return device
    import torch
    return f"cuda ({torch.cuda.get_device_name(0)})"


def run_group(runs: int, smoke: bool) -> Section:
    section = Section("device", "PyTorch on CPU and GPU: µs per step against the number of points")
    section.notes.append(__doc__.split("\n\n", 1)[0].replace("\n", " "))
    if not is_available("torch-autograd"):
        section.add("PyTorch sweep", "skipped", note="PyTorch is not installed")
        return section
    accelerators = [d for d in ACCELERATORS if device_status(d).available]
    devices = ["cpu", *accelerators]
    section.notes.append(f"Machine: {describe_machine().description}. Devices used: "
                         + ", ".join(_accelerator_name(d) for d in devices) + f" ({describe_accelerators()}).")
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > cores:
        section.notes.append(OVERSUBSCRIBED.format(load=load, cores=cores))
    measured: dict[tuple[str, bool, str], dict[int, float]] = {}
    for entry in _entries(devices, smoke):
        for points in _sizes(entry, smoke):
            point = _measure(entry, points, runs, smoke)
            if point.error:
                section.add(_row_name(point), "failed", note=point.error)
                continue
            measured.setdefault((entry.impl, entry.compiled, entry.device), {})[points] = point.microseconds_per_step
            section.add(_row_name(point), stat(point.samples_us, "µs/step"),
                        note=f"{point.steps_per_run:,} step{'s' if point.steps_per_run != 1 else ''} per timed run, "
                             f"{len(point.samples_us)} runs")
    if not accelerators:
        _not_measured(section, smoke)
        return section
    for device in accelerators:
        _goals(section, measured, device, smoke)
    return section


def _goals(section: Section, measured: dict, device: str, smoke: bool) -> None:
    for impl in ("torch-manual", "torch-autograd", "torch-nn"):
        cpu = measured.get((impl, False, "cpu"), {})
        eager = measured.get((impl, False, device), {})
        where = crossover(cpu, eager)
        section.add(f"{impl}: eager {device} beats the 2-thread CPU from", "never here" if where is None
                    else f"{where:,} points", note="the fewest points from which the device is faster at every "
                    "larger size measured")
        compiled = measured.get((impl, True, device), {})
        if device != "cuda" or smoke or not compiled:
            continue
        reference = {r.points: r.cuda_graph_us for r in H200_TABLE}
        ratios = {n: compiled[n] / reference[n] for n in compiled if n in reference}
        worst = max(ratios.values()) if ratios else math.nan
        section.add(f"{impl}: compiled CUDA ÷ the H200's hand-written CUDA graph, worst size", f"{worst:.2f}×",
                    f"≤ {GRAPH_TARGET:g}× at every size", worst <= GRAPH_TARGET,
                    note=", ".join(f"{n:,}: {r:.2f}×" for n, r in sorted(ratios.items())))
        big = max(DEVICE_POINTS)
        cpu_big = cpu.get(big)
        if cpu_big and big in compiled:
            ratio = cpu_big / compiled[big]
            section.add(f"{impl}: {big:,} points, 2-thread CPU eager ÷ compiled CUDA per step", f"{ratio:,.0f}×",
                        f"≥ {CPU_RATIO_TARGET:g}×", ratio >= CPU_RATIO_TARGET,
                        note="medians of runs measured one after the other, not pair by pair")


def _not_measured(section: Section, smoke: bool) -> None:
    reason = describe_accelerators()
    for device in ACCELERATORS:
        section.add(f"PyTorch styles, eager and compiled, on {device}, {', '.join(f'{n:,}' for n in DEVICE_POINTS)} "
                    "points", "not yet measured", note=f"no {device} here ({device_status(device).reason}); on a "
                    f"machine with one run `{CHECK}`")
    section.add("compiled CUDA within 2× of the hand-written CUDA graph; 20,000,000 points ≥ 300× the CPU",
                "not yet measured", f"≤ {GRAPH_TARGET:g}×; ≥ {CPU_RATIO_TARGET:g}×",
                note=f"needs a CUDA GPU ({reason}); run `{CHECK}`")
