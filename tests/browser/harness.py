"""Drive the real dashboard: `streamlit run dashboard.py` on a loopback port, Debian's Chromium via Playwright.

Used by the browser tests (tests/browser/test_pages.py) and importable from benchmarks and load tests::

    from tests.browser.harness import StreamlitServer, ChromiumBrowser

    with StreamlitServer() as server, ChromiumBrowser() as browser:
        page = browser.dashboard(server)          # warmed: the home page was loaded once
        page.open("linear-2x", {"steps": "200"})
        page.click("Run")
        page.wait_for_status("Completed")
        page.screenshot("linear-2x")

The warm-up (the home page loaded once) only warms the server now: the "Page not found" a fresh
server's first deep link used to get came from Streamlit's legacy handling of a `pages/` folder, and
the pages now live in `app_pages/` (tests/browser/test_first_visit.py opens a deep link cold).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from deploy.replicas import end_process

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run")
ENABLE_HINT = "Chromium is not installed at /usr/bin/chromium: run `apt-get install -y chromium` (as root), then rerun"
SCREENSHOTS = REPO / "artifacts" / "screenshots"
PROJECTOR = {"width": 1280, "height": 720}
LOOPBACK = "127.0.0.1"

# Streamlit's frontend test ids (streamlit 1.67).
STATUS_WIDGET = '[data-testid="stStatusWidget"]'
EXCEPTION = '[data-testid="stException"]'
VEGA_CHART = '[data-testid="stVegaLiteChart"]'
METRIC = '[data-testid="stMetric"]'
METRIC_LABEL = '[data-testid="stMetricLabel"]'
METRIC_VALUE = '[data-testid="stMetricValue"]'
MAIN = '[data-testid="stMain"]'
ELEMENT = '[data-testid="stElementContainer"]'
SKELETON = '[data-testid="stSkeleton"]'


def chromium_available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


def free_port() -> int:
    """A port the kernel just handed out on the loopback interface (free unless someone races for it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


# --- the server ----------------------------------------------------------------------------------

class StreamlitServer:
    """`streamlit run <app>` as a subprocess on 127.0.0.1, ready once /_stcore/health answers "ok".

    ``env`` adds to (or overrides) the environment, e.g. FITCORE_MAX_SECONDS for a load test. The
    server's output goes to a log file, shown in the error when it fails to start.
    """

    def __init__(self, app: str = "dashboard.py", cwd: Path = REPO, env: Mapping[str, str] | None = None,
                 port: int | None = None, start_timeout: float = 90.0) -> None:
        self.app, self.cwd, self.port = app, Path(cwd), port
        self.env = dict(env or {})
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.warmed = False  # set once a tab has loaded the home page on this server
        self._log_dir = tempfile.TemporaryDirectory(prefix="streamlit-server-")
        self.log_path = Path(self._log_dir.name) / "server.log"

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def url(self, path: str = "", query: Mapping[str, Any] | None = None) -> str:
        text = f"{self.base_url}/{path.lstrip('/')}"
        return text + ("?" + urllib.parse.urlencode({k: str(v) for k, v in query.items()}) if query else "")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> "StreamlitServer":
        if self.process is not None:
            return self
        self.port = self.port or free_port()
        command = [sys.executable, "-m", "streamlit", "run", self.app,
                   "--server.headless", "true", "--server.address", LOOPBACK, "--server.port", str(self.port),
                   "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
        env = os.environ | {"PYTHONUNBUFFERED": "1"} | self.env
        with open(self.log_path, "wb") as log:
            # A session of its own, so stop() can end the server and anything it spawned, and only those.
            self.process = subprocess.Popen(command, cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {self.process.returncode}:\n{self.log()}")
            if self.healthy():
                return
            time.sleep(0.2)
        raise TimeoutError(f"streamlit did not answer {self.base_url}/_stcore/health within "
                           f"{self.start_timeout:g} s:\n{self.log()}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/_stcore/health", timeout=2) as response:
                return response.status == 200 and response.read().strip() == b"ok"
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        end_process(process, timeout)

    def close(self) -> None:
        self.stop()
        self._log_dir.cleanup()

    def __enter__(self) -> "StreamlitServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- the browser ------------------------------------------------------------------------------------

class ChromiumBrowser:
    """Debian's Chromium through Playwright, with a new empty profile, closed with everything it opened."""

    def __init__(self, viewport: Mapping[str, int] = PROJECTOR, color_scheme: str = "light") -> None:
        self.viewport, self.color_scheme = dict(viewport), color_scheme
        self._playwright: Any = None
        self._profile: str | None = None
        self.context: Any = None

    def start(self) -> "ChromiumBrowser":
        if not chromium_available():
            raise RuntimeError(ENABLE_HINT)
        from playwright.sync_api import sync_playwright
        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self._playwright = sync_playwright().start()
        try:
            self.context = self._playwright.chromium.launch_persistent_context(
                self._profile, executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_FLAGS),
                viewport=self.viewport, color_scheme=self.color_scheme, reduced_motion="reduce")
        except BaseException:
            self.close()
            raise
        return self

    def new_page(self) -> Any:
        return self.context.new_page()

    def dashboard(self, server: StreamlitServer, warm: bool | None = None) -> "DashboardPage":
        """A new tab on the dashboard. It loads the home page first when ``warm`` is True, or, by default,
        when no tab has done so on this server yet (streamlit#8860)."""
        page = DashboardPage(self.new_page(), server)
        if warm or (warm is None and not server.warmed):
            page.warm()
        return page

    def close(self) -> None:
        if self.context is not None:
            try:
                self.context.close()
            finally:
                self.context = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def __enter__(self) -> "ChromiumBrowser":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- one tab on the dashboard ------------------------------------------------------------------------

STEP_METRIC_READER = """
  const read = () => {
    for (const metric of document.querySelectorAll('[data-testid="stMetric"]')) {
      const label = metric.querySelector('[data-testid="stMetricLabel"]');
      const value = metric.querySelector('[data-testid="stMetricValue"]');
      if (label && value && label.innerText.trim() === 'Step') return value.innerText.trim();
    }
    return null;
  };
"""  # JavaScript: read() gives the "Step" metric's text, or null

# Installed into the page: records every change of the "Step" metric with performance.now(), and the
# time of each click, so latency is measured on the browser's own clock, free of Playwright's round trips.
_RECORDER = """
() => {
  if (window.__stepLog) { window.__stepLog.length = 0; window.__clicks.length = 0; return; }
  window.__stepLog = [];
  window.__clicks = [];
""" + STEP_METRIC_READER + """  let last = read();
  const check = () => {
    const now = read();
    if (now !== null && now !== last) { last = now; window.__stepLog.push([performance.now(), now]); }
  };
  new MutationObserver(check).observe(document.body, {subtree: true, childList: true, characterData: true});
  document.addEventListener('pointerdown', (event) => {
    const button = event.target.closest('button');
    window.__clicks.push([performance.now(), button ? button.innerText.trim() : '']);
  }, true);
}
"""

# Installed before the app's own scripts: the time of every message the page sends to the server, so a
# click's delay inside a busy browser (click -> message sent) can be told apart from the server's, and the
# time and size of every message it receives, so the server's replies are timed on the page's clock too
# (Playwright hands frames to Python late, by up to a second while the browser is busy).
_SOCKET_RECORDER = """
(() => {
  window.__sent = [];
  window.__received = [];
  const Native = window.WebSocket;
  const send = Native.prototype.send;
  Native.prototype.send = function (data) {
    window.__sent.push(performance.now());
    return send.call(this, data);
  };
  class Recorded extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        const data = event.data;
        window.__received.push([performance.now(), data.byteLength ?? data.size ?? data.length]);
      });
    }
  }
  window.WebSocket = Recorded;
})();
"""

_STEP_VALUE = f"""() => {{
  for (const metric of document.querySelectorAll('{METRIC}')) {{
    const label = metric.querySelector('{METRIC_LABEL}');
    if (label && label.innerText.trim() === "Step") {{
      const value = metric.querySelector('{METRIC_VALUE}');
      return value ? value.innerText : null;
    }}
  }}
  return null;
}}"""

# Every animation frame, how many charts in the page take room (a chart drawn afresh has none until Vega
# has drawn it): the fewest since the watch began, which a poll from Python, tens of ms apart, would miss.
_CHART_WATCH = f"""() => {{
  window.__fewestCharts = Infinity;
  const watch = () => {{
    const charts = document.querySelectorAll('{MAIN} {VEGA_CHART}');
    let drawn = 0;
    for (const chart of charts) if (chart.getBoundingClientRect().height > 0) drawn += 1;
    window.__fewestCharts = Math.min(window.__fewestCharts, drawn);
    requestAnimationFrame(watch);
  }};
  requestAnimationFrame(watch);
}}"""

_CANVAS_INK = """
(chart) => {
  const canvas = chart.querySelector('canvas');
  if (!canvas || !canvas.width || !canvas.height) return null;
  const context = canvas.getContext('2d');
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  let painted = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i + 3] > 0) { painted += 1; colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]); }
  }
  return {width: canvas.width, height: canvas.height, painted: painted, colours: colours.size,
          hex: Array.from(colours).map(c => '#' + c.toString(16).padStart(6, '0'))};
}
"""


@dataclass
class StepTrace:
    """The Step metric's changes as (seconds on the browser clock, value), and the clicks."""

    changes: list[tuple[float, int]] = field(default_factory=list)
    clicks: list[tuple[float, str]] = field(default_factory=list)

    def updates_per_second(self, start: float | None = None, end: float | None = None) -> float:
        """Changes of the displayed step per second between ``start`` and ``end`` (browser clock, s)."""
        times = [t for t, _ in self.changes if (start is None or t >= start) and (end is None or t <= end)]
        if len(times) < 2:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def last_click(self, label: str) -> float:
        times = [t for t, text in self.clicks if shows_label(text, label)]
        if not times:
            raise AssertionError(f"no click on a button labelled {label!r} was recorded")
        return times[-1]


def button_name(label: str) -> re.Pattern[str]:
    """A button's accessible name: a Material icon's ligature may precede the label, and the name of its
    keyboard shortcut ("Shortcut G", ui.page.controls.SHORTCUTS) may follow it."""
    return re.compile(rf"(^|\s|[a-z_]){re.escape(label)}( Shortcut \S+)?$")


def shows_label(text: str, label: str) -> bool:
    """Whether a button's text (its innerText) is this label: a Material icon's ligature may precede it and
    its keyboard shortcut's key follow it, each on a line of its own."""
    return re.search(rf"(^|\s|[a-z_]){re.escape(label)}(\s|$)", text) is not None


def descendants(root: int) -> list[tuple[int, str]]:
    """(pid, command name) of every process below ``root``, from /proc."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = (int(stat[stat.rindex(")") + 2:].split()[1]), stat[stat.index("(") + 1:stat.rindex(")")])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [], {root}
    while frontier:
        children = {pid for pid, (parent, _) in parents.items() if parent in frontier}
        found += [(pid, parents[pid][1]) for pid in children]
        frontier = children
    return found


def stat_cpu_seconds(stat_path: Path) -> float:
    """User + system CPU seconds from a /proc stat file (a process's or one thread's); 0 once it ended."""
    try:
        stat = stat_path.read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (those that ended count nothing)."""
    return sum(stat_cpu_seconds(Path(f"/proc/{pid}/stat")) for pid in pids)


# --- the server's memory and CPU -----------------------------------------------------------------------------------------

class ProcessGroupMemory:
    """Samples the resident memory (VmRSS) of every process in one process group from /proc, in a thread,
    and the CPU time they used (user + system): by the last sample, and as a timeline of (time.time(), CPU
    seconds) samples."""

    def __init__(self, group: int, every: float = 0.2) -> None:
        self.group, self.every = group, every
        self.peak_mb = 0.0
        self.cpu_seconds = 0.0
        self.timeline: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._ticks = os.sysconf("SC_CLK_TCK")

    def read(self) -> tuple[float, float]:
        """(resident MB, CPU seconds) summed over the group's processes now."""
        resident, ticks = 0, 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                fields = stat[stat.rindex(")") + 2:].split()  # state, ppid, pgrp, … utime is the 12th, stime 13th
                if int(fields[2]) != self.group:
                    continue
                ticks += int(fields[11]) + int(fields[12])
                for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        resident += int(line.split()[1])
            except (OSError, ValueError, IndexError):
                continue  # the process ended while being read
        return resident / 1024, ticks / self._ticks

    def idle_from(self, start: float, quiet: float = 0.3, busy: float = 0.15) -> float | None:
        """The first moment at or after ``start`` (time.time()) from which the group used less than ``busy``
        of one core over every ``quiet`` seconds that the samples cover; None if it never went idle."""
        samples = [(t, cpu) for t, cpu in self.timeline if t >= start - self.every]
        for index, (begin, cpu) in enumerate(samples):
            window = [(t, c) for t, c in samples[index:] if t <= begin + quiet + 1e-9]
            later = [(t, c) for t, c in samples[index:] if t > begin + quiet]
            if not later:
                return None
            if all((c2 - c1) / (t2 - t1) < busy for (t1, c1), (t2, c2) in zip(window, window[1:] + later[:1])):
                return max(begin, start)
        return None

    def current_mb(self) -> float:
        return self.read()[0]

    def _sample(self) -> None:
        while not self._stop.is_set():
            resident, self.cpu_seconds = self.read()
            self.timeline.append((time.time(), self.cpu_seconds))
            self.peak_mb = max(self.peak_mb, resident)
            self._stop.wait(self.every)

    def __enter__(self) -> "ProcessGroupMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)



@dataclass
class Traffic:
    """Messages from the server over a span of ``seconds``: how many, how large, how many redraw a chart."""

    messages: list[tuple[float, bytes]]
    seconds: float

    @property
    def megabytes_per_second(self) -> float:
        return sum(len(data) for _, data in self.messages) / 1e6 / self.seconds if self.seconds > 0 else 0.0

    def elements(self) -> list[tuple[float, Any]]:
        """(when received, element) for every element the server drew, in order."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        found = []
        for received, data in self.messages:
            message = ForwardMsg()
            try:
                message.ParseFromString(data)
            except Exception:  # a message that is not a ForwardMsg (none expected) draws nothing
                continue
            if message.WhichOneof("type") == "delta" and message.delta.WhichOneof("type") == "new_element":
                found.append((received, message.delta.new_element))
        return found

    def chart_deltas(self) -> int:
        """Vega-Lite chart elements drawn (each chart redraw is one)."""
        return sum(element.WhichOneof("type") == "vega_lite_chart" for _, element in self.elements())

    def step_changes(self) -> list[tuple[float, int]]:
        """(when received, value) each time the server sent a new value of the Step metric: the run's own
        progress, before the browser's queue of unpainted updates."""
        changes: list[tuple[float, int]] = []
        for received, element in self.elements():
            if element.WhichOneof("type") == "metric" and element.metric.label == "Step":
                value = int(element.metric.body.replace(",", ""))
                if not changes or changes[-1][1] != value:
                    changes.append((received, value))
        return changes

    def chart_updates_per_second(self) -> float:
        return self.chart_deltas() / self.seconds if self.seconds > 0 else 0.0


class DashboardPage:
    """One browser tab on the dashboard with the actions a presenter takes."""

    def __init__(self, page: Any, server: StreamlitServer) -> None:
        self.page, self.server = page, server
        self.received: list[tuple[float, bytes]] = []
        page.add_init_script(_SOCKET_RECORDER)
        page.on("websocket", self._watch_websocket)

    def _watch_websocket(self, websocket: Any) -> None:
        def received(payload: Any) -> None:
            data = payload if isinstance(payload, bytes) else str(payload).encode()
            self.received.append((time.monotonic(), data))
        websocket.on("framereceived", received)

    # navigation
    def warm(self) -> None:
        self.open("")
        self.page.get_by_role("heading", name="See gradient descent").wait_for(timeout=60_000)
        self.server.warmed = True

    def open(self, path: str, query: Mapping[str, Any] | None = None, timeout: float = 90.0) -> None:
        self.page.goto(self.server.url(path, query), wait_until="domcontentloaded")
        self.page.locator(MAIN).wait_for(timeout=timeout * 1000)
        self.wait_until_idle(timeout)

    def wait_until_idle(self, timeout: float = 90.0, settle: float = 0.4) -> None:
        """Until the script has run and stopped: elements drawn, no running-status widget, no skeleton,
        and the number of drawn elements unchanged for ``settle`` seconds."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        last_count = -1
        while time.monotonic() < deadline:
            count = self.page.locator(f"{MAIN} {ELEMENT}").count()
            busy = self.page.locator(f"{STATUS_WIDGET}, {SKELETON}").count() > 0
            if count and not busy and count == last_count:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= settle:
                    return
            else:
                quiet_since = None
            last_count = count
            self.page.wait_for_timeout(50)
        raise TimeoutError(f"the script did not become idle within {timeout:g} s")

    # controls
    def button(self, name: str) -> Any:
        """A button by its accessible name; a Material icon's ligature may precede the label, and the
        name of its keyboard shortcut ("Shortcut G", ui.page.controls.SHORTCUTS) may follow it."""
        # The app's own buttons only: Streamlit's header shows a "Stop" of its own while a script runs.
        app = self.page.locator('[data-testid="stMain"], [data-testid="stSidebar"]')
        return app.get_by_role("button", name=button_name(name))

    def click(self, name: str) -> None:
        self.button(name).first.click()

    def step(self) -> int | None:
        """The Step metric's value, or None while it is not drawn. Read in one evaluation in the page: read
        as label, then value, of the n-th metric, a metric drawn above it in between (a panel's, as a run
        starts) gave the Step label another metric's value (a CI run on 8a659b7 read "44243.2")."""
        value = self.page.evaluate(_STEP_VALUE)
        return None if value is None else int(value.strip().replace(",", ""))

    def wait_for_status(self, text: str, timeout: float = 120.0) -> None:
        self.page.get_by_text(text).first.wait_for(timeout=timeout * 1000)

    def wait_for_step_above(self, value: int, timeout: float = 120.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            current = self.step()
            if current is not None and current > value:
                return current
            self.page.wait_for_timeout(50)
        raise TimeoutError(f"the displayed step did not pass {value} within {timeout:g} s")

    def start_long_run(self, timeout: float = 120.0) -> int:
        """Press Run and, when the page holds a run estimated over a minute for a second click, press
        "Run anyway": whether it asks depends on this machine's measured speed. The first step shown."""
        self.click("Run")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            anyway = self.button("Run anyway")
            if anyway.count():
                anyway.first.click()
                return self.wait_for_step_above(0, timeout=max(1.0, deadline - time.monotonic()))
            current = self.step()
            if current:
                return current
            self.page.wait_for_timeout(100)
        raise TimeoutError(f"the run had not started {timeout:g} s after the click on Run")

    # what the page shows
    def exceptions(self) -> list[str]:
        return [box.inner_text() for box in self.page.locator(EXCEPTION).all()]

    def charts(self) -> Any:
        return self.page.locator(f"{MAIN} {VEGA_CHART}")

    def visible_charts(self) -> list[Any]:
        return [chart for chart in self.charts().all() if chart.is_visible()]

    def canvas_ink(self, chart: Any) -> dict[str, Any] | None:
        """The chart's canvas size, painted pixels and distinct colours (None without a canvas)."""
        return chart.evaluate(_CANVAS_INK)

    def watch_charts(self) -> None:
        """Start counting, every animation frame, the charts that take room (read with ``fewest_charts``)."""
        self.page.evaluate(_CHART_WATCH)

    def fewest_charts(self) -> int:
        """The fewest charts that took room in any animation frame since ``watch_charts``."""
        return int(self.page.evaluate("() => window.__fewestCharts"))

    def start_recording(self) -> None:
        """Start recording Step changes and clicks in the page (restarts after a navigation)."""
        self.page.evaluate(_RECORDER)

    def trace(self) -> StepTrace:
        changes, clicks = self.page.evaluate("() => [window.__stepLog || [], window.__clicks || []]")
        return StepTrace([(t / 1000.0, int(v.replace(",", ""))) for t, v in changes],
                         [(t / 1000.0, text) for t, text in clicks])

    def sent_times(self) -> list[float]:
        """When the page sent each message to the server (browser clock, s)."""
        return [t / 1000.0 for t in self.page.evaluate("() => window.__sent || []")]

    def received_on_page_clock(self, timeout: float = 10.0) -> "Traffic":
        """Every message this document received, timed on the browser's clock (s): the page's own times
        paired, from the end, with the bytes Playwright handed over (which may arrive late: waits for them)."""
        deadline = time.monotonic() + timeout
        while True:
            times = self.page.evaluate("() => window.__received || []")
            frames = self.received[-len(times):] if times else []
            if len(frames) == len(times) and all(len(data) == size for (_, size), (_, data) in zip(times, frames)):
                messages = [(t / 1000.0, data) for (t, _), (_, data) in zip(times, frames)]
                return Traffic(messages, (times[-1][0] - times[0][0]) / 1000.0 if times else 0.0)
            if time.monotonic() > deadline:
                raise AssertionError(f"the page received {len(times)} messages; Playwright's last {len(frames)} "
                                     "do not match them in size")
            self.page.wait_for_timeout(200)

    def received_between(self, start: float, end: float) -> "Traffic":
        """What the server sent in [start, end] (time.monotonic of this process)."""
        return Traffic([(t, data) for t, data in self.received if start <= t <= end], end - start)

    def screenshot(self, name: str, directory: Path = SCREENSHOTS) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


def write_measurements(name: str, values: Mapping[str, Any], directory: Path = REPO / "artifacts") -> Path:
    """Keep measured numbers (latencies, rates) beside the screenshots, as JSON."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(dict(values), indent=1, sort_keys=True))
    return path


__all__ = ["CHROMIUM", "CHROMIUM_FLAGS", "ENABLE_HINT", "SCREENSHOTS", "PROJECTOR", "StreamlitServer",
           "ChromiumBrowser", "DashboardPage", "StepTrace", "Traffic", "chromium_available", "free_port",
           "write_measurements"]
