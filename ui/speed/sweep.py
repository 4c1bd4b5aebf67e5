"""The Speed page's points sweep: steps per second against the number of points, per implementation and
device, with the crossover marked where an accelerator starts to pay.

Nothing runs until **Sweep** is pressed. On a server without an accelerator the sweep has the CPU
implementations only, and the page says what one would add from the H200 measurement kept in
``fitcore.sweep`` (with its source), drawn beside this server's lines.
"""
from __future__ import annotations

import functools
from typing import Any, Sequence

import altair as alt
import pandas as pd
import streamlit as st

from fitcore.device import DEVICE_LABELS, accelerator_statuses
from fitcore.sweep import (DEVICE_POINTS, H200_COLUMNS, H200_SOURCE, H200_TABLE, PAGE_POINTS, SWEEP_DTYPE,
                           SWEEP_PROBLEM, SweepEntry, SweepPoint, crossover, measure_point, reference_crossover, sweep,
                           sweep_entries)

from ui.charts import Chart, finite_rows
from ui.charts.ink import TEXT, themed_text
from ui.page.limits import accelerated_points
from ui.page.state import off_page
from ui.page.view import draw_chart

RESULTS = "speed:sweep"  # session state: the SweepPoints of the last sweep
SECONDS = 0.1            # per timed run: three runs per point
REFERENCE = "H200 (issue 14)"
HERE = "this server"


def sweep_sizes(accelerated: bool) -> tuple[int, ...]:
    """Points to sweep: sine-cubic's own range on the CPU, up to the deployment's GPU cap with an accelerator."""
    if not accelerated:
        return PAGE_POINTS
    most = accelerated_points()
    return tuple(n for n in DEVICE_POINTS if n <= most)


@functools.lru_cache(maxsize=4)
def sweep_spec(crossing: bool) -> dict[str, Any]:
    x = alt.X("points:Q", title="points (log scale)", scale=alt.Scale(type="log"))
    y = alt.Y("steps_per_second:Q", title="steps per second (log scale)", scale=alt.Scale(type="log"))
    color = alt.Color("line:N", title=None, legend=alt.Legend(orient="bottom", columns=2, labelLimit=320))
    dash = alt.StrokeDash("source:N", title=None, legend=alt.Legend(orient="bottom"))
    tooltip = [alt.Tooltip("line:N", title="line"), alt.Tooltip("points:Q", format=","),
               alt.Tooltip("steps_per_second:Q", title="steps/s", format=",.0f"),
               alt.Tooltip("us_per_step:Q", title="µs/step", format=".3g")]
    lines = alt.Chart(alt.Data(name="live")).mark_line(point=True).encode(x=x, y=y, color=color, strokeDash=dash,
                                                                            tooltip=tooltip)
    layers = [lines]
    if crossing:  # its one row is the table "live_crossing"
        marked = alt.Chart(alt.Data(name="live_crossing"))
        layers += [marked.mark_rule(strokeDash=[4, 3], color="#888").encode(x="points:Q"),
                   marked.mark_text(align="left", dx=4, baseline="top", color=TEXT.value).encode(
                       x="points:Q", text="text:N")]
    spec = alt.layer(*layers).properties(height=340).to_dict()
    spec.pop("datasets", None)
    spec.setdefault("config", {}).setdefault("mark", {})["invalid"] = None
    return themed_text(spec)


def _reference_rows() -> list[dict[str, Any]]:
    rows = []
    for column, attribute in zip(H200_COLUMNS, ("cpu_us", "cuda_eager_us", "cuda_graph_us")):
        for row in H200_TABLE:
            us = getattr(row, attribute)
            rows.append({"line": f"{REFERENCE}: {column}", "source": REFERENCE, "points": row.points,
                         "steps_per_second": 1e6 / us, "us_per_step": us})
    return rows


def sweep_chart(points: Sequence[SweepPoint], with_reference: bool) -> Chart:
    """Measured lines (and the H200's, dashed) of steps per second against points, on log axes."""
    rows = [{"line": p.entry.label, "source": HERE, "points": p.points, "steps_per_second": p.steps_per_second,
             "us_per_step": p.microseconds_per_step} for p in points if p.error is None]
    if with_reference:
        rows += _reference_rows()
    frame = finite_rows(pd.DataFrame(rows, columns=["line", "source", "points", "steps_per_second", "us_per_step"]),
                        ["steps_per_second", "us_per_step"], positive="steps_per_second")
    crossing = measured_crossover(points)
    where = f"; the accelerator pays from {crossing:,} points" if crossing is not None else ""
    alt_text = (f"Line chart of steps per second against points, log scales: {frame['line'].nunique()} lines"
                f"{where}.")
    live = {"live": frame}
    if crossing is not None:
        live["crossing"] = pd.DataFrame({"points": [crossing], "text": [f"the accelerator pays from {crossing:,}"]})
    return Chart(sweep_spec(crossing is not None), live, alt_text=alt_text)


def measured_crossover(points: Sequence[SweepPoint]) -> int | None:
    """The fewest points from which some accelerator beats the CPU on the same style and path, at every
    larger size measured (the smallest such over the styles)."""
    table: dict[tuple[str, bool, str], dict[int, float]] = {}
    for p in points:
        if p.error is None:
            table.setdefault((p.entry.impl, p.entry.compiled, p.entry.device), {})[p.points] = p.microseconds_per_step
    found = []
    for (impl, compiled, device), on_device in table.items():
        on_cpu = table.get((impl, compiled, "cpu"))
        if device != "cpu" and on_cpu is not None:
            where = crossover(on_cpu, on_device)
            if where is not None:
                found.append(where)
    return min(found) if found else None


def _reference_table() -> pd.DataFrame:
    return pd.DataFrame([{"points": f"{r.points:,}", **{f"{c} (µs/step)": f"{v:,.3g}" if v < 100 else f"{v:,.0f}"
                                                       for c, v in zip(H200_COLUMNS, (r.cpu_us, r.cuda_eager_us,
                                                                                     r.cuda_graph_us))}}
                         for r in H200_TABLE])


def _what_an_accelerator_adds(statuses: Sequence[Any]) -> None:
    why = "; ".join(f"{DEVICE_LABELS[s.device]}: {s.reason}" for s in statuses)
    big, small = H200_TABLE[-1], H200_TABLE[0]
    st.info(f"This server has no accelerator ({why}), so the sweep runs the CPU implementations only. On an NVIDIA "
            f"H200, eager CUDA starts to beat two CPU threads from about {reference_crossover():,} points, runs "
            f"{big.cpu_us / big.cuda_eager_us:,.0f}× faster at {big.points:,}, and a CUDA graph of the steps (the "
            f"compiled path on CUDA) removes the launch cost that makes eager CUDA lose on small data: "
            f"{small.cuda_graph_us:g} µs per step at {small.points:,} points against the CPU's {small.cpu_us:g}.",
            icon=":material/memory:")
    st.dataframe(_reference_table(), hide_index=True, width="stretch")
    st.caption(f"Source: {H200_SOURCE}. The dashed lines on the chart are these figures.")


def sweep_section() -> None:
    st.markdown(f"Steps per second against the number of points on {SWEEP_PROBLEM} ({SWEEP_DTYPE}, SGD), for each "
                "implementation on each device this server has: where the per-step toll of launching operations "
                "stops mattering and the arithmetic does, an accelerator starts to pay.")
    statuses = accelerator_statuses()
    devices = ["cpu", *(s.device for s in statuses if s.available)]
    accelerated = len(devices) > 1
    sizes = sweep_sizes(accelerated)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    compiled = left.toggle("Include the compiled paths (each compiles per size: seconds each)", key="speed:sweep_compiled")
    entries = {e.label: e for e in sweep_entries(devices, compiled=compiled, numpy=True)}
    chosen = st.multiselect("Lines", list(entries), default=list(entries), key="speed:sweep_entries")
    st.caption(f"Points: {', '.join(f'{n:,}' for n in sizes)}; {len(chosen) * len(sizes)} measurements of about "
               f"{3 * SECONDS:g} s each, plus data and compiles.")
    if right.button("Sweep", icon=":material/stacked_line_chart:", key="speed:sweep_go", disabled=not chosen,
                    width="stretch"):
        _run([entries[name] for name in chosen], sizes)
    measured: list[SweepPoint] = st.session_state.get(RESULTS, [])
    if not accelerated:
        _what_an_accelerator_adds(statuses)
    if not measured:
        st.info("Press **Sweep** to time each line at each size.")
        return
    draw_chart(st.empty(), sweep_chart(measured, with_reference=not accelerated))
    crossing = measured_crossover(measured)
    if accelerated:
        st.caption(f"The accelerator pays from {crossing:,} points here." if crossing is not None else
                   "The accelerator did not beat the CPU at the sizes measured here.")
    for point in measured:
        if point.error is not None:
            st.caption(f":material/block: {point.entry.label}, {point.points:,} points: {point.error}")


def _run(entries: Sequence[SweepEntry], sizes: Sequence[int]) -> None:
    measured: list[SweepPoint] = []
    st.session_state[RESULTS] = measured
    bar = st.progress(0.0, text="Sweeping…")
    for progress in sweep(entries, sizes, seconds=SECONDS, measure=functools.partial(off_page, measure_point)):
        if progress.point is not None:
            measured.append(progress.point)
        fraction = progress.done / progress.total if progress.total else 1.0
        bar.progress(min(fraction, 1.0), text=f"{progress.label} ({progress.done} of {progress.total})")
    bar.empty()
