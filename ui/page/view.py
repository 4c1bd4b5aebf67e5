"""The training view every demo page shares: placeholders drawn once, redrawn while it trains."""
from __future__ import annotations

import functools
import math
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import streamlit as st
from streamlit import dataframe_util

from fitcore import FRAMEWORK_NAMES, Run, get_implementation
from fitcore.landscape import SliceChoice, run_landscape

from ui import charts
from ui.panels.notebook import draw_notebook_lines
from ui.page.state import PinnedRun
from ui.style import METRICS_ROW, SELECTABLE_SLOT

LOG_HEIGHT, LOG_LINES_SHOWN = 360, 14  # a long log scrolls beside the notebook's lines instead of pushing them
FRAMEWORK_MODULES = {"torch": "torch", "tensorflow": "tensorflow"}  # whose first import takes seconds
STEP_KEY = "loss_pick"  # the loss chart's selection widget (drawn once, at rest, over a run to replay)
PICK_KEY = "landscape_pick"  # the landscape's selection widget (one per page: drawn once, at rest)
SLOW_INTERVAL = 1.0  # seconds between redraws of the readouts that change slowly, while training


@dataclass(frozen=True)
class Frame:
    """What the charts show: the live end of a run, or one recorded step during replay."""

    step: int
    loss: float
    params: np.ndarray
    steps: np.ndarray
    losses: np.ndarray
    path: np.ndarray


def draw_chart(slot: Any, chart: charts.Chart, static_bytes: dict[str, bytes] | None = None,
               live_bytes: dict[str, bytes] | None = None, **selection: Any) -> None:
    """Every chart on every page goes through here: same spec, new data, alt text.

    The frontend treats the alt text as part of the chart's spec: a changed alt re-embeds the
    whole chart. Live redraws must therefore keep it fixed (the builders add numbers at rest only).
    ``selection`` (key, on_select, selection_mode) makes a chart drawn once per script a widget.
    ``static_bytes`` and ``live_bytes``: tables already converted to Arrow bytes, sent as they are.
    """
    slot.vega_lite_chart(spec=chart.with_data(static_bytes, live_bytes),
                         width="stretch" if chart.stretch else "content", alt=chart.alt_text, **selection)


def live_bytes(chart: charts.Chart, sent: dict[str, tuple[Any, bytes]]) -> dict[str, bytes]:
    """Each live table of ``chart`` as the Arrow bytes Streamlit sends, converted again only when the table
    differs from the one in ``sent`` (what this chart's slot sent last, updated here): while training, the
    optimum, its note and the landscape's bands (the largest table) stay the same from one redraw to the
    next, and converting them again on every redraw of every session took the server's one interpreter."""
    tables = {}
    for key, table in chart.live.items():
        table = charts.arrow_table(table)
        last = sent.get(key)
        if last is None or not last[0].equals(table, check_metadata=True):
            last = sent[key] = (table, dataframe_util.convert_anything_to_arrow_bytes(table))
        tables[key] = last[1]
    return tables


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
    if params is None:  # a recorded step: exactly the snapshot the run took, its own loss included
        step, params, loss = int(steps[index]), history[index], float(losses[index])
    else:
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


def selectable_slot(parent: Any, name: str, height: int) -> Any:
    """The placeholder of a chart that is a widget at rest, in a container that keeps the chart's height
    while the browser draws it afresh (``ui.style.SELECTABLE_SLOT`` says why)."""
    return parent.container(key=f"{SELECTABLE_SLOT}-{height}-{name}").empty()


class TrainView:
    """Placeholders for one page's training view; ``draw`` refills them with a frame of a run."""

    def __init__(self, run: Run, pick_axes: Callable[[], SliceChoice | None],
                 on_pick: Callable[..., None] | None = None, on_step: Callable[[str], None] | None = None) -> None:
        self.problem = run.problem
        # Called as on_pick(widget key, slice axes, frame low corner, high corner) when the learner
        # clicks the landscape at rest; None: the landscape is only a picture.
        self.on_pick = on_pick
        self.on_step = on_step  # on_step(widget key) when the learner clicks or points at the loss curve at rest
        self.status = st.empty()
        self.metrics = [column.empty() for column in st.container(key=METRICS_ROW).columns(5)]
        top = st.columns(2)
        self.fit, self.loss = top[0].empty(), selectable_slot(top[1], "loss", charts.HEIGHT)
        self.loss_note = top[1].empty()  # what the loss chart's log axis cannot show
        bottom = st.columns(2)
        self.params = bottom[0].empty()
        with bottom[1]:
            self.axes = pick_axes()
            height = charts.LANDSCAPE_HEIGHT if self.axes is not None else charts.HEIGHT  # a slice, or a curve
            self.landscape = selectable_slot(st, "landscape", height)
            self.landscape_note = st.empty()
        self.extra = st.empty()
        self.extra_chart = st.empty()
        # Your own data has no notebook behind it: its printed lines stand alone.
        ours, theirs = st.columns(2) if run.problem.source is None else (st.container(), None)
        ours.markdown("**What this run prints**")
        self.log = ours.empty()
        if theirs is not None:
            theirs.markdown("**What the notebook printed**")
        self.notebook = theirs.empty() if theirs is not None else None
        self._static: dict[str, tuple[Any, dict[str, pd.DataFrame], dict[str, bytes]]] = {}
        self._drawn: dict[str, Any] = {}
        self._sent: dict[str, dict[str, tuple[Any, bytes]]] = {}  # chart -> live table -> (table, its bytes)
        self._slow_due: dict[str, float] = {}
        self._extras: list[Any] | None = None

    def _changed(self, name: str, signature: Any) -> bool:
        """Whether a slot needs redrawing: unchanged slots keep what they show, costing nothing."""
        if self._drawn.get(name) == signature:
            return False
        self._drawn[name] = signature
        return True

    def _static_table(self, name: str, key: Any,
                      build: Callable[[], dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
        """Build a chart's static tables once per view and keep their Arrow bytes for every redraw."""
        cached = self._static.get(name)
        if cached is None or cached[0] != key:
            tables = build()
            cached = (key, tables, {k: dataframe_util.convert_anything_to_arrow_bytes(charts.static_table(v))
                                    for k, v in tables.items()})
            self._static[name] = cached
        return cached[1]

    def _draw(self, slot: Any, name: str, chart: charts.Chart, **selection: Any) -> None:
        cached = self._static.get(name)
        draw_chart(slot, chart, cached[2] if cached is not None else None,
                   live_bytes(chart, self._sent.setdefault(name, {})), **selection)

    def _due(self, name: str, training: bool) -> bool:
        """Whether a readout that changes slowly (rate, elapsed time, progress, derived values) is due:
        always at rest, at most ``SLOW_INTERVAL`` apart while training. Each redraw of an element costs
        the browser a React render; the charts and the Step and Loss readouts keep the full rate."""
        now = time.monotonic()
        if training and now < self._slow_due.get(name, 0.0):
            return False
        self._slow_due[name] = now + SLOW_INTERVAL if training else 0.0
        return True

    def draw_status(self, run: Run | None, stale: bool, training: bool = False, preparing: bool = False) -> None:
        if run is not None and preparing:
            # The charts below still show the run's start while its framework loads: say what the wait is for.
            text = preparing_text(run.config.impl, run.config.compiled) or "Starting…"
            if self._changed("status", ("preparing", text)):
                self.status.info(text, icon=":material/hourglass_top:")
            return
        if run is not None and training and not run.finished:
            if not self._due("status", training):
                return
            snap = run.snapshot()
            if self._changed("status", ("progress", snap.step)):
                self.status.progress(snap.progress, text=f"Step {snap.step:,} of {snap.total_steps:,}")
            return
        kind, text = status_message(run, stale)
        if self._changed("status", (kind, text)):
            getattr(self.status, kind)(text)

    def draw_metrics(self, run: Run, frame: Frame, training: bool = False) -> None:
        snap = run.snapshot()
        step, loss, rate, elapsed, stable = self.metrics
        step.metric("Step", f"{frame.step:,}", help=f"of {snap.total_steps:,}")
        loss.metric("Loss", short_number(frame.loss),
                    help=f"{frame.loss:.10g} exactly; the least-squares optimum is {run.quad.optimum_loss:.10g}")
        if not self._due("metrics", training):
            return
        rate.metric("Steps / s", compact(snap.steps_per_second) if snap.elapsed else "–",
                    help=f"{snap.steps_per_second:,.0f} steps per second" if snap.elapsed else None)
        elapsed.metric("Elapsed", f"{snap.elapsed:.2f} s" if run.prepared else "–",
                       help=f"compile/trace {snap.compile_seconds:.2f} s (not counted)" if
                       snap.compile_seconds else None)
        if self._changed("lambda", run.quad.max_stable_lr):
            stable.metric("2/λmax", f"{run.quad.max_stable_lr:.3g}",
                          help="The largest stable SGD learning rate for this data.")

    def draw(self, run: Run, frame: Frame, pinned: Sequence[PinnedRun] = (), log_x: bool = False,
             stale: bool = False, training: bool = False, preparing: bool = False) -> None:
        """Fill every slot with ``frame``. ``preparing``: the run is about to load its framework; the
        charts keep the specs they had at rest, so the browser updates them in place instead of
        drawing them afresh while the server is busy importing."""
        problem, quad = run.problem, run.quad
        start = run.data.init.astype(np.float64)
        self.draw_status(run if run.prepared or run.finished or preparing else None, stale, training, preparing)
        self.draw_metrics(run, frame, training)
        fit_static = self._static_table("fit", id(run), lambda: charts.fit_static(
            problem, run.data.x, run.data.y, quad.optimum))
        self._draw(self.fit, "fit", charts.fit_chart(problem, run.data.x, run.data.y, frame.params, quad.optimum,
                                                     fit_static, not training))
        others = [(p.label, p.steps, p.losses) for p in pinned]
        loss_static = self._static_table("loss", (id(run), tuple(p.label for p in pinned)),
                                         lambda: charts.loss_static(others))
        at_rest = not training
        targets = np.array(problem.true_params) if problem.true_params is not None else quad.optimum
        label = "true" if problem.true_params is not None else "least-squares"
        axes = None if at_rest else charts.live_frame_for(run.total_steps, run.initial_loss, quad.optimum_loss,
                                                          start, np.array(targets, dtype=np.float64))
        stepping, whole, whole_path = {}, None, None
        if at_rest and self.on_step is not None:
            key = f"{problem.id}:{STEP_KEY}"
            stepping = {"key": key, "on_select": functools.partial(self.on_step, key),
                        "selection_mode": [charts.STEP_SELECTION, charts.HOVER_SELECTION]}
        if at_rest and frame.step < (latest := live_frame(run)).step:  # replaying: the rest of the run, faded
            whole, whole_path = (latest.steps, latest.losses), latest.path
        self._draw(self.loss, "loss", charts.loss_chart(frame.steps, frame.losses, quad.optimum_loss,
                                                        (frame.step, frame.loss), others, log_x, loss_static,
                                                        at_rest=at_rest, frame=axes, whole=whole), **stepping)
        self.draw_loss_note(frame)
        params_static = self._static_table("params", id(run), lambda: charts.params_static(
            problem.param_names, targets, label))
        self._draw(self.params, "params", charts.params_chart(problem.param_names, frame.steps, frame.path, targets,
                                                              label, (frame.step, frame.params), at_rest, axes,
                                                              params_static, whole_path))
        self.draw_landscape(run, frame, start, at_rest)
        self.draw_extra(run, frame, training)
        if self._changed("log", (id(run), len(run.log), frame.step if not run.log else None)):
            self.log.code(run.log_text() or "(the lines the notebook's code prints appear here as the run goes)",
                          language=None, height=LOG_HEIGHT if len(run.log) > LOG_LINES_SHOWN else "content")
        if self.notebook is not None and self._changed("notebook", (id(run), len(run.log), run.config, run.finished)):
            draw_notebook_lines(self.notebook, run)

    def draw_loss_note(self, frame: Frame) -> None:
        """A loss of exactly 0 (linear-2x fits w = 2 exactly) has no place on a log axis: the line stops
        before it, so a note under the chart says where and why."""
        losses = np.asarray(frame.losses)
        zero = np.flatnonzero(losses == 0)
        first = int(frame.steps[zero[0]]) if len(zero) else None
        if not self._changed("loss_note", first):
            return
        if first is None:
            self.loss_note.empty()
        else:
            self.loss_note.caption(f":material/info: The loss is exactly 0 from step {first:,}: the fit is exact "
                                   "in this dtype. A log axis has no 0, so the loss line stops at the step before.")

    def draw_landscape(self, run: Run, frame: Frame, start: np.ndarray, at_rest: bool) -> None:
        """The slice through the step shown, over a frame that holds the run so far (its contours are
        exact ellipses: recomputing them for every frame costs well under a millisecond)."""
        problem, quad, choice = run.problem, run.quad, self.axes
        slice_axes = land = None
        if choice is not None:
            slice_axes, land = run_landscape(quad, choice, tuple(problem.param_names), frame.params, start,
                                             frame.path)
        frame_key = None if land is None else (land.lo.tobytes(), land.hi.tobytes())
        land_static = self._static_table("landscape", (id(run), choice, frame_key), lambda: charts.landscape_static(
            quad, start, slice_axes, land))
        chart = charts.landscape_chart(quad, problem.param_names, frame.steps, frame.path, frame.params, start,
                                       slice_axes, land_static, at_rest, land, bool(choice and choice.eigen))
        picking = {}
        if at_rest and self.on_pick is not None and (slice_axes is not None or len(problem.param_names) == 1):
            key = f"{problem.id}:{PICK_KEY}"
            lo, hi = (land.lo, land.hi) if slice_axes is not None else charts.curve_frame(land_static)
            picking = {"key": key, "on_select": functools.partial(self.on_pick, key, slice_axes, lo, hi),
                       "selection_mode": [charts.PICK_SELECTION]}
        self._draw(self.landscape, "landscape", chart, **picking)
        if self._changed("landscape_note", chart.caption):
            if chart.caption:
                self.landscape_note.caption(chart.caption)
            else:
                self.landscape_note.empty()

    def _extra_slots(self, columns: int | list[int], count: int) -> list[Any]:
        """The derived readouts' placeholders, laid out once: a redraw then replaces only the metrics
        (each new container and column would be one more element for the browser to re-render)."""
        if self._extras is None:
            with self.extra.container():
                self._extras = [column.empty() for column in st.columns(columns)[:count]]
        return self._extras

    def draw_extra(self, run: Run, frame: Frame, training: bool = False) -> None:
        """What the demo's definition asks for beside the shared charts (``Problem.page``): its derived
        values from the start or against the truth, and one small fit per printed record."""
        hints = run.problem.page
        if not self._due("extra", training):
            return
        if hints.readout == "before-after":
            self.draw_before_after(run, frame)
        elif hints.readout == "versus-truth":
            self.draw_versus_truth(run, frame)
        if hints.record_panels:
            self.draw_record_panels(run, frame)

    def draw_before_after(self, run: Run, frame: Frame) -> None:
        if not self._changed("extra", (id(run), frame.step)):
            return
        problem = run.problem
        before = problem.derived(run.data.init.astype(np.float64))
        after = problem.derived(frame.params)
        with self.extra.container():
            for name in before:
                left, right, _ = st.columns([1, 1, 2])
                left.metric(f"{name} before training", f"{before[name]:.3f}")
                right.metric(f"{name} at step {frame.step:,}", f"{after[name]:.3f}",
                             delta=f"{after[name] - before[name]:.3f}")

    def draw_versus_truth(self, run: Run, frame: Frame) -> None:
        problem = run.problem
        truth = problem.derived(np.array(problem.true_params))
        derived = problem.derived(frame.params)
        for slot, (name, value) in zip(self._extra_slots(4, len(derived)), derived.items()):
            slot.metric(f"{name} (true {truth[name]:g})", f"{value:.4g}",
                        delta=f"{value - truth[name]:+.3g} from the truth", delta_color="off")

    def draw_record_panels(self, run: Run, frame: Frame) -> None:
        """The notebook's small multiples: one panel per record it printed, titled by its derived values."""
        problem = run.problem
        records = [(line.step + 1, line.params) for line in run.log if line.params is not None
                   and line.step + 1 <= frame.step]
        if not self._changed("extra_chart", (id(run), len(records))):
            return

        def title(step: int, params: np.ndarray) -> str:
            derived = ", ".join(f"{name} = {value:.3f}" for name, value in problem.derived(params).items())
            return f"step {step:,}: {derived}"
        if records:
            draw_chart(self.extra_chart, charts.panels_chart(problem, run.data.x.astype(np.float64),
                                                             run.data.y.astype(np.float64), records, title))
        else:
            names = " and ".join(problem.derived(run.data.init.astype(np.float64)))
            self.extra_chart.caption(f"The notebook's small multiples (one panel per record, titled {names}) "
                                     "appear here as the run records them.")


def compact(value: float) -> str:
    """1,234 / 12.3k / 4.56M: a rate that fits a metric column at 1280 px."""
    if value >= 1e6:
        return f"{value / 1e6:.3g}M"
    if value >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:,.0f}"


def short_number(value: float) -> str:
    """8.817 / 0.01234 / 1.30e-4 / 2.50e7: at most seven characters, so a metric column at 1280 px
    never cuts a loss short (the exact value is in the metric's help)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    if 1e-2 <= abs(value) < 9999.5:
        return f"{value:.4g}"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def framework_spinner_text(impl_id: str, compiled: bool) -> str:
    impl = get_implementation(impl_id)
    name = FRAMEWORK_NAMES[impl.framework]
    first = impl.framework in FRAMEWORK_MODULES and FRAMEWORK_MODULES[impl.framework] not in sys.modules
    loading = f"Loading {name}{' (first run on this server)' if first else ''}"
    if compiled and impl.framework == "torch":
        return f"{loading} and compiling with torch.compile (first run only: a few seconds)…"
    if compiled and impl.framework == "tensorflow":
        return f"{loading} and compiling the XLA loop…"
    return f"{loading}…"


def preparing_text(impl_id: str, compiled: bool) -> str | None:
    """What a run waits for before its first step, or None when it starts at once (NumPy)."""
    if get_implementation(impl_id).framework not in FRAMEWORK_MODULES and not compiled:
        return None
    return framework_spinner_text(impl_id, compiled)
