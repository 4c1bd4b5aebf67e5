"""The Compare tab's comparisons (frameworks, optimizers, learning-rate sweep) at their default sizes.

Each demo in a fresh process (benchmarks/probe.py): the first comparison of each kind is cold (it
imports PyTorch and TensorFlow and compiles TensorFlow's XLA loop), the repeats are warm. The
single-shot script benchmarks/compare_timings.py prints the same cold/warm pair per demo.
"""
from __future__ import annotations

from fitcore import PROBLEMS

from .probe import run_probe
from .stats import Section, stat

KINDS = ("frameworks", "optimizers", "sweep")


def run_group(runs: int, smoke: bool) -> Section:
    section = Section("compare", "The Compare tab's comparisons")
    section.notes.append(__doc__.split("\n\n", 1)[1].replace("\n", " "))
    for problem in (("linear-2x",) if smoke else tuple(PROBLEMS)):
        result = run_probe(["compare", problem, str(runs)], timeout=900)
        for kind in KINDS:
            measured = result[kind]
            section.add(f"{problem}: compare {kind} ({measured['runs']} runs × {measured['steps']:,} steps), warm",
                        stat(measured["warm_s"], "s"), note=f"cold (first in a fresh process): "
                                                             f"{measured['cold_s']:.2f} s")
    return section
