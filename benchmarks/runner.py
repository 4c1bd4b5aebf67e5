"""Run the benchmark groups, print their table, write BENCHMARKS.md."""
from __future__ import annotations

import argparse
import importlib
import os
import time
from pathlib import Path
from typing import Callable, Sequence

from .report import REPO, describe_machine, load_average, markdown, merge_report, python_command, terminal_table
from .stats import MIN_RUNS, Section

# name -> (module, what it measures); each module has run_group(runs, smoke) -> Section
GROUPS: dict[str, tuple[str, str]] = {
    "engine": ("engine_overhead", "engine ÷ the notebooks' bare loops, per implementation"),
    "compiled": ("compiled", "TensorFlow XLA, NumPy Gram and torch.compile against their eager loops"),
    "analytic": ("analytic", "the closed form on the 1,000,000-step recovery against the NumPy loop"),
    "memory": ("memory", "history memory against the step count"),
    "startup": ("startup", "which frameworks each page imports; server-side time to first render"),
    "live": ("live_ui", "a real `streamlit run` in Chromium: chart updates, points, throughput, peak RSS"),
    "hover": ("hover", "the pointer on the loss curve in Chromium: pointer → that step's caption, server CPU per hover"),
    "compare": ("compare", "the Compare tab's comparisons at their default sizes"),
    "workshop": ("workshop", "simulated attendees over Streamlit's websocket: 1, 10, 30, 60 pressing Run together"),
    "device": ("device", "PyTorch on CPU and GPU: µs per step against points, every style eager and compiled"),
}
SMOKE_RUNS = 2


def run_groups(names: Sequence[str], runs: int, smoke: bool,
               progress: Callable[[str], None] = print) -> list[Section]:
    sections = []
    for name in names:
        module_name, what = GROUPS[name]
        progress(f"[{name}] {what}…")
        module = importlib.import_module(f"benchmarks.{module_name}")
        started = time.perf_counter()
        section = module.run_group(runs, smoke)
        progress(f"[{name}] done in {time.perf_counter() - started:.1f} s")
        sections.append(section)
    return sections


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and 2 runs: checks that everything runs")
    parser.add_argument("--only", action="append", choices=list(GROUPS), metavar="GROUP",
                        help=f"run only this group (repeatable): {', '.join(GROUPS)}")
    parser.add_argument("--runs", type=int, default=None, help=f"repetitions per figure (default {MIN_RUNS})")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the report (default BENCHMARKS.md at the repository root; "
                             "a smoke run writes none unless asked)")
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < (1 if args.smoke else MIN_RUNS):
        parser.error(f"--runs must be at least {MIN_RUNS} (every figure is a median over ≥ {MIN_RUNS} runs)")
    return args


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    runs = args.runs or (SMOKE_RUNS if args.smoke else MIN_RUNS)
    names = args.only or list(GROUPS)
    machine = describe_machine()
    started = time.perf_counter()
    sections = run_groups(names, runs, args.smoke)
    machine.load_after = load_average()
    print()
    print(terminal_table(sections))
    output = args.output or (None if args.smoke else REPO / "BENCHMARKS.md")
    if output is not None:
        text = markdown(sections, machine, python_command(argv), runs, time.perf_counter() - started)
        if args.only and not args.smoke and output.exists():  # one group rerun: the others' figures stay
            text = merge_report(output.read_text(), text, names)
        output.write_text(text)
        print(f"\nwrote {output}")
    return 0
