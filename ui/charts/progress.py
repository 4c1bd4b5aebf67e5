"""(b) Loss against step and (c) every parameter against step."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from .base import (ENGINEERING, HEIGHT, LINE, LIVE_POINTS, MAX_POINTS, NOW, PANEL_WIDTH, TARGET, TOOLTIP_FORMAT,
                   Chart, finite_rows, fmt4, live, live_columns, live_table, numbers_filled_in, static, table_of, thin,
                   tips_at_rest, vega_spec)
from .ink import PARAMETER, WARNING


DECADES_BELOW = 3  # a loss axis reaches this far below the lowest loss drawn, and no further
LIVE_DECADES = 8  # while training, the loss axis spans at most this many decades below the start
PANEL_MIN_HEIGHT = 64  # a parameter's panel: room for three labels that do not touch
# A panel's y labels sit inside it; the scale keeps this many pixels free at its top and bottom, and a
# label that near an end leans inward (flush), so the lowest label of one panel never stacks onto the
# highest of the next (0.000 right over 1.0).
PANEL_EDGE = 10
PX_PER_TICK = 36  # one y label per this many pixels of a panel's height: three on 3 panels, two on 4 or more
LABEL_CLEARANCE = 16  # px from a panel's top or bottom to its nearest label's middle
PANEL_SPACING = 12  # px between two panels
STEP_SELECTION = "step"  # the loss chart's click selection at rest: the step to replay
HOVER_SELECTION = "hover"  # the loss chart's pointer-over selection at rest: the step shown while the pointer stays
LONG_RUN = 100_000  # steps from which the step axis reads 200k, 1M


@dataclass(frozen=True)
class LiveFrame:
    """Fixed axes for a run in progress: Vega then redraws only the marks, not the axes, and the
    curves grow across a still frame. ``None`` at rest, where every axis fits its data."""

    steps: int
    loss: tuple[float, float]
    params: tuple[tuple[float, float], ...]


def _round(value: float) -> float:
    return float(f"{value:.3g}")


def live_frame_for(total_steps: int, initial_loss: float, optimum_loss: float, start: np.ndarray,
                   targets: np.ndarray) -> LiveFrame:
    """Axes that hold a run from its start to its targets (overshoots are clipped)."""
    floor = max(optimum_loss, 10.0**-LIVE_DECADES * initial_loss, 1e-300)
    ranges = []
    for a, b in zip(np.asarray(start, np.float64), np.asarray(targets, np.float64)):
        low, high = min(a, b), max(a, b)
        pad = 0.25 * (high - low) if high > low else max(0.1 * abs(high), 1e-3)
        ranges.append((_round(low - pad), _round(high + pad)))
    return LiveFrame(int(total_steps), (_round(floor / 2), _round(max(initial_loss, floor) * 2)), tuple(ranges))



def _x_step(title: str | None, log_x: bool, frame: LiveFrame | None, long_run: bool = False,
            **axis: Any) -> alt.X:
    """Steps as whole numbers: 1,200 — or 200k, 1M on a run long enough that commas crowd the axis."""
    scale = alt.Scale(type="symlog") if log_x else alt.Scale(zero=False)
    if frame is not None:
        scale = alt.Scale(type="symlog", domain=[0, frame.steps], nice=False) if log_x else \
            alt.Scale(domain=[0, frame.steps], nice=False)
    # Vega gives every "~s" label the ticks' shared prefix ("0k"): zero is written plainly.
    long = {"format": "~s", "labelExpr": "datum.value == 0 ? '0' : datum.label"}
    axis = {**(long if long_run else {"format": ",d"}), "tickMinStep": 1, **axis}
    return alt.X("step:Q", title=title, scale=scale, axis=alt.Axis(**axis))


def is_long_run(last_step: int) -> bool:
    return last_step >= LONG_RUN


@numbers_filled_in
def loss_spec(log_x: bool = False, at_rest: bool = True, frame: LiveFrame | None = None,
              pinned: bool = False, long_run: bool = False) -> dict[str, Any]:
    x = _x_step("step" + (" (log scale)" if log_x else ""), log_x, frame, long_run)
    y_scale = alt.Scale(type="log", domain=list(frame.loss), nice=False) if frame else alt.Scale(type="log")
    y = alt.Y("loss:Q", title="loss (log scale)", scale=y_scale,
              axis=alt.Axis(tickCount=5, labelExpr=ENGINEERING, labelOverlap="greedy"))
    tooltip = [alt.Tooltip("run:N"), alt.Tooltip("step:Q", format=","), alt.Tooltip("loss:Q", format=TOOLTIP_FORMAT)]
    others = alt.Chart(static("pinned")).mark_line(strokeWidth=1.5, opacity=0.8).encode(
        x=x, y=y, color=alt.Color("run:N", title="pinned runs", legend=alt.Legend(orient="right", labelLimit=240)),
        detail="run:N", tooltip=tooltip)
    optimum = alt.Chart(live("optimum")).mark_rule(strokeDash=[6, 4], color=TARGET).encode(
        y="loss:Q", tooltip=[alt.Tooltip("loss:Q", title="least-squares optimum", format=TOOLTIP_FORMAT)])
    # An optimum far below the data would stretch the axis over empty decades: it is named instead.
    below = alt.Chart(live("below")).mark_text(align="left", baseline="bottom", dy=-4, color=WARNING.value,
                                               fontSize=11).encode(x=alt.value(4), y="loss:Q", text="note:N")
    # At rest one table holds the whole run (thinned): the curve to the step shown, the rest of the run faded,
    # and the invisible pick targets are views of it, so no point is sent twice.
    curve = alt.Chart(live("curve")).mark_line(strokeWidth=2.5, color=LINE, clip=True).encode(
        x=x, y=y, **tips_at_rest(tooltip, at_rest))
    if at_rest:
        curve = curve.transform_filter(alt.datum.kind == "curve")
    marker = alt.Chart(live("marker")).mark_point(size=90, filled=True, color=NOW, clip=True).encode(
        x=x, y=y, tooltip=tooltip)
    layers = [others] if pinned else []
    later, picks = [], []
    if at_rest:
        # Replaying an earlier step, the run's later part stays drawn, faded: the axes keep still, so
        # the step under the pointer stays under it while the page follows it.
        later = [alt.Chart(live("curve")).mark_line(strokeWidth=2, color=LINE, opacity=0.3, clip=True).encode(
            x=x, y=y, tooltip=tooltip).transform_filter(alt.datum.kind == "later")]
        # A click near the curve picks its nearest recorded step (invisible points: a line has no
        # nearest-point picking of its own), and so does the pointer resting over it; the page replays
        # the clicked step and shows the hovered one while the pointer stays.
        click = alt.selection_point(name=STEP_SELECTION, fields=["step"], nearest=True, on="click")
        hover = alt.selection_point(name=HOVER_SELECTION, fields=["step"], nearest=True, on="pointerover",
                                    clear="pointerout")
        picks = [alt.Chart(live("curve")).mark_point(opacity=0, size=10, clip=True).encode(
            x=x, y=y, tooltip=tooltip).add_params(click, hover)]
    return vega_spec(alt.layer(*layers, optimum, below, curve, *later, marker, *picks).properties(
        height=HEIGHT, title="Loss"))


def _whole_run(steps: np.ndarray, losses: np.ndarray, marker: tuple[int, float] | None, last_step: int,
               label: str) -> pa.Table:
    """The run at rest, thinned once: the rows to the step shown are the curve ("curve"), the rows after it
    its faded rest ("later"); the step shown itself closes the one and opens the other, so both reach it."""
    if marker is None:
        after = steps > last_step
        step, loss, kind = steps, losses, np.where(after, "later", "curve")
    else:
        before, after = steps < marker[0], steps > marker[0]
        ends = [marker] * (2 if after.any() else 1)   # the step shown ends the curve and, if any, starts the rest
        step = np.concatenate([steps[before], [s for s, _ in ends], steps[after]])
        loss = np.concatenate([losses[before], [v for _, v in ends], losses[after]])
        kind = np.repeat(["curve", "later"], [int(before.sum()) + 1, len(ends) - 1 + int(after.sum())])
    return live_table(("step", "loss"), "loss", step=step, loss=loss, kind=pa.array(kind), run=label)


def loss_static(pinned: Sequence[tuple[str, np.ndarray, np.ndarray]] = ()) -> dict[str, pd.DataFrame]:
    runs = [table_of(step=np.empty(0), loss=np.empty(0), run=np.empty(0, dtype=object))]
    for name, steps, losses in pinned:
        keep = thin(len(steps), MAX_POINTS // 8)
        runs.append(table_of(step=np.asarray(steps)[keep], loss=np.asarray(losses)[keep], run=name))
    return {"pinned": finite_rows(pd.concat(runs, ignore_index=True), ["step", "loss"], positive="loss")}


def optimum_tables(optimum_loss: float, losses: np.ndarray, frame: LiveFrame | None) -> dict[str, pa.Table]:
    """The optimum as a dashed line when it lies within ``DECADES_BELOW`` decades of the lowest loss
    shown (or inside a live frame), otherwise as a note at the bottom of the chart saying where it is."""
    shown = np.asarray(losses, dtype=np.float64)
    shown = shown[np.isfinite(shown) & (shown > 0)]
    lowest = frame.loss[0] if frame is not None else (float(shown.min()) if len(shown) else optimum_loss)
    floor = lowest if frame is not None else lowest / 10**DECADES_BELOW
    near = optimum_loss >= floor
    none = np.empty(0)
    # Only what each layer draws or its tooltip shows: these tables travel with every redraw.
    line = live_table(("loss",), "loss", loss=np.array([optimum_loss]) if near else none)
    note = f"▼ optimum {optimum_loss:.3g} lies below"
    below = live_table(("loss",), "loss", loss=none if near else np.array([lowest]),
                       note=np.array([], dtype=object) if near else np.array([note], dtype=object))
    return {"optimum": line, "below": below}


def loss_chart(steps: np.ndarray, losses: np.ndarray, optimum_loss: float, marker: tuple[int, float] | None,
               pinned: Sequence[tuple[str, np.ndarray, np.ndarray]] = (), log_x: bool = False,
               static_tables: dict[str, pd.DataFrame] | None = None, label: str = "this run",
               at_rest: bool = True, frame: LiveFrame | None = None,
               whole: tuple[np.ndarray, np.ndarray] | None = None) -> Chart:
    """The loss to the step shown (``steps``, ``losses``, ``marker``). ``whole``: the run's whole curve
    when that step is an earlier one (a replay); its later part is drawn faded, and everything that
    fixes the axes and the alt text comes from the whole run, so they keep still while the step moves."""
    tables = loss_static(pinned) if static_tables is None else static_tables
    keep = thin(len(steps), MAX_POINTS - 1 if at_rest else LIVE_POINTS)
    all_steps, all_losses = (np.asarray(steps), np.asarray(losses)) if whole is None else map(np.asarray, whole)
    every = thin(len(all_steps), MAX_POINTS - 1)
    last_step = frame.steps if frame is not None else (int(all_steps[-1]) if len(all_steps) else 0)
    if at_rest:
        curve = _whole_run(all_steps[every], all_losses[every], marker, last_step, label)
    else:
        # While training the curve has no tooltip: its table holds only where it goes (``live_columns``).
        moving = live_columns(frame is not None, step=frame.steps if frame else 0, loss=None)
        curve = live_table(("step", "loss"), "loss", moving, step=np.asarray(steps)[keep],
                           loss=np.asarray(losses)[keep], **({"kind": "curve", "run": label} if moving is None else {}))
    tables_live = {"curve": curve,
                   "marker": live_table(("step", "loss"), "loss", step=[marker[0]] if marker else [],
                                        loss=[marker[1]] if marker else [], kind="marker", run=label),
                   **optimum_tables(optimum_loss, all_losses[every] if at_rest else np.asarray(losses)[keep], frame)}
    drawn = len(tables_live["optimum"]) > 0
    text = (f"Loss against step on a log scale; the {'dashed line' if drawn else 'note at the bottom'} "
            f"gives the least-squares optimum {fmt4(optimum_loss)}")
    if at_rest and len(all_steps):
        text += f"; {fmt4(all_losses[0])} at step 0, {fmt4(all_losses[-1])} at step {int(all_steps[-1]):,}."
    else:
        text += "."
    if pinned:
        text += f" {len(pinned)} pinned run(s) overlaid."
    return Chart(loss_spec(log_x, at_rest, frame, bool(pinned), is_long_run(last_step)), tables_live, tables, text)


# --- (c) parameters against step ------------------------------------------------------------------

@dataclass(frozen=True)
class PanelTicks:
    """A parameter panel's labelled values and the d3 format that writes them."""

    values: tuple[float, ...]
    format: str


def panel_height(count: int) -> int:
    return max(PANEL_MIN_HEIGHT, int(HEIGHT * 1.1 / count))


def panel_ticks(low: float, high: float, height: int) -> PanelTicks:
    """Round values for a panel whose data run from ``low`` to ``high``: at most one per ``PX_PER_TICK``
    pixels (two, three), none nearer than ``LABEL_CLEARANCE`` pixels to the panel's top or bottom, so a
    panel's labels never sit at its edge beside the next panel's (where "0.0" over "1" read as one axis);
    each written with the digits its spacing needs. One value when the data do not spread."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return PanelTicks((), "~g")
    spread = high - low
    if spread <= 1e-9 * max(abs(low), abs(high), 1e-300):
        return PanelTicks((float(f"{(low + high) / 2:.4g}"),), ".4~g")
    # The data fill the panel less PANEL_EDGE at each end: values within the clearance are not labelled.
    per_px = spread / max(height - 2 * PANEL_EDGE, 1)
    inner = max(LABEL_CLEARANCE - PANEL_EDGE, 0) * per_px
    lo, hi = low + inner, high - inner
    most = max(2, min(3, height // PX_PER_TICK))
    exponent = math.floor(math.log10(spread))
    for step in (m * 10.0**e for e in range(exponent + 1, exponent - 4, -1) for m in (5, 2, 1)):
        first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
        if last - first + 1 >= 2:
            break
    every = max(1, math.ceil((last - first + 1) / most))
    chosen = tuple(float(f"{k * step:.12g}") for k in range(first, last + 1, every))
    if not chosen:  # the interior is too narrow for a round value: its middle, rounded
        return PanelTicks((float(f"{(low + high) / 2:.3g}"),), ".3~g")
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    largest = max(abs(v) for v in chosen)
    if decimals <= 6 and largest < 1e6:
        return PanelTicks(chosen, f",.{decimals}f")
    digits = math.floor(math.log10(max(largest, step))) - math.floor(math.log10(step) + 1e-9)
    return PanelTicks(chosen, f".{max(digits, 0)}e")


@numbers_filled_in
def params_spec(param_names: tuple[str, ...], at_rest: bool = True, frame: LiveFrame | None = None,
                long_run: bool = False, ticks: tuple[PanelTicks, ...] | None = None,
                domains: tuple[tuple[float, float], ...] | None = None) -> dict[str, Any]:
    """One small chart per parameter, stacked: each with its own y scale and its own tables.

    Streamlit stretches a stack by giving every panel the column's width as its plot width, so
    anything left of the plot would push the chart past its column: the y labels and the
    parameter's name are drawn inside the panel instead. Each scale keeps ``PANEL_EDGE`` pixels free
    at both ends. ``ticks``, one per panel (``panel_ticks``), label round values at least
    ``LABEL_CLEARANCE`` pixels from the panel's ends, each just above its grid line, so one panel's
    labels never stand at its edge beside the next panel's; short panels get fewer labels. Without
    them Vega picks ``tickCount`` values and the labels near an end lean inward. ``domains`` fix the
    panels' value ranges at rest (the whole run's, so replaying a step moves no axis and keeps the spec)."""
    height = panel_height(len(param_names))
    count = max(2, min(3, height // PX_PER_TICK))
    panels = []
    for i, name in enumerate(param_names):
        tooltip = [alt.Tooltip("param:N"), alt.Tooltip("step:Q", format=","),
                   alt.Tooltip("value:Q", format=TOOLTIP_FORMAT)]
        last = i == len(param_names) - 1
        x = _x_step("step" if last else None, False, frame, long_run, labels=last, ticks=last)
        fixed = frame.params[i] if frame else domains[i] if domains else None
        y_scale = alt.Scale(domain=list(fixed), nice=False, padding=PANEL_EDGE) if fixed else \
            alt.Scale(zero=False, nice=False, padding=PANEL_EDGE)
        # Chosen values sit on their grid lines, kept clear of the ends: each label stands just above its line.
        labels = {"values": list(ticks[i].values), "format": ticks[i].format, "labelBaseline": "bottom"} \
            if ticks else {"tickCount": count}
        y = alt.Y("value:Q", title=None, scale=y_scale,
                  axis=alt.Axis(**labels, labelFlush=PANEL_EDGE + 2, labelOverlap="greedy", ticks=False,
                                labelAlign="left", labelPadding=-4, domain=False))
        path = alt.Chart(live(f"path_{i}")).mark_line(strokeWidth=2, color=LINE, clip=True).encode(
            x=x, y=y, **tips_at_rest(tooltip, at_rest))
        target = alt.Chart(static(f"target_{i}")).mark_rule(strokeDash=[6, 4], color=TARGET).encode(
            y="value:Q", tooltip=[alt.Tooltip("param:N"), alt.Tooltip("label:N", title="target"),
                                  alt.Tooltip("value:Q", format=TOOLTIP_FORMAT)])
        now = alt.Chart(live(f"now_{i}")).mark_point(size=70, filled=True, color=NOW, clip=True).encode(
            x="step:Q", y="value:Q", tooltip=tooltip)
        label = alt.Chart(alt.Data(values=[{}])).mark_text(align="right", baseline="top", fontWeight="bold",
                                                           fontSize=12, color=PARAMETER.value, dx=-4, dy=3).encode(
            x=alt.value("width"), y=alt.value(0), text=alt.value(name))
        panels.append(alt.layer(path, target, now, label).properties(height=height, width=PANEL_WIDTH))
    chart = alt.vconcat(*panels, spacing=PANEL_SPACING).resolve_scale(x="shared").properties(title="Parameters")
    spec = vega_spec(chart)
    spec["padding"] = {"left": 0, "right": -4, "top": 5}
    spec["config"].setdefault("view", {})["stroke"] = None  # the frame's edge stroke would reach past the width
    return spec


def params_static(param_names: Sequence[str], targets: np.ndarray | None, target_label: str) -> dict[str, pd.DataFrame]:
    """Each panel's dashed target line: fixed for a run, so a view builds it once and reuses its bytes."""
    tables: dict[str, pd.DataFrame] = {}
    for i, name in enumerate(param_names):
        target = table_of(value=[targets[i]] if targets is not None else [], param=name, label=target_label)
        tables[f"target_{i}"] = finite_rows(target, ["value"])
    return tables


def params_chart(param_names: Sequence[str], steps: np.ndarray, params: np.ndarray,
                 targets: np.ndarray | None, target_label: str, marker: tuple[int, np.ndarray] | None,
                 at_rest: bool = True, frame: LiveFrame | None = None,
                 static_tables: dict[str, pd.DataFrame] | None = None, whole: np.ndarray | None = None) -> Chart:
    """The parameters to the step shown (``steps``, ``params``, ``marker``). At rest each panel's range
    holds the whole run (``whole``, its every recorded θ, when the step shown is an earlier one), the
    target and the marker, and its labels are chosen for that range."""
    count = len(param_names)
    keep = thin(len(steps), (MAX_POINTS - 2 * count) // count if at_rest else LIVE_POINTS // count)
    kept_steps = np.asarray(steps, dtype=np.float64)[keep]
    tables_live: dict[str, pa.Table] = {}
    tables_static = params_static(param_names, targets, target_label) if static_tables is None else static_tables
    height = panel_height(count)
    ticks, domains = [], []
    run_path = np.asarray(params if whole is None else whole, np.float64)
    for i, name in enumerate(param_names):
        values = params[keep, i] if len(params) else np.empty(0)
        if frame is not None:
            low, high = frame.params[i]
        else:
            held = np.concatenate([run_path[:, i] if len(run_path) else [], [targets[i]] if targets is not None
                                   else [], [marker[1][i]] if marker else []]).astype(np.float64)
            held = held[np.isfinite(held)]
            low, high = (float(held.min()), float(held.max())) if len(held) else (-1.0, 1.0)
            if high - low <= 1e-9 * max(abs(low), abs(high), 1e-300):  # a value that never moved: a range around it
                pad = max(1e-3 * abs(low), 1e-3)
                low, high = low - pad, high + pad
            domains.append((low, high))
        ticks.append(panel_ticks(low, high, height))
        moving = live_columns(not at_rest and frame is not None, step=frame.steps if frame else 0,
                              value=high - low)
        tables_live[f"path_{i}"] = live_table(("step", "value"), None, moving, step=kept_steps, value=values,
                                              **({"param": name, "kind": "trajectory", "label": ""}
                                                 if moving is None else {}))
        tables_live[f"now_{i}"] = live_table(("step", "value"), step=[float(marker[0])] if marker else [],
                                             value=[marker[1][i]] if marker else [], param=name, kind="marker",
                                             label="")
    text = "Each parameter against step, one panel per parameter"
    if targets is not None:
        text += f", with the {target_label} value as a dashed line (" + \
            ", ".join(f"{n} = {fmt4(v)}" for n, v in zip(param_names, targets)) + ")"
    last_step = frame.steps if frame is not None else (int(steps[-1]) if len(steps) else 0)
    spec = params_spec(tuple(param_names), at_rest, frame, is_long_run(last_step), tuple(ticks),
                       tuple(domains) if frame is None else None)
    return Chart(spec, tables_live, tables_static, text + ".")
