"""The live dashboard, measured from a real browser: `streamlit run dashboard.py` on 127.0.0.1 and Debian's
Chromium through Playwright (tests/browser/harness.py).

- Chart updates per second: a MutationObserver installed in the page timestamps every change of a
  chart's alt text (each redraw of the loss chart says "at step N") and of the Step metric, on the
  browser's own clock, while a NumPy run of seed 002's data trains asking for 10 updates/s.
- Throughput: steps per second shown in the browser over a window at the page's default update rate
  (from the Step metric's changes) against the same settings trained by the engine alone in this
  process for as long, back to back.
- CPU: the server's and Chromium's CPU seconds over each window, from /proc: on 2 cores with a
  software-rendered browser the two together are the machine's whole capacity.
- Points per chart: the rows of every chart dataset the server sent during a 1,000,000-step run,
  decoded from the websocket's messages.
- Frameworks on the real server: its /proc/PID/maps after the home page and NumPy and exact runs.
- Peak memory: the server's VmHWM after every page was visited, every implementation ran on a demo
  page (eager and compiled) and the Speed page measured them all.
"""
from __future__ import annotations

import math
import os
import re
import time
from pathlib import Path
from typing import Any

from fitcore import Run, RunConfig, is_available
from ui.page.settings import DEFAULT_RATE

from .stats import Section, paired, ratios, stat

UPDATE_TARGET = 10.0
POINTS_TARGET = 2000
THROUGHPUT_TARGET = 0.85  # issue 12 item 7
PAUSE_TARGET = 0.5  # issues 3, 6 and 11: a click on Pause halts the training within 0.5 s
RSS_TARGET_GB = 1.2
# The observer runs after every change the page makes, so it must cost next to nothing: it keeps the
# Step metric's value element and reads its textContent (innerText, or a search of every metric, would
# lay the page out again after each change and slow the very repaints it counts).
RECORDER = """
() => {
  window.__bench = {step: [], paints: [], clicks: []};
  // when the page dispatched each click (capture phase: before the button's own handler runs)
  document.addEventListener('click', () => window.__bench.clicks.push(performance.timeOrigin + performance.now()),
                            true);
  let element = null;
  const find = () => {
    for (const metric of document.querySelectorAll('[data-testid="stMetric"]')) {
      const label = metric.querySelector('[data-testid="stMetricLabel"]');
      if (label && label.textContent.trim() === 'Step') return metric.querySelector('[data-testid="stMetricValue"]');
    }
    return null;
  };
  const read = () => {
    if (element === null || !element.isConnected) element = find();
    return element === null ? null : element.textContent.trim();
  };
  let last = read();
  new MutationObserver(() => {
    const value = read();
    if (value !== null && value !== last) { last = value; window.__bench.step.push([performance.now(), value]); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
  // Vega's canvas renderer clears its canvas once per repaint: count those, per chart.
  const clear = CanvasRenderingContext2D.prototype.clearRect;
  CanvasRenderingContext2D.prototype.clearRect = function (...args) {
    const chart = this.canvas.closest && this.canvas.closest('[data-testid="stVegaLiteChart"]');
    if (chart) window.__bench.paints.push([performance.now(), (chart.getAttribute('aria-label') || '').slice(0, 24)]);
    return clear.apply(this, args);
  };
}
"""
LOSS_PREFIX = "Loss against step"
# Installed before the page's own scripts: React reports every commit (one pass that applies new elements
# to the page) to a devtools hook when one is present. Every commit re-renders the blocks above the
# changed elements, and inside st.tabs each one also makes react-aria search the tab panel for a focusable
# element (a forced style recalculation), so commits per chart update are what a redraw costs the browser.
COMMIT_COUNTER = """
(() => {
  window.__commits = 0;
  window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    supportsFiber: true, isDisabled: false, renderers: new Map(),
    inject(renderer) { const id = this.renderers.size + 1; this.renderers.set(id, renderer); return id; },
    onCommitFiberRoot() { window.__commits += 1; }, onCommitFiberUnmount() {}, onPostCommitFiberRoot() {},
    onScheduleFiberRoot() {}, checkDCE() {},
  };
})();
"""


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = task / "children"
        if children.exists():
            found += [int(c) for c in children.read_text().split()]
    return found


def _descendants(pid: int) -> list[int]:
    result, frontier = [], [pid]
    while frontier:
        nxt = []
        for p in frontier:
            try:
                kids = _children(p)
            except OSError:
                kids = []
            result += kids
            nxt += kids
        frontier = nxt
    return result


def _mapped_frameworks(pid: int) -> list[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name, marker in (("torch", "libtorch"), ("tensorflow", "_pywrap_tensorflow")) if marker in maps]


def _run_and_wait(page: Any, path: str, query: dict[str, Any], timeout: float = 300) -> None:
    page.open(path, query)
    page.click("Run")
    anyway = page.button("Run anyway")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if anyway.count():
            anyway.first.click()
        text = page.page.locator('[data-testid="stMain"]').inner_text()
        if "Completed all" in text or "Diverged" in text or "Stopped" in text:
            page.wait_until_idle()
            return
        page.page.wait_for_timeout(200)
    raise TimeoutError(f"{path} {query} did not finish within {timeout:g} s")


def _cores_used(server_pid: int) -> tuple[float, float]:
    """CPU seconds used so far by the server's process group and by this process's Chromium processes."""
    from tests.browser.harness import ProcessGroupMemory, cpu_seconds, descendants
    browser = [pid for pid, name in descendants(os.getpid()) if name.startswith("chrom")]
    return ProcessGroupMemory(server_pid).read()[1], cpu_seconds(browser)


def _thread_seconds(pid: int) -> dict[int, float]:
    """CPU seconds used so far by each thread of a process."""
    from tests.browser.harness import stat_cpu_seconds
    return {int(task.name): stat_cpu_seconds(task / "stat") for task in Path(f"/proc/{pid}/task").iterdir()}


def _renderer_task_seconds(cdp: Any) -> float:
    """Time the page's renderer main thread has spent running tasks (script, style, layout, paint)."""
    return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == "TaskDuration")


def _halted_after(log: str, clicked: float) -> float:
    """Seconds from a click (unix time) to the first "training halted" line the server logged after it."""
    halts = [float(when) for when in re.findall(r"training halted at step \d+ of \d+ \(\w+; unix time ([\d.]+)\)", log)]
    return next((when - clicked for when in halts if when >= clicked - 0.05), math.inf)


def _live_window(page: Any, config: RunConfig, seconds: float, rate: int, server: Any) -> dict[str, float]:
    """Start a long NumPy run in the browser at ``rate`` updates/s, record ``seconds`` of it, pause it."""
    server_pid = server.process.pid
    page.open("quadratic-recovery", {"impl": config.impl, "steps": str(config.steps), "rate": str(rate)})
    page.page.evaluate(RECORDER)
    page.click("Run")
    page.wait_for_step_above(0, timeout=120)
    page.page.wait_for_timeout(500)  # past the first redraws, which also paint the static layers
    cdp = page.page.context.new_cdp_session(page.page)
    cdp.send("Performance.enable")
    renderer_before = _renderer_task_seconds(cdp)
    commits_before = page.page.evaluate("() => window.__commits || 0")
    threads_before = _thread_seconds(server_pid)
    cpu_before, wall_before = _cores_used(server_pid), time.perf_counter()
    begin = page.page.evaluate("() => performance.now()")
    page.page.wait_for_timeout(seconds * 1000)
    end = page.page.evaluate("() => performance.now()")
    cpu_after, wall = _cores_used(server_pid), time.perf_counter() - wall_before
    threads_after = _thread_seconds(server_pid)
    renderer_busy = _renderer_task_seconds(cdp) - renderer_before
    commits = page.page.evaluate("() => window.__commits || 0") - commits_before
    cdp.detach()
    # the busiest thread of the server is the script thread that trains and redraws
    busiest = max((threads_after[t] - threads_before.get(t, 0.0) for t in threads_after), default=0.0)
    steps, paints = page.page.evaluate("() => [window.__bench.step, window.__bench.paints]")
    page.click("Pause")
    page.wait_until_idle()
    clicked = page.page.evaluate("() => window.__bench.clicks.at(-1)") / 1000.0
    pause_to_halt = _halted_after(server.log(), clicked)
    inside = [(t, int(v.replace(",", ""))) for t, v in steps if begin <= t <= end]
    seconds = (end - begin) / 1000
    per_chart: dict[str, int] = {}
    for t, label in paints:
        if begin <= t <= end:
            per_chart[label] = per_chart.get(label, 0) + 1
    main = {k: v for k, v in per_chart.items() if not k[:1].isdigit()}  # not the notebook's small multiples
    span = (inside[-1][0] - inside[0][0]) / 1000 if len(inside) > 1 else 0.0
    loss_paints = sum(v for k, v in per_chart.items() if k.startswith(LOSS_PREFIX))
    return {"commits_per_update": commits / loss_paints if loss_paints else 0.0,
            "renderer_ms_per_update": 1000 * renderer_busy / loss_paints if loss_paints else 0.0,
            "script_ms_per_update": 1000 * busiest / loss_paints if loss_paints else 0.0,
            "steps_per_second": (inside[-1][1] - inside[0][1]) / span if span > 0 else 0.0,
            "loss_updates_per_second": sum(v for k, v in per_chart.items() if k.startswith(LOSS_PREFIX)) / seconds,
            "chart_updates_per_second": min(main.values(), default=0) / seconds,
            "step_updates_per_second": max(len(inside) - 1, 0) / span if span > 0 else 0.0,
            "server_cores": (cpu_after[0] - cpu_before[0]) / wall, "browser_cores": (cpu_after[1] - cpu_before[1]) / wall,
            "script_thread_cores": busiest / wall, "renderer_busy": renderer_busy / wall,
            "pause_to_halt_s": pause_to_halt}


def _engine_alone(config: RunConfig, seconds: float) -> float:
    run = Run(config)
    run.prepare()
    started = time.perf_counter()
    run.advance(max_seconds=seconds)
    return run.step / (time.perf_counter() - started)


def _chart_rows(messages: list[tuple[float, bytes]]) -> dict[str, int]:
    """The largest number of rows each chart (by alt text) was sent with."""
    import pyarrow as pa
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    largest: dict[str, int] = {}
    for _, data in messages:
        message = ForwardMsg()
        try:
            message.ParseFromString(data)
        except Exception:  # not a ForwardMsg: nothing to count
            continue
        if message.WhichOneof("type") != "delta" or message.delta.WhichOneof("type") != "new_element":
            continue
        element = message.delta.new_element
        if element.WhichOneof("type") != "vega_lite_chart":
            continue
        chart = element.vega_lite_chart
        rows = 0
        for dataset in chart.datasets:
            rows += pa.ipc.open_stream(dataset.data.data).read_all().num_rows
        name = (chart.alt or "chart")[:40]
        largest[name] = max(largest.get(name, 0), rows)
    return largest


def _cpu_text(windows: list[dict[str, float]]) -> str:
    server = stat([w["server_cores"] for w in windows], "cores")
    browser = stat([w["browser_cores"] for w in windows], "cores")
    script = stat([w["script_thread_cores"] for w in windows], "cores")
    renderer = stat([100 * w["renderer_busy"] for w in windows], "%")
    return (f"CPU in those windows: the server {server.text()}, of which its script thread (training and "
            f"redrawing; the engine alone keeps one core busy) {script.text()}; Chromium (software rendering, no "
            f"GPU) {browser.text()}, its page's renderer main thread (where Vega and React run, one thread) busy "
            f"{renderer.text()} of the time (CDP Performance.getMetrics, TaskDuration); of the {os.cpu_count()} "
            f"cores this machine has.")


def _say(text: str, started: float) -> None:
    print(f"  [live] {text} ({time.perf_counter() - started:.0f} s)", flush=True)


def browser_section(name: str, title: str, doc: str) -> tuple[Section, bool]:
    """A browser group's section with its notes (the module docstring's list), and whether Chromium and
    Playwright are here to measure with (if not, the section says so in a row)."""
    section = Section(name, title)
    section.notes.append(re.sub(r"\n(?!- )\s*", " ", doc.split("\n\n", 1)[1].strip()))
    try:
        from tests.browser.harness import chromium_available
        import playwright  # noqa: F401
    except ImportError as error:
        section.add("browser measurements", f"skipped: {error}")
        return section, False
    if not chromium_available():
        section.add("browser measurements", "skipped: no Chromium at /usr/bin/chromium (apt-get install chromium)")
        return section, False
    return section, True


def run_group(runs: int, smoke: bool) -> Section:
    began = time.perf_counter()
    section, measurable = browser_section("live", "The live dashboard in a real browser", __doc__)
    if not measurable:
        return section
    from tests.browser.harness import ChromiumBrowser, StreamlitServer

    window = 1.0 if smoke else 5.0
    config = RunConfig.notebook("quadratic-recovery", impl="numpy", steps=10_000_000)
    with StreamlitServer(env={"FITCORE_MAX_SECONDS": "900"}) as server, ChromiumBrowser() as browser:
        pid = server.process.pid
        _say("server and browser up", began)
        page = browser.dashboard(server)
        page.page.add_init_script(COMMIT_COUNTER)
        page.open("")
        for impl in ("numpy", "analytic"):
            _run_and_wait(page, "linear-2x", {"impl": impl, "steps": "300"})
        loaded = _mapped_frameworks(pid)
        section.add("real server after the home page and NumPy / exact runs: torch or tensorflow mapped",
                    ", ".join(loaded) or "none", "none", not loaded, f"/proc/{pid}/maps checked for libtorch and "
                    "_pywrap_tensorflow")

        _say("imports checked", began)
        live_runs = runs if not smoke else 1
        # The update target needs 10 redraws a second asked for; throughput is judged at the page's default.
        fast = [_live_window(page, config, window, 10, server) for _ in range(live_runs)]
        live = []

        def in_browser() -> float:
            measured = _live_window(page, config, window, DEFAULT_RATE, server)
            live.append(measured)
            return measured["steps_per_second"]

        ui_rates, engine_rates = paired(in_browser, lambda: _engine_alone(config, window), live_runs)
        loss_rate = stat([m["loss_updates_per_second"] for m in fast], "/s")
        section.add("chart updates per second while training at 10 updates/s (loss chart repaints)", loss_rate,
                    f"≥ {UPDATE_TARGET:g}/s", loss_rate.median >= UPDATE_TARGET,
                    f"the least-repainted of the four charts: "
                    f"{stat([m['chart_updates_per_second'] for m in fast], '/s').text()}; Step metric changes "
                    f"(MutationObserver): {stat([m['step_updates_per_second'] for m in fast], '/s').text()}; "
                    f"{window:g} s windows of {config.impl} on quadratic-recovery; repaints counted by Vega's "
                    f"canvas clearRect calls. {_cpu_text(fast)}")
        share = ratios(ui_rates, engine_rates, "")
        section.add(f"training throughput with live charts ÷ the engine alone (default {DEFAULT_RATE} updates/s)",
                    share, f"≥ {THROUGHPUT_TARGET:.0%}", share.median >= THROUGHPUT_TARGET,
                    f"browser {stat(ui_rates, 'steps/s').text()}; engine alone {stat(engine_rates, 'steps/s').text()}"
                    f" (this process, same settings, same length, back to back). {_cpu_text(live)}")

        halts = [m["pause_to_halt_s"] for m in fast + live]
        slowest = max(halts)
        section.add("click on Pause → training halted (server's log, unix clock)", stat(halts, " s"),
                    f"≤ {PAUSE_TARGET:g} s each", slowest <= PAUSE_TARGET,
                    f"every window above ends with a click on Pause; slowest {slowest:.3f} s. The click's time is "
                    "when the page dispatched it (performance.timeOrigin + now, in a capture-phase listener), the "
                    "halt's the server's log line (same machine, same clock)")

        _say("live windows done", began)
        start = time.monotonic()
        million = "20000" if smoke else "1000000"
        _run_and_wait(page, "quadratic-recovery", {"impl": "numpy", "compiled": "1", "steps": million})
        rows = _chart_rows(page.received_between(start, time.monotonic()).messages)
        largest = max(rows.values(), default=0)
        section.add(f"points per chart during a {int(million):,}-step run (largest dataset sent)", f"{largest:,}",
                    f"≤ {POINTS_TARGET:,}", 0 < largest <= POINTS_TARGET,
                    "; ".join(f"{name}…: {count:,}" for name, count in sorted(rows.items())) +
                    " (NumPy Gram path; rows summed over each chart's datasets)")

        _say(f"{int(million):,}-step run done", began)
        if not smoke:  # every page, every implementation (eager and compiled), then the Speed page's eleven
            for path in ("", "quadratic-bias", "linear-2x", "sine-cubic", "custom"):
                page.open(path)
            implementations = [i for i in ("numpy", "torch-manual", "torch-autograd", "torch-nn", "tf-tape")
                               if is_available(i)]
            for impl in implementations:
                for compiled in ("0", "1"):
                    _run_and_wait(page, "quadratic-recovery", {"impl": impl, "compiled": compiled, "steps": "300"})
            _run_and_wait(page, "quadratic-recovery", {"impl": "analytic", "steps": million})
            _say("every implementation ran", began)
            page.open("speed")
            page.click("Measure")
            page.page.get_by_text("Why they differ").wait_for(timeout=600_000)
            page.wait_until_idle()
        peak = _status_kb(pid, "VmHWM") / 1024**2
        now = _status_kb(pid, "VmRSS") / 1024**2
        helpers = sum(_status_kb(p, "VmRSS") for p in _descendants(pid) if Path(f"/proc/{p}").exists()) / 1024**2
        section.add("server peak RSS after every page and every implementation" + (" (smoke: NumPy only)" if smoke
                                                                                    else ""), f"{peak:.2f} GB",
                    f"≤ {RSS_TARGET_GB:g} GB", peak <= RSS_TARGET_GB,
                    f"VmHWM of the server process (one sample: a peak over the whole session); RSS now {now:.2f} GB; "
                    f"its child processes (torch.compile workers) {helpers:.2f} GB more")
    return section

