"""Measurements that need a fresh process: `python -m benchmarks.probe KIND [ARGS]` prints one JSON line.

compile IMPL PROBLEM   seconds to import the framework, then to build and compile the run (its warm-up)
import MODULE          seconds and resident megabytes to import one module in a fresh interpreter
page-imports           frameworks loaded after the home page and after NumPy / exact runs on every page
render PAGE            seconds for a page's first script run in a fresh process, then for new sessions
speed-page             seconds for the Speed page's Measure: the first click, then a second one
compare PROBLEM RUNS   seconds for the Compare tab's three comparisons: once cold, RUNS times warm
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping

REPO = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def probe_compile(impl: str, problem: str) -> dict[str, Any]:
    from fitcore import Run, RunConfig, get_implementation
    from fitcore.impl import FRAMEWORK_MODULES
    framework = FRAMEWORK_MODULES[get_implementation(impl).framework]
    started = time.perf_counter()
    __import__(framework)
    imported = time.perf_counter() - started
    run = Run(RunConfig.notebook(problem, impl=impl, compiled=True, steps=1000))
    run.prepare()
    return {"import_s": imported, "compile_s": run.compile_seconds}


def probe_import(module: str) -> dict[str, Any]:
    before = _rss_mb()
    started = time.perf_counter()
    __import__(module)
    return {"import_s": time.perf_counter() - started, "rss_mb": _rss_mb() - before}


PAGE_FILES = {"home": "app_pages/home.py", "quadratic-bias": "app_pages/quadratic_bias.py", "linear-2x": "app_pages/linear_2x.py",
              "quadratic-recovery": "app_pages/quadratic_recovery.py", "sine-cubic": "app_pages/sine_cubic.py",
              "custom": "app_pages/custom_data.py", "speed": "app_pages/speed.py"}
FRAMEWORKS = ("torch", "tensorflow")


def _app(page: str, query: Mapping[str, str] | None = None) -> Any:
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=300)
    at.query_params.update(dict(query or {}))
    at.run()  # st.navigation registers the pages on a first run; then a page can be opened by file
    at.switch_page(PAGE_FILES[page])
    return at


def _loaded() -> list[str]:
    return [name for name in FRAMEWORKS if name in sys.modules]


def probe_page_imports() -> dict[str, Any]:
    """Which frameworks are loaded after the home page, and after NumPy and exact runs on every demo."""
    stages: dict[str, list[str]] = {}
    at = _app("home")
    at.run()
    stages["home page"] = _loaded()
    for page in ("quadratic-bias", "linear-2x", "quadratic-recovery", "sine-cubic", "custom"):
        for impl in ("numpy", "analytic"):
            at = _app(page, {"impl": impl, "steps": "300"})
            at.run()
            at.button(key=f"{page}:run").click().run()
            errors = [e.value for e in at.exception]
            key = f"state:{page}"
            runs = [at.session_state[key].run] if key in at.session_state else []
            done = [f"{r.config.impl} {r.status} at step {r.step}" for r in runs if r is not None]
            stages[f"{page}: {impl} run"] = _loaded() + [f"exception: {e}" for e in errors] + \
                ([] if done else ["no run"])
            stages.setdefault("runs", []).extend(done)
    at = _app("speed")
    at.run()
    stages["speed page (before Measure)"] = _loaded()
    return stages


def probe_render(page: str, repeats: int = 3) -> dict[str, Any]:
    """Seconds for the first script run of ``page`` in a fresh server process, then for new sessions."""
    import streamlit.testing.v1  # noqa: F401  (the server is up before anyone opens a page)
    at = _app(page)
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    warm = []
    for _ in range(repeats):
        at = _app(page)
        started = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - started)
    return {"cold_s": cold, "warm_s": sorted(warm)[len(warm) // 2], "exceptions": len(at.exception)}


def probe_speed_page() -> dict[str, Any]:
    """Seconds for Measure on the Speed page with its defaults: the first click in a fresh server (imports
    timed in fresh processes, frameworks loaded, paths compiled) and a second click."""
    at = _app("speed")
    at.run()
    seconds = []
    for _ in range(2):
        at.button(key="speed:go").click()
        started = time.perf_counter()
        at.run()
        seconds.append(time.perf_counter() - started)
    bars = sum(len(c.proto.datasets) for c in at.get("vega_lite_chart"))
    return {"first_s": seconds[0], "repeat_s": seconds[1], "entries": len(at.multiselect(key="speed:entries").value),
            "charts": bars, "exceptions": len(at.exception)}


def probe_compare(problem: str, runs: str) -> dict[str, Any]:
    """The Compare tab's three comparisons at their default sizes: once cold (imports, XLA compile), then
    ``runs`` times warm."""
    from fitcore import RunConfig
    from fitcore.compare import compare, plan_frameworks, plan_optimizers, plan_sweep
    config = RunConfig.notebook(problem)
    result: dict[str, Any] = {}
    for name, planner in (("frameworks", plan_frameworks), ("optimizers", plan_optimizers), ("sweep", plan_sweep)):
        samples = []
        for _ in range(int(runs) + 1):
            started = time.perf_counter()
            comparison = compare(planner(config))
            samples.append(time.perf_counter() - started)
        result[name] = {"cold_s": samples[0], "warm_s": samples[1:], "runs": len(comparison.outcomes),
                        "steps": comparison.plan.steps}
    return result


def run_probe(args: list[str], env: Mapping[str, str] | None = None, timeout: float = 300) -> dict[str, Any]:
    """Run this module in a fresh interpreter and return its JSON line."""
    full_env = os.environ | {"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"} | dict(env or {})
    result = subprocess.run([sys.executable, "-m", "benchmarks.probe", *args], cwd=REPO, env=full_env,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"probe {args} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def fresh_inductor_cache() -> tempfile.TemporaryDirectory:
    """An empty on-disk cache for torch.compile, so a probe compiles from nothing (a fresh machine)."""
    return tempfile.TemporaryDirectory(prefix="inductor-cache-")


def main(argv: list[str]) -> int:
    kind, *rest = argv
    if kind == "compile":
        print(json.dumps(probe_compile(*rest)))
    elif kind == "import":
        print(json.dumps(probe_import(*rest)))
    elif kind == "page-imports":
        print(json.dumps(probe_page_imports()))
    elif kind == "render":
        print(json.dumps(probe_render(*rest)))
    elif kind == "compare":
        print(json.dumps(probe_compare(*rest)))
    elif kind == "speed-page":
        print(json.dumps(probe_speed_page()))
    else:
        raise SystemExit(f"unknown probe {kind!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
