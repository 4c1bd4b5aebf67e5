"""A workshop without browsers: simulated attendees (benchmarks/attendee.py) speak Streamlit's websocket
protocol to one `streamlit run dashboard.py` on 127.0.0.1, so the server is measured alone (a room's
browsers run on their own machines).

- Each level (1, 10, 30, 60 attendees) gets a fresh server. Attendees open the sine-cubic demo with their
  own link (NumPy float32, the Gram path, 9,000,000 steps, seed = their number) spread over 30 s, each from
  its own loopback address (127.0.0.2, 127.0.0.3, …), then all press Run at the same moment.
- Time to first chart: from the attendee's first request to the first chart delta of the page.
- Update interval: gaps between redraws of the attendee's most redrawn chart after Run (p50 and p95 over
  every gap of every attendee).
- Steps/s: from the "Step N of M" progress texts each attendee received in the steady window (from 3 s
  after every attendee's run has sent its first progress, to the end), summed over attendees; the target is 85 % of the machine's cores, each at
  the engine's own rate for these settings in one process (measured here just before, alone).
- Server CPU and memory: every process of the server's process group (the Streamlit process and its
  training workers), from /proc: CPU cores used over the steady window, peak resident memory.
- Through nginx: 10 attendees against two replicas behind deploy/replicas.py's nginx (sticky by client
  address); how many sessions each replica served, from nginx's access log.
- The trip to a worker: a short run opened, trained and read back through a worker process against the
  same run in this process. The trip costs a few to about 25 ms more, what some 500 NumPy or exact steps
  cost, so NumPy and exact runs of at most 500 steps (the linear-2x notebook's 20) stay in the page's
  process (ui/page/state.py); every longer run, and every PyTorch or TensorFlow run, trains in a worker.
"""
from __future__ import annotations

import asyncio
import os
import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

from fitcore import Run, RunConfig, WorkerPool, default_pool_size

from .attendee import Attendee, attend
from .stats import Section, paired, stat

LEVELS = (1, 10, 30, 60)
SMOKE_LEVELS = (1, 2)
PAGE = "sine-cubic"
QUERY = {"impl": "numpy", "dtype": "float32", "compiled": "1", "steps": "9000000"}
THROUGHPUT_TARGET = 0.85
INTERVAL_TARGET = 1.0
FIRST_CHART_TARGET = 3.0
MEMORY_TARGET_MB = 2.7 * 1024


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def source_address(number: int) -> str:
    """Attendee ``number``'s own loopback address: a load balancer hashing on addresses tells them apart."""
    return f"127.0.{number // 250}.{2 + number % 250}"


async def _room(port: int, count: int, spread: float, settle: float, window: float, host: str = "127.0.0.1",
                leave_after_progress: int | None = None) -> tuple[list[Attendee], float, float]:
    start = time.monotonic() + 0.5
    press = start + spread + settle
    leave = press + window
    attendees = [Attendee(i) for i in range(count)]
    await asyncio.gather(*(
        attend(a, host, port, source_address(a.number), PAGE, QUERY | {"seed": str(a.number)},
               start + spread * a.number / max(count - 1, 1), press, leave, f"{PAGE}:run", leave_after_progress)
        for a in attendees))
    return attendees, press, leave


def simulate(port: int, count: int, spread: float, settle: float, window: float, host: str = "127.0.0.1",
             leave_after_progress: int | None = None) -> tuple[list[Attendee], float, float]:
    """``count`` attendees against the server at ``host:port``; returns them with the press and leave times.
    With ``leave_after_progress`` each leaves as soon as that many progress texts came (a check, not a
    measurement: ``window`` is then only the bound)."""
    # A loop of its own in a thread of its own: a caller may already run one (pytest after Playwright's tests).
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, _room(port, count, spread, settle, window, host,
                                                leave_after_progress)).result()


def broken(attendees: Sequence[Attendee]) -> list[str]:
    """Why each attendee that did not get a training page failed."""
    return [f"attendee {a.number}: {a.error or 'no progress after Run'}" for a in attendees
            if a.error or a.pressed_at is None or len(a.steps) < 2]


def engine_rate(seconds: float) -> float:
    """Steps per second of one run of the workshop's settings in this process, the engine alone."""
    config = RunConfig.notebook(PAGE, impl="numpy", dtype="float32", compiled=True, steps=9_000_000)
    run = Run(config)
    run.prepare()
    run.advance(max_seconds=0.2)
    began, first = time.perf_counter(), run.step
    while time.perf_counter() - began < seconds:
        run.advance(max_seconds=0.05)
    return (run.step - first) / (time.perf_counter() - began)


def _level(section: Section, count: int, spread: float, settle: float, window: float, single_rate: float,
           warmup: float) -> None:
    from tests.browser.harness import ProcessGroupMemory, StreamlitServer

    cores = default_pool_size()
    with StreamlitServer(env={"FITCORE_MAX_SECONDS": "900"}) as server, \
            ProcessGroupMemory(server.process.pid) as group:
        offset = time.time() - time.monotonic()
        attendees, press, leave = simulate(server.port, count, spread, settle, window)
        processes = os.popen(f"pgrep -g {server.process.pid} -c").read().strip()
    # Steady once every attendee's run is training (its first progress came), not at the press: the first
    # script and the first worker's start take seconds on a busy machine.
    started = [a.steps[0][0] for a in attendees if a.steps]
    steady = (max(started, default=press) + warmup, leave - 0.25)
    rates = [r for r in (a.steps_per_second(*steady) for a in attendees) if r is not None]
    total = sum(rates)
    samples = [(t - offset, cpu) for t, cpu in group.timeline if steady[0] <= t - offset <= steady[1]]
    cpu = (samples[-1][1] - samples[0][1]) / (samples[-1][0] - samples[0][0]) if len(samples) > 1 else float("nan")
    first = [a.first_chart_seconds for a in attendees if a.first_chart_seconds is not None]
    gaps = [gap for a in attendees for gap in a.update_intervals()]
    failed = broken(attendees)
    label = f"{count} attendee{'s' if count > 1 else ''}"
    goal = count >= 30
    section.add(f"{label}: first chart p50 / p95 / max (s)",
                f"{percentile(first, 0.5):.2f} / {percentile(first, 0.95):.2f} / {max(first, default=float('nan')):.2f}",
                f"p95 ≤ {FIRST_CHART_TARGET:g}" if goal else "", percentile(first, 0.95) <= FIRST_CHART_TARGET
                if goal and first else None)
    section.add(f"{label}: chart update interval p50 / p95 (s)",
                f"{percentile(gaps, 0.5):.2f} / {percentile(gaps, 0.95):.2f}",
                f"p95 ≤ {INTERVAL_TARGET:g}" if goal else "", percentile(gaps, 0.95) <= INTERVAL_TARGET
                if goal and gaps else None, f"{len(gaps)} gaps over {len(attendees)} attendees")
    target = THROUGHPUT_TARGET * cores * single_rate
    section.add(f"{label}: steps/s, all together (each: min / median / max)",
                f"{total:,.0f} ({min(rates, default=0):,.0f} / {statistics.median(rates) if rates else 0:,.0f} / "
                f"{max(rates, default=0):,.0f})",
                f"≥ {target:,.0f} ({THROUGHPUT_TARGET:.0%} × {cores} cores × {single_rate:,.0f})" if count > 1 else "",
                total >= target if count > 1 else None,
                "the engine alone in one process: " + f"{single_rate:,.0f} steps/s")
    section.add(f"{label}: server CPU (cores) and peak memory (MB), all its processes",
                f"{cpu:.2f} cores, {group.peak_mb:,.0f} MB", f"memory ≤ {MEMORY_TARGET_MB:,.0f} MB",
                group.peak_mb <= MEMORY_TARGET_MB, f"processes in the server's group at the end: {processes}")
    section.add(f"{label}: attendees without a training page", str(len(failed)), "0", not failed,
                "; ".join(failed[:5]))


def _replicas(section: Section, count: int, window: float) -> None:
    """The same room through nginx in front of two replicas (deploy/replicas.py)."""
    from deploy.replicas import Replicas, nginx_binary

    if nginx_binary() is None:
        section.add("through nginx and 2 replicas", "skipped: nginx is not installed (apt-get install -y nginx)")
        return
    with Replicas(2, env={"FITCORE_MAX_SECONDS": "900"}) as replicas:
        attendees, press, leave = simulate(replicas.port, count, 5.0, 4.0, window)
        time.sleep(1.0)  # nginx logs each websocket as it closes
        served: dict[str, int] = {}
        for _, replica in replicas.sessions():
            served[replica] = served.get(replica, 0) + 1
    started = [a.steps[0][0] for a in attendees if a.steps]
    steady = (max(started, default=press) + 2.0, leave - 0.25)
    total = sum(r for r in (a.steps_per_second(*steady) for a in attendees) if r is not None)
    failed = broken(attendees)
    section.add(f"{count} attendees through nginx and 2 replicas: sessions per replica, steps/s together",
                f"{sorted(served.values())}, {total:,.0f}", "every replica serves; none broken",
                len(served) == 2 and not failed, "; ".join(failed[:5]))


def _trip(section: Section, runs: int) -> None:
    """A short run in this process against the same run opened, trained and read back through a worker."""
    pool = WorkerPool(1)
    try:
        pool.open(RunConfig.notebook("linear-2x")).advance()  # the worker is up before timing
        for config, label in ((RunConfig.notebook("linear-2x"), "linear-2x NumPy, the notebook's 20 steps"),
                              (RunConfig.notebook(PAGE, impl="numpy", steps=500), "sine-cubic NumPy, 500 steps"),
                              (RunConfig.notebook(PAGE, impl="analytic", steps=2000), "sine-cubic exact, 2,000 steps")):
            def local(config: RunConfig = config) -> float:
                began = time.perf_counter()
                Run(config).advance()
                return time.perf_counter() - began

            def remote(config: RunConfig = config) -> float:
                began = time.perf_counter()
                pool.open(config).advance()
                return time.perf_counter() - began

            here, there = paired(local, remote, runs)
            section.add(f"{label}: in this process / through a worker (ms)",
                        f"{stat([1e3 * v for v in here]).text()} / {stat([1e3 * v for v in there]).text()}",
                        note="runs of ≤ 500 NumPy or exact steps stay in the page's process")
    finally:
        pool.shutdown()


def run_group(runs: int, smoke: bool) -> Section:
    section = Section("workshop", "A workshop: simulated attendees on one server")
    section.notes.append(re.sub(r"\n(?!- )\s*", " ", __doc__.split("\n\n", 1)[1].strip()))
    _trip(section, runs)
    single_rate = engine_rate(0.5 if smoke else 3.0)
    levels = SMOKE_LEVELS if smoke else LEVELS
    for count in levels:
        spread = 0.5 if smoke else (0.0 if count == 1 else 30.0)
        _level(section, count, spread, settle=4.0, window=8.0 if smoke else (30.0 if count >= 30 else 20.0),
               single_rate=single_rate,
               warmup=1.0 if smoke else 3.0)
    if not smoke:
        _replicas(section, 10, 20.0)
    load: Any = os.getloadavg()
    section.notes.append(f"Load average when the group ended: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} "
                         "(other work on the machine takes its share of the cores from the server).")
    return section
