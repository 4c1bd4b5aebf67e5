"""Start-up: what the pages import, how long each page's first script run takes, the Speed page's Measure.

All in fresh processes (benchmarks/probe.py) driving the dashboard with Streamlit's AppTest, which runs
the page scripts exactly as the server does, minus the websocket: "server-side time to first render"
is the script run of a page's first session (cold: the server has just started and imports the UI's
modules on the way) and of later sessions (warm).
"""
from __future__ import annotations

from .probe import PAGE_FILES, run_probe
from .stats import Section, stat

SMOKE_PAGES = ("home",)


def run_group(runs: int, smoke: bool) -> Section:
    section = Section("startup", "Start-up: imports, first render, the Speed page")
    section.notes.append(__doc__.split("\n\n", 1)[1].replace("\n", " "))

    stages = run_probe(["page-imports"])
    completed = stages.pop("runs", [])
    leaks = {stage: loaded for stage, loaded in stages.items() if loaded}
    section.add("home page, Speed page and NumPy / exact runs on every page: torch or tensorflow imported",
                "none" if not leaks else "; ".join(f"{k}: {', '.join(v)}" for k, v in leaks.items()),
                "none (also asserted by tests/test_startup_imports.py)", not leaks,
                f"{len(stages)} stages checked in one fresh process; runs: {', '.join(completed)}")

    for page in (SMOKE_PAGES if smoke else tuple(PAGE_FILES)):
        cold, warm = [], []
        for _ in range(runs):
            result = run_probe(["render", page])
            cold.append(result["cold_s"])
            warm.append(result["warm_s"])
        section.add(f"first render of {page}: first session after server start", stat(cold, "s"))
        section.add(f"first render of {page}: a later session", stat(warm, "s"))

    if not smoke:
        first, repeat, entries = [], [], 0
        for _ in range(runs):
            result = run_probe(["speed-page"], timeout=600)
            first.append(result["first_s"])
            repeat.append(result["repeat_s"])
            entries = result["entries"]
        section.add(f"Speed page, Measure ({entries} implementations, defaults): first click after server start",
                    stat(first, "s"), note="includes timing 3 imports in fresh processes, importing PyTorch and "
                    "TensorFlow here, and compiling 3 torch.compile styles and 1 XLA loop (on-disk caches warm); "
                    "all kept for the server's life")
        section.add("Speed page, Measure: any later click", stat(repeat, "s"), "< 15 s",
                    sorted(repeat)[len(repeat) // 2] < 15.0, "11 × 0.4 s of training plus building each run")
    return section
