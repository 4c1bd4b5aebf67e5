"""A workshop without browsers: simulated attendees (benchmarks/attendee.py) speak Streamlit's websocket
protocol to one `streamlit run dashboard.py` on 127.0.0.1, so the server is measured alone (a room's
browsers run on their own machines).

- Each level (1, 10, 30, 60 attendees) gets a fresh server. Attendees open the sine-cubic demo with their
  own link (NumPy float32, the Gram path, 9,000,000 steps, seed = their number) spread over 30 s, each from
  its own loopback address (127.0.0.2, 127.0.0.3, …), then all press Run at the same moment.
- Time to first chart: from the attendee's first request to the first chart delta of the page.
- Update interval: gaps between redraws of the attendee's most redrawn chart after Run (p50 and p95 over
  every gap of every attendee). The goals hold for the issue's room of 30; beyond it (60) the goal is an even
  slowdown: updates at most count/30 times as far apart, and the slowest attendee at least half the
  median attendee's steps/s.
- Steps/s: from the "Step N of M" progress texts each attendee received in the steady window (from 3 s
  after every attendee's run has sent its first progress, to the end), summed over attendees; the target is 85 % of the machine's cores, each at
  the engine's own rate for these settings in one process (measured here just before, alone).
- Server CPU and memory: every process of the server's process group (the Streamlit process and its
  training workers), from /proc: CPU cores used over the steady window, peak resident memory.
- Load: the load average before and after each level, and the cores every other process of the machine
  used over the steady window (from /proc/stat): the server only gets what they leave.
- Per chart update: websocket bytes and messages each attendee received after Run, per redraw of its
  busiest chart; and how much of the server's CPU the Streamlit process itself took (the rest is its
  training workers).
- Fair sharing: 3 NumPy runs on a pool of 2 workers for 10 s, each run's share of the steps all three
  took (1/3 each is fair; pinned to their workers they would get ½, ¼, ¼).
- Both frameworks: 6 attendees, two each on PyTorch, TensorFlow and NumPy; peak memory of the server's
  processes (Community Cloud gives 2.7 GB), and which processes mapped each framework.
- Through nginx: 10 attendees against two replicas behind deploy/replicas.py's nginx (sticky by client
  address); how many sessions each replica served, from nginx's access log.
- The trip to a worker: a short run opened, trained and read back through a worker process against the
  same run in this process. The trip costs a few to about 25 ms more, what some 500 NumPy or exact steps
  cost, so NumPy and exact runs of at most 500 steps (the linear-2x notebook's 20) stay in the page's
  process (ui/page/state.py, ``open_run``); every longer run, and every PyTorch or TensorFlow run, trains in
  a worker: a demo page's, and those of the Compare tab, the Predict tab's challenges, the pace estimate's
  timing and the Speed page (its points sweep, like the step-math tab's rebuilt optimizer state, is one
  function computed in a worker: ``WorkerPool.call``). Their longer runs cost the trip a small share of
  themselves (`python -m benchmarks.worker_trip` on 2026-12-04 at load average ~9, in this process /
  through a worker, ms: the sweep's exact 1,000,001-step run 625 / 702, NumPy's 2,000 eager steps 223 /
  236, Adam's 5,000 Gram steps 221 / 304, a reference's 2,000 exact steps 15 / 43, 20,000 Gram steps
  17 / 66), and every millisecond here holds the interpreter lock that every session's page waits on, so
  they go too; the exact engine is cheap per step, not per run (history and log: 0.6 s for a million steps).
  Their numbers are those of the same runs in this process bit for bit (tests/test_workers_callers.py),
  except the exact engine's last bits, which depend on where its chunks begin in any process.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
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
GOAL_ROOM = 30  # the room: its goals hold there; a larger room must slow evenly (EVEN_SHARE) and no more
EVEN_SHARE = 0.5  # in a larger room the slowest attendee trains at least this share of the median attendee's rate
FIRST_CHART_TARGET = 3.0
MEMORY_TARGET_MB = 2.7 * 1024


@dataclass(frozen=True)
class Plan:
    """What one run of the group measures: the full plan, the smoke test's, or a quick one from the command line."""

    levels: tuple[int, ...] = LEVELS
    spread: float = 30.0  # seconds over which a level's attendees open the page (a level of 1 opens at once)
    settle: float = 4.0  # from the last opening to the press
    window: float = 20.0  # training measured after the press (30 and more attendees: LARGE_WINDOW)
    large_window: float = 30.0
    warmup: float = 3.0
    engine_seconds: float = 3.0
    fairness_seconds: float = 10.0
    frameworks: bool = True
    replicas: bool = True

    def window_for(self, count: int) -> float:
        return self.large_window if count >= 30 else self.window


FULL = Plan()
SMOKE = Plan(levels=SMOKE_LEVELS, spread=0.5, window=8.0, large_window=8.0, warmup=1.0, engine_seconds=0.5,
             fairness_seconds=2.0, frameworks=False, replicas=False)
FRAMEWORK_IMPLS = ("torch-autograd", "tf-tape", "numpy")
FRAMEWORK_STEPS = {"torch-autograd": "20000", "tf-tape": "4000"}  # some seconds each, eager
FRAMEWORK_MAPS = {"torch": "libtorch_cpu", "tensorflow": "libtensorflow"}


class MachineCpu:
    """Samples, in a thread, the cores the whole machine is busy on and the CPU time of one process
    (the Streamlit server's own), as a timeline of (time.time(), machine busy s, process CPU s)."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        self.pid, self.every = pid, every
        self.timeline: list[tuple[float, float, float]] = []
        self._ticks = os.sysconf("SC_CLK_TCK")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _read(self) -> tuple[float, float]:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        busy = sum(fields[:8]) - fields[3] - fields[4]  # all but idle and iowait (guest time is in user)
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
            own = sum(int(v) for v in stat[stat.rindex(")") + 2:].split()[11:13])
        except (OSError, ValueError):
            own = 0
        return busy / self._ticks, own / self._ticks

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.timeline.append((time.time(), *self._read()))
            self._stop.wait(self.every)

    def cores(self, start: float, end: float) -> tuple[float, float]:
        """(machine, process) cores used between ``start`` and ``end`` (time.time())."""
        inside = [s for s in self.timeline if start <= s[0] <= end]
        if len(inside) < 2:
            return float("nan"), float("nan")
        (t0, m0, p0), (t1, m1, p1) = inside[0], inside[-1]
        return (m1 - m0) / (t1 - t0), (p1 - p0) / (t1 - t0)

    def __enter__(self) -> MachineCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def source_address(number: int) -> str:
    """Attendee ``number``'s own loopback address: a load balancer hashing on addresses tells them apart."""
    return f"127.0.{number // 250}.{2 + number % 250}"


def query_of(number: int, impls: Sequence[str] = ()) -> dict[str, str]:
    """Attendee ``number``'s link: the workshop's settings and its own seed (``impls``: cycled through)."""
    if not impls:
        return QUERY | {"seed": str(number)}
    impl = impls[number % len(impls)]
    # A framework run short enough that its estimate stays under a minute (longer ones wait for a second click)
    steps = FRAMEWORK_STEPS.get(impl, QUERY["steps"])
    settings = QUERY if impl == "numpy" else {"impl": impl, "dtype": "float32", "steps": steps}
    return settings | {"seed": str(number)}


async def _room(port: int, count: int, spread: float, settle: float, window: float, host: str = "127.0.0.1",
                leave_after_progress: int | None = None,
                impls: Sequence[str] = ()) -> tuple[list[Attendee], float, float]:
    start = time.monotonic() + 0.5
    press = start + spread + settle
    leave = press + window
    attendees = [Attendee(i) for i in range(count)]
    await asyncio.gather(*(
        attend(a, host, port, source_address(a.number), PAGE, query_of(a.number, impls),
               start + spread * a.number / max(count - 1, 1), press, leave, f"{PAGE}:run", leave_after_progress)
        for a in attendees))
    return attendees, press, leave


def simulate(port: int, count: int, spread: float, settle: float, window: float, host: str = "127.0.0.1",
             leave_after_progress: int | None = None, impls: Sequence[str] = ()) -> tuple[list[Attendee], float, float]:
    """``count`` attendees against the server at ``host:port``; returns them with the press and leave times.
    With ``leave_after_progress`` each leaves as soon as that many progress texts came (a check, not a
    measurement: ``window`` is then only the bound)."""
    # A loop of its own in a thread of its own: a caller may already run one (pytest after Playwright's tests).
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, _room(port, count, spread, settle, window, host,
                                                leave_after_progress, impls)).result()


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
    load_before = load_text()
    with StreamlitServer(env={"FITCORE_MAX_SECONDS": "900"}) as server, \
            ProcessGroupMemory(server.process.pid) as group, MachineCpu(server.process.pid) as machine:
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
    busy, streamlit_cpu = machine.cores(steady[0] + offset, steady[1] + offset)
    others = busy - cpu
    first = [a.first_chart_seconds for a in attendees if a.first_chart_seconds is not None]
    gaps = [gap for a in attendees for gap in a.update_intervals()]
    failed = broken(attendees)
    label = f"{count} attendee{'s' if count > 1 else ''}"
    goal = count >= GOAL_ROOM
    # Beyond the room the goals are set for, an even slowdown: updates at most count/GOAL_ROOM times as far apart
    interval_target = INTERVAL_TARGET * max(1.0, count / GOAL_ROOM)
    section.add(f"{label}: first chart p50 / p95 / max (s)",
                f"{percentile(first, 0.5):.2f} / {percentile(first, 0.95):.2f} / {max(first, default=float('nan')):.2f}",
                f"p95 ≤ {FIRST_CHART_TARGET:g}" if goal else "", percentile(first, 0.95) <= FIRST_CHART_TARGET
                if goal and first else None,
                f"load average before: {load_before}; after: {load_text()}")
    section.add(f"{label}: chart update interval p50 / p95 (s)",
                f"{percentile(gaps, 0.5):.2f} / {percentile(gaps, 0.95):.2f}",
                f"p95 ≤ {interval_target:g}" if goal else "", percentile(gaps, 0.95) <= interval_target
                if goal and gaps else None, f"{len(gaps)} gaps over {len(attendees)} attendees")
    target = THROUGHPUT_TARGET * cores * single_rate
    section.add(f"{label}: steps/s, all together (each: min / median / max)",
                f"{total:,.0f} ({min(rates, default=0):,.0f} / {statistics.median(rates) if rates else 0:,.0f} / "
                f"{max(rates, default=0):,.0f})",
                f"≥ {target:,.0f} ({THROUGHPUT_TARGET:.0%} × {cores} cores × {single_rate:,.0f})" if count > 1 else "",
                total >= target if count > 1 else None,
                "the engine alone in one process: " + f"{single_rate:,.0f} steps/s")
    if count > GOAL_ROOM and rates:
        slowest = min(rates) / statistics.median(rates)
        section.add(f"{label}: the slowest attendee's steps/s against the median's",
                    f"{slowest:.2f}", f"≥ {EVEN_SHARE:g} (an even slowdown)", slowest >= EVEN_SHARE)
    section.add(f"{label}: server CPU (cores; of it the Streamlit process) and peak memory (MB), all its processes",
                f"{cpu:.2f} cores ({streamlit_cpu:.2f}), {group.peak_mb:,.0f} MB", f"memory ≤ {MEMORY_TARGET_MB:,.0f} MB",
                group.peak_mb <= MEMORY_TARGET_MB,
                f"other processes on the machine meanwhile: {others:.2f} cores; "
                f"processes in the server's group at the end: {processes}")
    redraws = sum(len(a.update_intervals()) + 1 for a in attendees if a.update_intervals())
    received = sum(a.bytes_after_press for a in attendees if a.update_intervals())
    messages = sum(a.messages_after_press for a in attendees if a.update_intervals())
    if redraws:
        section.add(f"{label}: per chart update, each attendee: websocket kB / messages",
                    f"{received / redraws / 1024:.1f} kB / {messages / redraws:.1f}")
    section.add(f"{label}: attendees without a training page", str(len(failed)), "0", not failed,
                "; ".join(failed[:5]))


def _fairness(section: Section, seconds: float) -> None:
    """3 NumPy runs on 2 workers: what share of all their steps each run took."""
    pool = WorkerPool(2).start()
    try:
        config = RunConfig.notebook(PAGE, impl="numpy", dtype="float32", compiled=True, steps=10_000_000)
        runs = [pool.open(config.replace(seed=seed)) for seed in range(3)]
        for run in runs:
            run.prepare()
        for run in runs:
            run.train()
        time.sleep(1.0)  # every run has trained a slice
        first = [run.sync().step for run in runs]
        time.sleep(seconds)
        steps = [run.sync().step - begun for run, begun in zip(runs, first)]
        for run in runs:
            run.stop()
    finally:
        pool.shutdown()
    shares = sorted(step / max(sum(steps), 1) for step in steps)
    section.add("fair sharing: 3 runs on 2 workers, each run's share of their steps (min / max)",
                f"{shares[0]:.2f} / {shares[-1]:.2f}", "each about 1/3 (0.28–0.39)", 0.28 <= shares[0] and
                shares[-1] <= 0.39, f"{seconds:g} s; {pool.moves} moves between workers; "
                                    f"{sum(steps) / seconds:,.0f} steps/s together")


def _mapped(pid: int) -> set[str]:
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return set()
    return {name for name, library in FRAMEWORK_MAPS.items() if library in maps}


def _frameworks(section: Section, window: float) -> None:
    """Attendees on PyTorch, TensorFlow and NumPy at once: the server's peak memory with both frameworks."""
    from tests.browser.harness import ProcessGroupMemory, StreamlitServer

    with StreamlitServer(env={"FITCORE_MAX_SECONDS": "900"}) as server, \
            ProcessGroupMemory(server.process.pid) as group:
        attendees, _, _ = simulate(server.port, 2 * len(FRAMEWORK_IMPLS), 3.0, 4.0, window, impls=FRAMEWORK_IMPLS)
        server_pid = server.process.pid
        pids = [int(p) for p in os.popen(f"pgrep -g {server_pid}").read().split()]
        mapped = {pid: _mapped(pid) for pid in pids}
    workers = [pid for pid in pids if pid != server_pid]
    in_workers = {name: sum(name in mapped[pid] for pid in workers) for name in FRAMEWORK_MAPS}
    failed = broken(attendees)
    loaded = all(in_workers.values())  # the figure counts only with both frameworks in memory
    section.add("PyTorch, TensorFlow and NumPy attendees (2 each): peak memory of the server's processes",
                f"{group.peak_mb:,.0f} MB", f"≤ {MEMORY_TARGET_MB:,.0f} MB with both frameworks loaded",
                group.peak_mb <= MEMORY_TARGET_MB and loaded,
                f"workers that mapped torch: {in_workers['torch']}, tensorflow: {in_workers['tensorflow']} "
                f"(of {len(workers)}); the Streamlit process: {', '.join(sorted(mapped.get(server_pid, set()))) or 'neither'}; "
                + ("; ".join(failed[:3]) if failed else "every attendee trained"))


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


def measure(plan: Plan, runs: int) -> Section:
    section = Section("workshop", "A workshop: simulated attendees on one server")
    section.notes.append(re.sub(r"\n(?!- )\s*", " ", __doc__.split("\n\n", 1)[1].strip()))
    section.notes.append(f"Load average when the group began: {load_text()}.")
    if runs:
        _trip(section, runs)
    single_rate = engine_rate(plan.engine_seconds)
    for count in plan.levels:
        _level(section, count, 0.0 if count == 1 else plan.spread, plan.settle, plan.window_for(count),
               single_rate, plan.warmup)
    if plan.fairness_seconds:
        _fairness(section, plan.fairness_seconds)
    if plan.frameworks:
        _frameworks(section, 40.0)
    if plan.replicas:
        _replicas(section, 10, 20.0)
    section.notes.append(f"Load average when the group ended: {load_text()} (other work on the machine takes "
                         "its share of the cores from the server).")
    return section


def run_group(runs: int, smoke: bool) -> Section:
    return measure(SMOKE if smoke else FULL, runs)


def main(argv: Sequence[str]) -> int:
    """A quick look while working on the server: chosen levels, shorter, printed (BENCHMARKS.md untouched)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workshop", description=main.__doc__)
    parser.add_argument("--levels", default="10", help="attendee counts, comma-separated (default 10)")
    parser.add_argument("--spread", type=float, default=5.0, help="seconds over which attendees open the page")
    parser.add_argument("--window", type=float, default=12.0, help="seconds of training measured after the press")
    parser.add_argument("--fairness", type=float, default=0.0, help="seconds of the fair-sharing check (0: none)")
    parser.add_argument("--frameworks", action="store_true", help="also the PyTorch + TensorFlow memory check")
    parser.add_argument("--replicas", action="store_true", help="also 10 attendees through nginx and 2 replicas")
    args = parser.parse_args(argv)
    plan = replace(FULL, levels=tuple(int(v) for v in args.levels.split(",")), spread=args.spread,
                   window=args.window, large_window=args.window, warmup=2.0, engine_seconds=1.0,
                   fairness_seconds=args.fairness, frameworks=args.frameworks, replicas=args.replicas)
    section = measure(plan, 0)
    for row in section.rows:
        print(f"{row.name} | {row.value} | {row.target} {row.verdict} | {row.note}")
    print(section.notes[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
