"""Many users at once: one real `streamlit run` server on 127.0.0.1, Debian's Chromium with one Playwright
context (its own cookies, its own Streamlit session) per user, every user on a different page and settings.

1. Ten sessions each train to completion at the same time; each one's final numbers (the step, the loss and
   every line the notebook prints, final parameters included) equal the same settings run alone through
   the CLI (`python -m fitcore run ... --json`): no state is shared between sessions.
2. Five sessions load PyTorch and TensorFlow and train with them at the same time: the server's memory
   stays under 2 GB (Community Cloud allows about 2.7 GB).

Measured and written to artifacts/load-test.json: the server's peak resident memory (all processes of its
process group, sampled from /proc), each session's time to its first chart and from Run to the finished
run, and the intervals between chart updates (each redraw changes the Step metric; its changes are
timed in the page on the browser's clock). Bounded: fixed sessions, short NumPy/exact runs in the first
test, a deadline on everything; the server and the browser are closed whatever happens.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import math
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Coroutine, Mapping

import pytest

try:
    from playwright.async_api import TimeoutError as PlaywrightTimeout
except ImportError:  # without playwright every test here skips (conftest says why)
    PlaywrightTimeout = TimeoutError

from ui.page.view import short_number

from conftest import unavailable

from .conftest import _missing
from .harness import (button_name, shows_label, CHROMIUM, CHROMIUM_FLAGS, PROJECTOR, REPO, STEP_METRIC_READER, ProcessGroupMemory, StreamlitServer,
                      descendants, write_measurements)

pytestmark = pytest.mark.browser

ARTIFACT = "load-test"
# Seconds for all sessions of a test, from the first page load to the last reading: a bound that stops the
# test, not a speed it asserts. README command 2 runs the suite in two processes, so another test shares the
# two cores meanwhile: there, TensorFlow's session was still importing it after 150 s (68 s alone).
DEADLINE = 360.0
MEMORY_LIMIT_MB = 2048    # issue 6: five sessions using both frameworks stay under 2 GB

# URL keys -> the CLI's options (a demo's own settings; "custom" adds its data source).
CLI_OPTIONS = {"nb": "--variant", "impl": "--impl", "opt": "--optimizer", "lr": "--lr", "steps": "--steps",
               "seed": "--seed", "red": "--reduction", "dtype": "--dtype", "points": "--points", "noise": "--noise",
               "fn": "--function", "xmin": "--x-min", "xmax": "--x-max", "deg": "--degree"}
CLI_FLAGS = {"compiled": "--compile", "std": "--standardise"}
VIEW_ONLY = {"rate", "src"}

# Ten users, ten different runs, each a few tenths of a second of NumPy or exact steps when alone.
SESSIONS: tuple[tuple[str, dict[str, str]], ...] = (
    ("linear-2x", {"impl": "numpy", "steps": "15000", "rate": "10"}),
    ("linear-2x", {"nb": "pytorch", "impl": "numpy", "lr": "0.0005", "steps": "10000", "seed": "3", "points": "50",
                   "noise": "0.5", "rate": "20"}),
    ("quadratic-bias", {"impl": "numpy", "lr": "0.001", "steps": "10000", "points": "200", "rate": "10"}),
    ("quadratic-bias", {"impl": "analytic", "lr": "0.0005", "steps": "5000000", "dtype": "float64", "rate": "5"}),
    ("quadratic-recovery", {"impl": "numpy", "compiled": "1", "steps": "20000", "seed": "7", "rate": "10"}),
    ("quadratic-recovery", {"impl": "analytic", "opt": "momentum", "steps": "300000", "dtype": "float64",
                            "rate": "10"}),
    ("sine-cubic", {"impl": "numpy", "steps": "1000", "rate": "10"}),
    ("sine-cubic", {"impl": "numpy", "opt": "adam", "lr": "0.01", "steps": "2000", "points": "500", "red": "mean",
                    "rate": "20"}),
    ("custom", {"src": "function", "fn": "0.5*x**3 - sin(2*x)", "impl": "numpy", "steps": "10000", "rate": "10"}),
    ("custom", {"src": "function", "fn": "sin(3*x) + 0.2*x", "xmin": "-3", "xmax": "3", "deg": "5", "std": "1",
                "impl": "numpy", "opt": "momentum", "steps": "5000", "rate": "10"}),
)

# Five users on PyTorch and TensorFlow (both frameworks in one server process).
FRAMEWORK_SESSIONS: tuple[tuple[str, dict[str, str]], ...] = (
    ("quadratic-bias", {"impl": "tf-tape", "steps": "600", "rate": "10"}),
    ("quadratic-recovery", {"impl": "torch-autograd", "steps": "3000", "rate": "10"}),
    ("sine-cubic", {"nb": "nn-rmsprop", "impl": "torch-nn", "steps": "1000", "rate": "10"}),
    ("linear-2x", {"impl": "tf-tape", "compiled": "1", "steps": "20000", "rate": "10"}),
    ("custom", {"src": "function", "fn": "x**2 - 1", "impl": "torch-manual", "steps": "2000", "rate": "10"}),
)

# Installed before the app's scripts: when the first chart appears (ms since navigation), every change of the
# Step metric, and the time of each click, all on the page's own clock (performance.now()).
RECORDER = """
(() => {
  window.__firstChart = null; window.__steps = []; window.__clicks = [];
""" + STEP_METRIC_READER + """  let last = null;
  const check = () => {
    if (window.__firstChart === null && document.querySelector('[data-testid="stVegaLiteChart"] canvas')) {
      window.__firstChart = performance.now();
    }
    const now = read();
    if (now !== null && now !== last) { last = now; window.__steps.push([performance.now(), now]); }
  };
  const start = () => {
    new MutationObserver(check).observe(document.body, {subtree: true, childList: true, characterData: true});
    document.addEventListener('pointerdown', (event) => {
      const button = event.target.closest('button');
      window.__clicks.push([performance.now(), button ? button.innerText.trim() : '']);
    }, true);
  };
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
"""
RUN_BUTTON = button_name("Run")
ANYWAY = button_name("Run anyway")
STATUS_WIDGET = '[data-testid="stStatusWidget"]'


# --- one user ----------------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What one user saw. Times are measured twice: when the page painted it (the browser's clock) and when
    the server's message carrying it reached the browser's socket (the test's clock, through Playwright)."""

    page: str
    query: dict[str, str]
    first_chart_s: float | None = None            # navigation -> first chart painted
    first_chart_received_s: float | None = None   # navigation -> first chart message received
    first_chart_served_s: float | None = None     # the page's socket opened -> first chart message received
    run_to_finished_s: float | None = None        # click on Run -> last Step change painted
    run_to_finished_received_s: float | None = None
    update_intervals_s: list[float] = field(default_factory=list)           # between painted Step changes
    update_intervals_received_s: list[float] = field(default_factory=list)  # between chart messages
    status: str = ""
    confirmed: bool = False                       # the page asked before a run estimated over a minute
    step: int | None = None
    loss: str = ""
    codes: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)


async def wait_until_idle(page: Any, deadline: float, settle: float = 0.5) -> None:
    """Until no script is running (no running-status widget) for ``settle`` seconds."""
    quiet_since = None
    while time.monotonic() < deadline:
        busy = await page.locator(STATUS_WIDGET).count()
        if busy:
            quiet_since = None
        else:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle:
                return
        await page.wait_for_timeout(100)
    raise TimeoutError("the page did not become idle before the deadline")


async def metric(page: Any, label: str) -> str:
    for box in await page.locator('[data-testid="stMetric"]').all():
        name = box.locator('[data-testid="stMetricLabel"]')
        if await name.count() and (await name.inner_text()).strip() == label:
            return (await box.locator('[data-testid="stMetricValue"]').inner_text()).strip()
    raise AssertionError(f"no metric labelled {label!r}")


def element_times(frames: list[tuple[float, Any]], kind: str, label: str | None = None) -> list[float]:
    """When each message that draws an element of ``kind`` (with this label, if given) arrived."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    times = []
    for at, payload in frames:
        message = ForwardMsg()
        try:
            message.ParseFromString(payload if isinstance(payload, bytes) else str(payload).encode())
        except Exception:  # not a ForwardMsg: not an element
            continue
        if message.WhichOneof("type") != "delta" or message.delta.WhichOneof("type") != "new_element":
            continue
        element = message.delta.new_element
        if element.WhichOneof("type") == kind and (label is None or getattr(element, kind).label == label):
            times.append(at)
    return times


async def one_user(browser: Any, server: StreamlitServer, page_path: str, query: Mapping[str, str],
                   finished: str, deadline: float) -> Outcome:
    """Open the page with these settings, press Run, wait for the ``finished`` status line, read the page."""
    outcome = Outcome(page_path, dict(query))
    context = await browser.new_context(viewport=PROJECTOR, reduced_motion="reduce")
    page = await context.new_page()
    frames: list[tuple[float, Any]] = []
    opened: list[float] = []

    def watch(socket: Any) -> None:
        opened.append(time.monotonic())
        socket.on("framereceived", lambda payload: frames.append((time.monotonic(), payload)))
    page.on("websocket", watch)
    try:
        await page.add_init_script(RECORDER)
        navigated = time.monotonic()
        await page.goto(server.url(page_path, query), wait_until="domcontentloaded")
        await page.locator('[data-testid="stVegaLiteChart"] canvas').first.wait_for(
            timeout=(deadline - time.monotonic()) * 1000)
        await wait_until_idle(page, deadline)
        first = await page.evaluate("() => window.__firstChart")
        outcome.first_chart_s = first / 1000 if first is not None else None
        before_run = len(frames)
        clicked_here = time.monotonic()
        main = page.locator('[data-testid="stMain"]')
        await main.get_by_role("button", name=RUN_BUTTON).first.click()
        # A server this busy may time these settings slowly and ask before a run it estimates over a
        # minute: answer as a user would, then wait for the end.
        done, anyway = page.get_by_text(finished, exact=True).first, main.get_by_role("button", name=ANYWAY)
        while not await done.is_visible():
            if await anyway.count():
                try:
                    await anyway.first.click(timeout=2000)
                    outcome.confirmed = True
                except PlaywrightTimeout:  # gone by the time of the click: the page moved on without it
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{finished!r} did not appear in time")
            await page.wait_for_timeout(250)
        await wait_until_idle(page, deadline)
        changes, clicks = await page.evaluate("() => [window.__steps, window.__clicks]")
        clicked = next(t for t, text in reversed(clicks) if shows_label(text, "Run")) / 1000
        during = [t / 1000 for t, _ in changes if t / 1000 >= clicked]
        outcome.run_to_finished_s = during[-1] - clicked if during else None
        outcome.update_intervals_s = [b - a for a, b in zip(during, during[1:])]
        charts = element_times(frames[:before_run], "vega_lite_chart")
        outcome.first_chart_received_s = charts[0] - navigated if charts else None
        outcome.first_chart_served_s = charts[0] - opened[0] if charts and opened else None
        redraws = element_times(frames[before_run:], "metric", "Step")  # every redraw sends the Step metric
        outcome.run_to_finished_received_s = redraws[-1] - clicked_here if redraws else None
        outcome.update_intervals_received_s = [b - a for a, b in zip(redraws, redraws[1:])]
        outcome.status = finished
        outcome.step = int((await metric(page, "Step")).replace(",", ""))
        outcome.loss = await metric(page, "Loss")
        outcome.codes = [await code.inner_text() for code in
                         await page.locator('[data-testid="stCode"] code').filter(visible=True).all()]
        outcome.exceptions = [await box.inner_text() for box in await page.locator('[data-testid="stException"]').all()]
    except Exception as error:  # say what the page showed instead
        alerts = [await box.inner_text() for box in await page.locator('[data-testid="stAlert"]').all()]
        raise AssertionError(f"{page_path} {dict(query)}: {type(error).__name__}; the page shows {alerts}") from error
    finally:
        await context.close()
    return outcome


async def keep_browsers_yielding(niceness: int = 15) -> None:
    """The ten browsers stand for ten people's own computers; here they share the server's two cores. At a
    low scheduling priority they take what the server leaves, so its timings are the server's own."""
    while True:
        for pid, name in descendants(os.getpid()):
            if name.startswith(("chrom", "headless")):
                try:
                    os.setpriority(os.PRIO_PROCESS, pid, max(niceness, os.getpriority(os.PRIO_PROCESS, pid)))
                except OSError:
                    continue  # ended, or not ours
        await asyncio.sleep(0.5)


async def all_users(server: StreamlitServer, sessions: tuple[tuple[str, dict[str, str]], ...],
                    finished: list[str]) -> list[Outcome]:
    from playwright.async_api import async_playwright
    deadline = time.monotonic() + DEADLINE
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_FLAGS))
        try:
            # The first session on a fresh server may answer a deep link with "Page not found" (streamlit#8860).
            warm = await browser.new_page()
            await warm.goto(server.url(""), wait_until="domcontentloaded")
            await warm.get_by_role("heading", name="See gradient descent").wait_for(timeout=60_000)
            await warm.close()
            users = [one_user(browser, server, page, query, text, deadline)
                     for (page, query), text in zip(sessions, finished)]
            yielding = asyncio.create_task(keep_browsers_yielding())
            try:
                return await asyncio.wait_for(asyncio.gather(*users), timeout=DEADLINE + 10)
            finally:
                yielding.cancel()
        finally:
            await browser.close()


def in_own_event_loop(work: Coroutine[Any, Any, list[Outcome]]) -> list[Outcome]:
    """asyncio.run on a thread of its own: an earlier test's sync Playwright leaves this thread's loop running."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


def serve_and_measure(sessions: tuple[tuple[str, dict[str, str]], ...], finished: list[str]
                      ) -> tuple[list[Outcome], ProcessGroupMemory, float, float]:
    """Start a server, let every session train at once, and close the server and the browser whatever happens."""
    why = _missing()
    if why:
        unavailable(why)
    with StreamlitServer() as server:
        assert server.process is not None
        with ProcessGroupMemory(server.process.pid) as memory:
            idle_mb = memory.current_mb()
            began = time.monotonic()
            outcomes = in_own_event_loop(all_users(server, sessions, finished))
            seconds = time.monotonic() - began
    return outcomes, memory, idle_mb, seconds


# --- the same settings alone, through the CLI --------------------------------------------------------------------

def cli_arguments(page: str, query: Mapping[str, str]) -> list[str]:
    arguments = ["run", page]
    for name, value in query.items():
        if name in CLI_FLAGS:
            arguments += [CLI_FLAGS[name]] if value == "1" else []
        elif name not in VIEW_ONLY:
            arguments.append(f"{CLI_OPTIONS[name]}={value}")
    return arguments + ["--json"]


def alone(page: str, query: Mapping[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "fitcore", *cli_arguments(page, query)], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- reporting -----------------------------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


def rounded(values: list[float | None]) -> list[float | None]:
    return [round(v, 3) if v is not None else None for v in values]


def spread(values: list[float]) -> dict[str, float | None]:
    return {"p50": round(percentile(values, 0.5), 3) if values else None,
            "p95": round(percentile(values, 0.95), 3) if values else None,
            "max": round(max(values), 3) if values else None}


def summary(outcomes: list[Outcome], memory: ProcessGroupMemory, idle_mb: float, seconds: float) -> dict[str, Any]:
    return {
        "sessions": len(outcomes),
        "cpu_cores": os.cpu_count(),
        "wall_seconds": round(seconds, 1),
        "server_peak_rss_mb": round(memory.peak_mb, 1),
        "server_rss_before_sessions_mb": round(idle_mb, 1),
        "server_cpu_seconds": round(memory.cpu_seconds, 1),
        "time_to_first_chart_painted_s": rounded([o.first_chart_s for o in outcomes]),
        "time_to_first_chart_received_s": rounded([o.first_chart_received_s for o in outcomes]),
        "time_to_first_chart_served_s": rounded([o.first_chart_served_s for o in outcomes]),
        "run_to_finished_painted_s": rounded([o.run_to_finished_s for o in outcomes]),
        "run_to_finished_received_s": rounded([o.run_to_finished_received_s for o in outcomes]),
        "chart_updates_painted": sum(len(o.update_intervals_s) + 1 for o in outcomes),
        "chart_update_interval_painted_s": spread([i for o in outcomes for i in o.update_intervals_s]),
        "chart_update_interval_received_s": spread([i for o in outcomes for i in o.update_intervals_received_s]),
        "runs": [{"page": o.page, "query": o.query, "asked_to_confirm": o.confirmed} for o in outcomes],
    }


def record(section: str, values: Mapping[str, Any]) -> None:
    """Add one test's figures to artifacts/load-test.json, keeping the other test's."""
    path = REPO / "artifacts" / f"{ARTIFACT}.json"
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        stored = {}
    stored[section] = dict(values) | {"measured_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    write_measurements(ARTIFACT, stored)
    print(f"\n{section}: {json.dumps(values, indent=1)}")


# --- the tests -----------------------------------------------------------------------------------------------------

def test_that_ten_concurrent_sessions_each_finish_with_the_numbers_of_the_same_run_alone() -> None:
    assert len({(page, tuple(sorted(query.items()))) for page, query in SESSIONS}) == len(SESSIONS) == 10
    assert len({page for page, _ in SESSIONS}) == 5
    expectations = [alone(page, query) for page, query in SESSIONS]  # before the server starts: no load on it
    assert all(expected["status"] == "completed" for expected in expectations)
    outcomes, memory, idle_mb, seconds = serve_and_measure(SESSIONS, [e["message"] for e in expectations])
    record("ten_sessions_numpy_and_exact", summary(outcomes, memory, idle_mb, seconds))
    for outcome, expected in zip(outcomes, expectations):
        where = f"{outcome.page} {outcome.query}"
        assert outcome.exceptions == [], where
        assert outcome.step == expected["final"]["step"], where
        assert outcome.loss == short_number(expected["final"]["loss"]), where
        assert "\n".join(expected["log"]) in [code.strip() for code in outcome.codes], (where, outcome.codes)
        assert outcome.first_chart_s is not None, f"{where}: no chart was drawn"


def test_that_five_sessions_using_pytorch_and_tensorflow_keep_the_server_under_2_gb() -> None:
    frameworks = {"torch", "tensorflow"}
    for framework in frameworks:
        if not __import__("fitcore").framework_available(framework):
            unavailable(f"{framework} is not installed")
    outcomes, memory, idle_mb, seconds = serve_and_measure(
        FRAMEWORK_SESSIONS, [f"Completed all {int(query['steps']):,} steps." for _, query in FRAMEWORK_SESSIONS])
    record("five_sessions_pytorch_and_tensorflow", summary(outcomes, memory, idle_mb, seconds))
    for outcome in outcomes:
        assert outcome.exceptions == [] and outcome.step == int(outcome.query["steps"]), outcome
    assert memory.peak_mb < MEMORY_LIMIT_MB, f"the server peaked at {memory.peak_mb:.0f} MB"
