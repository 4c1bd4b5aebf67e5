"""The Speed page: one demo's run on every implementation, eager and compiled, and the exact engine.

Nothing runs until **Measure** is pressed. The measurement draws its progress between slices of
training of a tenth of a second, so a click anywhere stops it; what finished is kept in session
state and drawn on every rerun. Import times are measured once per server in fresh processes.
"""
from __future__ import annotations

import functools
from typing import Any, Sequence

import altair as alt
import pandas as pd
import streamlit as st

from fitcore import PROBLEMS
from fitcore.estimate import duration_text
from fitcore.speed import (KINDS, SECONDS_EACH, Entry, ImportCost, Timing, import_cost, installed_frameworks, left_out,
                           lineup, measure, opening_demo, speed_config, spread)

from ui.charts import Chart, finite_rows
from ui.charts.ink import themed_text
from ui.panels.pace import record_rate
from ui.speed.sweep import sweep_section
from ui.page.state import open_run
from ui.page.view import draw_chart

RESULTS = "speed:results"   # session state: demo id -> (seconds each, timings)
KIND_COLORS = ["#8C9AAB", "#4C78A8", "#54A24B"]
BUDGETS = (0.1, 0.2, 0.4, 1.0)
WHY = ("An eager step is a few dozen small operations, and each costs a fixed toll — Python, the framework's "
       "dispatch, autograd's bookkeeping (TensorFlow's eager runtime the most) — far larger than the arithmetic on "
       "a few thousand numbers, so the framework that does least per operation wins and NumPy beats PyTorch beats "
       "TensorFlow. The compiled paths pay that toll once per chunk of steps instead of once per operation (XLA "
       "and torch.compile fuse the whole loop; the Gram matrix makes a step's cost independent of the number of "
       "points, and for SGD and momentum in float64 turns 256 steps into one product of matrix powers), and the "
       "exact engine does no loop at all: on a quadratic loss, step t of gradient descent is (I − ηH)ᵗ applied in "
       "H's eigenbasis, one power per direction.")


@st.cache_resource(show_spinner=False)
def _import_cost(framework: str) -> ImportCost:
    """Measured once per server: a fact about this machine, not anyone's training state."""
    return import_cost(framework)


@functools.lru_cache(maxsize=8)
def speed_spec(labels: tuple[str, ...]) -> dict[str, Any]:
    y = alt.Y("label:N", sort=list(labels), title=None, axis=alt.Axis(labelLimit=260))
    x = alt.X("steps_per_second:Q", title="steps per second (log scale)", scale=alt.Scale(type="log"))
    color = alt.Color("kind:N", scale=alt.Scale(domain=list(KINDS), range=KIND_COLORS),
                      legend=alt.Legend(orient="bottom", title=None))
    tooltip = [alt.Tooltip("label:N", title="implementation"),
               alt.Tooltip("steps_per_second:Q", title="steps/s", format=",.0f"),
               alt.Tooltip("us_per_step:Q", title="µs/step", format=".3g"),
               alt.Tooltip("steps:Q", title="steps run", format=",")]
    bars = alt.Chart(alt.Data(name="live")).mark_bar().encode(x=x, y=y, color=color, tooltip=tooltip)
    text = alt.Chart(alt.Data(name="live")).mark_text(align="left", dx=4).encode(
        x=x, y=y, text=alt.Text("steps_per_second:Q", format=",.3~s"))
    spec = (bars + text).properties(height=max(120, 30 * len(labels))).to_dict()
    spec.pop("datasets", None)
    spec.setdefault("config", {}).setdefault("mark", {})["invalid"] = None
    spec["usermeta"] = {"embedOptions": {"renderer": "canvas"}}
    return themed_text(spec)


def speed_chart(timings: Sequence[Timing]) -> Chart:
    """Steps per second per implementation, fastest first, on a log axis (only positive, finite rates)."""
    measured = sorted((t for t in timings if t.error is None and t.steps), key=lambda t: -t.steps_per_second)
    frame = pd.DataFrame({"label": [t.entry.label for t in measured], "kind": [t.entry.kind for t in measured],
                          "steps_per_second": [t.steps_per_second for t in measured],
                          "us_per_step": [t.microseconds_per_step for t in measured],
                          "steps": [t.steps for t in measured]})
    frame = finite_rows(frame, ["steps_per_second", "us_per_step"], positive="steps_per_second")
    labels = tuple(frame["label"])
    fastest = f"{labels[0]} ({frame['steps_per_second'].iloc[0]:,.0f} steps/s)" if labels else "none"
    alt_text = f"Bar chart of steps per second for {len(labels)} implementations, log scale; fastest: {fastest}."
    return Chart(speed_spec(labels), frame, alt_text=alt_text)


def _compiles(entry: Entry) -> bool:
    """XLA and torch.compile trace and compile; the Gram path and eager loops have nothing to compile."""
    return entry.kind == "compiled" and entry.framework != "numpy"


def _table(timings: Sequence[Timing]) -> pd.DataFrame:
    rows = []
    for t in timings:
        rows.append({"implementation": t.entry.label, "path": t.entry.kind,
                     "steps / s": f"{t.steps_per_second:,.0f}" if t.error is None else "–",
                     "µs / step": f"{t.microseconds_per_step:.3g}" if t.error is None and t.steps else "–",
                     "steps run": f"{t.steps:,}" if t.error is None else "–",
                     "compile / trace s": f"{t.compile_seconds:.2f}" if _compiles(t.entry) and t.error is None
                     else "–",
                     "set-up s": f"{t.setup_seconds:.2f}" if t.error is None else "–",
                     "note": t.error or ""})
    return pd.DataFrame(rows)


def _run(problem_id: str, entries: Sequence[Entry], seconds_each: float) -> None:
    results: dict[str, Any] = st.session_state.setdefault(RESULTS, {})
    bar = st.progress(0.0, text="Timing each framework's import in a fresh Python (once per server)…")
    for framework in installed_frameworks():
        bar.progress(0.0, text=f"Timing the import of {framework} in a fresh Python (once per server)…")
        _import_cost(framework)
    timings: list[Timing] = []
    results[problem_id] = (seconds_each, timings)
    for progress in measure(problem_id, entries, seconds_each, open_run=open_run):
        if progress.timing is not None:
            timings.append(progress.timing)
            if progress.timing.error is None:
                record_rate(speed_config(problem_id, progress.timing.entry), progress.timing.steps_per_second,
                            "measured on the Speed page")
        text = f"{progress.label} ({min(progress.index + 1, progress.total)} of {progress.total})"
        bar.progress(min(progress.fraction, 1.0), text=text)
    bar.empty()


def _imports() -> None:
    frameworks = installed_frameworks()
    costs = [_import_cost(f) for f in frameworks]
    columns = st.columns(len(costs))
    for column, cost in zip(columns, costs):
        if cost.error:
            column.metric(f"import {cost.name}", "–", help=cost.error)
        else:
            column.metric(f"import {cost.name}", f"{cost.seconds:.2f} s", help=f"+{cost.megabytes:,.0f} MB resident, "
                          "measured in a fresh Python process (once per server)")


def speed_page() -> None:
    st.title("Speed")
    implementations, points = st.tabs(["Implementations", "Points and devices"])
    with implementations:
        _implementations()
    with points:
        sweep_section()


def _implementations() -> None:
    st.markdown("The same run — a demo's notebook settings — on every installed implementation, eager and "
                "compiled, and on the exact engine. Each trains for the same slice of time; the bars show how many "
                "steps it managed per second. Compiling and importing are one-time costs, measured apart.")
    problems = list(PROBLEMS)
    left, middle, right = st.columns([2, 1, 1], vertical_alignment="bottom")
    problem_id = left.selectbox("Demo", problems, index=problems.index(opening_demo()),
                                format_func=lambda p: PROBLEMS[p].title, key="speed:demo")
    seconds_each = middle.select_slider("Training time each", BUDGETS, value=SECONDS_EACH, key="speed:budget",
                                        format_func=lambda s: f"{s:g} s")
    available = lineup()
    labels = {e.label: e for e in available}
    chosen = st.multiselect("Implementations", list(labels), default=list(labels), key="speed:entries",
                            help="Every installed implementation by default.")
    for reason, missing in left_out().items():
        st.caption(f":material/block: Not measured here: {', '.join(e.label for e in missing)}. {reason}.")
    entries = [labels[name] for name in chosen]
    config = speed_config(problem_id, Entry("numpy"))
    st.caption(f"{PROBLEMS[problem_id].title}: {config.optimizer} lr {config.lr:g}, {config.reduction} loss, "
               f"{config.dtype}, {config.points:,} points. About {duration_text(len(entries) * seconds_each)} of "
               "training in all, plus imports and compiles the first time (torch.compile takes a few seconds per "
               "PyTorch style; they are kept for the server's life).")
    pressed = right.button("Measure", icon=":material/speed:", type="primary", key="speed:go",
                           disabled=not entries, width="stretch")
    if pressed:
        _run(problem_id, entries, seconds_each)
    stored = st.session_state.get(RESULTS, {}).get(problem_id)
    if stored is None:
        st.info("Press **Measure** to time every implementation on this demo.")
        return
    budget, timings = stored
    if timings:
        draw_chart(st.empty(), speed_chart(timings))
        st.dataframe(_table(timings), hide_index=True, width="stretch")
    if len(timings) < len(entries) and not pressed:
        st.caption(f"Interrupted after {len(timings)} of {len(entries)} implementations.")
    st.markdown("**Importing each framework** (a fresh Python each, once per server)")
    _imports()
    st.markdown("**Why they differ**")
    st.markdown(WHY)
    extremes = spread(timings)
    if extremes is not None:
        fastest, slowest, factor = extremes
        st.caption(f"Here {fastest.entry.label} ran {factor:,.0f}× as many steps per second as "
                   f"{slowest.entry.label} ({budget:g} s of training each).")
