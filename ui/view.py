"""The training view every demo page shares: placeholders drawn once, redrawn while it trains."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import streamlit as st
from streamlit import dataframe_util

from fitcore import FRAMEWORK_NAMES, Run, get_implementation

from . import charts
from .state import PinnedRun

DEFAULT_AXES = {"quadratic-recovery": (0, 1), "sine-cubic": (1, 3)}


@dataclass(frozen=True)
class Frame:
    """What the charts show: the live end of a run, or one recorded step during replay."""

    step: int
    loss: float
    params: np.ndarray
    steps: np.ndarray
    losses: np.ndarray
    path: np.ndarray


def draw_chart(slot: Any, chart: charts.Chart, static_bytes: bytes | None = None) -> None:
    """Every chart on every page goes through here: same spec, new data, alt text."""
    slot.vega_lite_chart(spec=chart.with_data(static_bytes), width="stretch", alt=chart.alt_text)


def live_frame(run: Run) -> Frame:
    steps, losses, params = run.history.arrays()
    if run.prepared and (not len(steps) or run.step > steps[-1]) and np.isfinite(run.current_loss):
        steps = np.append(steps, run.step)
        losses = np.append(losses, run.current_loss)
        params = np.vstack([params, run.current_params]) if len(params) else run.current_params[None, :]
    if not len(steps):
        init = run.data.init.astype(np.float64)
        return Frame(0, run.initial_loss, init, np.array([0]), np.array([run.initial_loss]), init[None, :])
    return Frame(int(steps[-1]), float(losses[-1]), params[-1], steps, losses, params)


def replay_frame(run: Run, step: int, params: np.ndarray | None = None) -> Frame:
    """The run as it was at ``step``; ``params`` supplies an exact iterate between recorded steps."""
    steps, losses, history = run.history.arrays()
    index = int(np.searchsorted(steps, step, side="right")) - 1
    index = max(index, 0)
    if params is None:
        step, params = int(steps[index]), history[index]
    loss = float(run.quad.loss(params))
    return Frame(int(step), loss, np.asarray(params, np.float64), steps[:index + 1], losses[:index + 1],
                 history[:index + 1])


def status_message(run: Run | None, stale: bool) -> tuple[str, str]:
    """(kind, text) for the status line: kind is info, success, warning or error."""
    if run is None:
        return "info", "Ready: press **Run** to train with these settings, or **Step** to go one step at a time."
    snap = run.snapshot()
    if snap.status == "diverged":
        return "error", snap.message
    if snap.status == "completed":
        return "success", snap.message
    if snap.status == "stopped":
        return "warning", snap.message
    if stale:
        return "warning", (f"Paused at step {snap.step:,}. The settings have changed since this run started: "
                           "**Run** starts over with the new ones; **Resume** finishes this run as it began.")
    if snap.status == "paused":
        return "info", f"Paused at step {snap.step:,} of {snap.total_steps:,}."
    if snap.status == "running":
        return "info", f"Training… step {snap.step:,} of {snap.total_steps:,}."
    return "info", "Ready: press **Run** to train with these settings."


class TrainView:
    """Placeholders for one page's training view; ``draw`` refills them with a frame of a run."""

    def __init__(self, run: Run, pick_axes: Callable[[], tuple[int, int] | None]) -> None:
        self.problem = run.problem
        self.status = st.empty()
        self.metrics = st.empty()
        top = st.columns(2)
        self.fit, self.loss = top[0].empty(), top[1].empty()
        bottom = st.columns(2)
        self.params = bottom[0].empty()
        with bottom[1]:
            self.axes = pick_axes()
            self.landscape = st.empty()
        self.extra = st.empty()
        st.markdown("**What the notebook prints**")
        self.log = st.empty()
        self._static: dict[str, tuple[Any, pd.DataFrame, bytes]] = {}

    def _static_table(self, name: str, key: Any, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """Build a chart's static table once per view and keep its Arrow bytes for every redraw."""
        cached = self._static.get(name)
        if cached is None or cached[0] != key:
            table = build()
            cached = (key, table, dataframe_util.convert_anything_to_arrow_bytes(table))
            self._static[name] = cached
        return cached[1]

    def _draw(self, slot: Any, name: str, chart: charts.Chart) -> None:
        cached = self._static.get(name)
        draw_chart(slot, chart, cached[2] if cached is not None else None)

    def draw_status(self, run: Run | None, stale: bool) -> None:
        kind, text = status_message(run, stale)
        with self.status.container():
            if run is not None and run.status == "running":
                snap = run.snapshot()
                st.progress(snap.progress, text=f"Step {snap.step:,} of {snap.total_steps:,}")
            else:
                getattr(st, kind)(text)

    def draw_metrics(self, run: Run, frame: Frame) -> None:
        snap = run.snapshot()
        with self.metrics.container():
            cols = st.columns(5)
            cols[0].metric("Step", f"{frame.step:,}", help=f"of {snap.total_steps:,}")
            cols[1].metric("Loss", f"{frame.loss:.5g}", help=f"least-squares optimum {run.quad.optimum_loss:.6g}")
            cols[2].metric("Steps / s", f"{snap.steps_per_second:,.0f}" if snap.elapsed else "–")
            cols[3].metric("Elapsed", f"{snap.elapsed:.2f} s" if run.prepared else "–",
                           help=f"compile/trace {snap.compile_seconds:.2f} s (not counted)" if
                           snap.compile_seconds else None)
            derived = run.problem.derived(frame.params)
            if derived:
                cols[4].metric(" · ".join(derived), " · ".join(f"{v:.4g}" for v in derived.values()))
            else:
                cols[4].metric("2/λmax", f"{run.quad.max_stable_lr:.3g}",
                               help="The largest stable SGD learning rate for this data.")

    def draw(self, run: Run, frame: Frame, pinned: Sequence[PinnedRun] = (), log_x: bool = False,
             stale: bool = False) -> None:
        problem, quad = run.problem, run.quad
        start = run.data.init.astype(np.float64)
        self.draw_status(run if run.prepared or run.finished else None, stale)
        self.draw_metrics(run, frame)
        fit_static = self._static_table("fit", id(run), lambda: charts.fit_static(
            problem, run.data.x, run.data.y, quad.optimum))
        self._draw(self.fit, "fit", charts.fit_chart(problem, run.data.x, run.data.y, frame.params, quad.optimum,
                                                     fit_static))
        others = [(p.label, p.steps, p.losses) for p in pinned]
        loss_static = self._static_table("loss", (id(run), tuple(p.label for p in pinned)),
                                         lambda: charts.loss_static(quad.optimum_loss, others))
        self._draw(self.loss, "loss", charts.loss_chart(frame.steps, frame.losses, quad.optimum_loss,
                                                        (frame.step, frame.loss), others, log_x, loss_static))
        targets = np.array(problem.true_params) if problem.true_params is not None else quad.optimum
        label = "true" if problem.true_params is not None else "least-squares"
        draw_chart(self.params, charts.params_chart(problem.param_names, frame.steps, frame.path, targets, label,
                                                    (frame.step, frame.params)))
        land_static = self._static_table("landscape", (id(run), self.axes),
                                         lambda: charts.landscape_static(quad, start, self.axes))
        self._draw(self.landscape, "landscape", charts.landscape_chart(
            quad, problem.param_names, frame.steps, frame.path, frame.params, start, self.axes, land_static))
        self.draw_extra(run, frame)
        self.log.code(run.log_text() or "(the lines the notebook prints appear here as the run goes)",
                      language=None)

    def draw_extra(self, run: Run, frame: Frame) -> None:
        problem = run.problem
        if problem.id == "linear-2x":
            with self.extra.container():
                before = problem.derived(run.data.init.astype(np.float64))["f(5)"]
                after = problem.derived(frame.params)["f(5)"]
                left, right, _ = st.columns([1, 1, 2])
                left.metric("f(5) before training", f"{before:.3f}")
                right.metric(f"f(5) at step {frame.step:,}", f"{after:.3f}", delta=f"{after - before:.3f}")
        elif problem.id == "quadratic-recovery":
            records = [(line.step + 1, line.params) for line in run.log if line.params is not None
                       and line.step + 1 <= frame.step]

            def title(step: int, params: np.ndarray) -> str:
                d = problem.derived(params)
                return f"step {step:,}: d̂ = {d['d̂']:.3f}, ê = {d['ê']:.3f}"
            if records:
                draw_chart(self.extra, charts.panels_chart(problem, run.data.x.astype(np.float64),
                                                           run.data.y.astype(np.float64), records, title))
            else:
                self.extra.caption("The notebook's small multiples (one panel per record, titled d̂ and ê) "
                                   "appear here as the run records them.")


def framework_spinner_text(impl_id: str, compiled: bool) -> str:
    impl = get_implementation(impl_id)
    name = FRAMEWORK_NAMES[impl.framework]
    if compiled and impl.framework == "torch":
        return f"Loading {name} and compiling with torch.compile (first run only: a few seconds)…"
    if compiled and impl.framework == "tensorflow":
        return f"Loading {name} and compiling the XLA loop…"
    return f"Loading {name}…"
