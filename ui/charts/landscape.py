"""(d) The loss landscape: the loss against the one parameter, or filled contours of a 2-D slice.

The contours come from ``fitcore.landscape`` (exact ellipses of the quadratic loss, no grid); each
is drawn as one filled line mark, outermost first, so every band shows the colour of its level.
"""
from __future__ import annotations

import functools
from typing import Any, Sequence

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from fitcore import QuadraticLoss
from fitcore.landscape import Landscape, SliceAxes, frame_for, pick_points, visible_path

from .base import (ENGINEERING, HEIGHT, LINE, LIVE_POINTS, NOW, PATH_POINTS, TARGET, TOOLTIP_FORMAT, Chart, finite_rows, fmt4,
                   live, live_columns, live_table, numbers_filled_in, static, table_of, thin, tips_at_rest, vega_spec)

BAND_SCHEME = "viridis"
PATH_COLOR = "#FFFFFF"
MARK_ORDER = ["start", "optimum", "current"]
LANDSCAPE_HEIGHT = 400  # the whole chart, title and axes included
PICK_SELECTION = "start"  # the landscape's click selection at rest: where the next run starts
PICK_LEVEL = 10  # pixels from the top: where the one-parameter picture's invisible pick targets lie


@functools.lru_cache(maxsize=None)
def landscape_1d_spec(param: str, at_rest: bool = True) -> dict[str, Any]:
    x = alt.X("theta:Q", title=param)
    y = alt.Y("loss:Q", title="loss (log scale)", scale=alt.Scale(type="log"),
              axis=alt.Axis(labelExpr=ENGINEERING, labelOverlap="greedy"))
    tooltip = [alt.Tooltip("kind:N", title="what"), alt.Tooltip("theta:Q", title=param, format=TOOLTIP_FORMAT),
               alt.Tooltip("loss:Q", format=TOOLTIP_FORMAT), alt.Tooltip("step:Q", format=",")]
    curve = alt.Chart(static("curve")).mark_line(color="#999999").encode(x=x, y=y)
    optimum = alt.Chart(static("optimum")).mark_rule(strokeDash=[6, 4], color=TARGET).encode(x="theta:Q",
                                                                                            tooltip=tooltip)
    path = alt.Chart(live("path")).mark_line(point=True, color=LINE, strokeWidth=1.5, clip=True).encode(
        x=x, y=y, order="step:Q", **tips_at_rest(tooltip, at_rest))
    current = alt.Chart(live("current")).mark_point(size=130, filled=True, color=NOW, clip=True).encode(
        x=x, y=y, tooltip=tooltip)
    layers = [curve, optimum, path, current]
    if at_rest:
        # A click anywhere on the picture picks the curve's nearest θ: invisible points on one level line
        # split the picture into vertical strips, one per θ, so only the click's x counts.
        pick = alt.selection_point(name=PICK_SELECTION, fields=["theta"], nearest=True, on="click")
        layers.append(alt.Chart(static("curve")).mark_point(opacity=0, size=10).encode(
            x=x, y=alt.value(PICK_LEVEL),
            tooltip=[alt.Tooltip("theta:Q", title=f"click to start at {param}", format=".3g")]).add_params(pick))
    return vega_spec(alt.layer(*layers).properties(height=HEIGHT, title="Loss landscape"))


def curve_frame(tables: dict[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """The one-parameter picture's θ range (the frame a picked start is rounded in), from its static tables."""
    theta = tables["curve"].theta
    return np.array([theta.min()], dtype=np.float64), np.array([theta.max()], dtype=np.float64)



@numbers_filled_in
def landscape_2d_spec(px: str, py: str, domain: tuple[tuple[float, float], tuple[float, float]],
                      at_rest: bool = True) -> dict[str, Any]:
    """Filled contours with the path on top; the frame (``domain``) is part of the spec, fixed while
    it holds the run, so live updates move only the marks."""
    tooltip = [alt.Tooltip("kind:N", title="what"), alt.Tooltip("p1:Q", title=px, format=TOOLTIP_FORMAT),
               alt.Tooltip("p2:Q", title=py, format=TOOLTIP_FORMAT), alt.Tooltip("loss:Q", format=TOOLTIP_FORMAT)]
    x_scale = alt.Scale(domain=list(domain[0]), nice=False, zero=False)
    y_scale = alt.Scale(domain=list(domain[1]), nice=False, zero=False)
    x = alt.X("p1:Q", title=px, scale=x_scale, axis=alt.Axis(tickCount=5))
    y = alt.Y("p2:Q", title=py, scale=y_scale, axis=alt.Axis(tickCount=5))
    bands = alt.Chart(live("bands")).mark_line(filled=True, clip=True, stroke="#FFFFFF", strokeWidth=0.4,
                                               strokeOpacity=0.5).encode(
        x=x, y=y, order="index:Q", detail="band:N",
        color=alt.Color("level:Q", title=["log₁₀(loss", "− optimum)"], scale=alt.Scale(scheme=BAND_SCHEME),
                        legend=alt.Legend(orient="right", direction="vertical", gradientLength=180,
                                          gradientThickness=12, format="~g")))
    path = alt.Chart(live("path")).mark_line(point=alt.OverlayMarkDef(size=10, color=PATH_COLOR), color=PATH_COLOR,
                                             strokeWidth=1.5, clip=True).encode(
        x=x, y=y, order="step:Q", **tips_at_rest(tooltip + [alt.Tooltip("step:Q", format=",")], at_rest))
    colors = alt.Color("kind:N", title=None, scale=alt.Scale(domain=MARK_ORDER, range=["#FFFFFF", TARGET, NOW]),
                       legend=None)
    shapes = alt.Shape("kind:N", scale=alt.Scale(domain=MARK_ORDER, range=["circle", "diamond", "circle"]),
                       legend=None)
    fixed = alt.Chart(static("marks")).mark_point(size=140, filled=True, stroke="#000000", strokeWidth=1,
                                                  clip=True, opacity=1).encode(
        x=x, y=y, color=colors, shape=shapes, tooltip=tooltip)
    # White words on a dark halo: readable over the palest and the darkest band alike. A word about a
    # mark in the frame's right half ends at the mark, one in its left half begins there: however narrow
    # the chart (a phone's), the word stays inside the frame (centred, "optimum" lost its end at 390 px).
    where = {"x": alt.X("label_x:Q", scale=x_scale), "y": alt.Y("label_y:Q", scale=y_scale), "text": "kind:N"}
    words = []
    for side in ("left", "right"):
        label = {"align": side, "baseline": "middle", "fontSize": 12, "fontWeight": "bold", "clip": True}
        chosen = alt.Chart(static("marks")).transform_filter(alt.datum.side == side)
        words += [chosen.mark_text(**label, color="#000000", stroke="#000000", strokeWidth=3, strokeOpacity=0.7,
                                   strokeJoin="round").encode(**where),
                  chosen.mark_text(**label, color="#FFFFFF").encode(**where)]
    current = alt.Chart(live("current")).mark_point(size=170, filled=True, stroke="#000000", strokeWidth=1,
                                                    clip=True, opacity=1).encode(
        x=x, y=y, color=colors, shape=shapes, tooltip=tooltip)
    layers = [bands, path, fixed, *words, current]
    if at_rest:
        # A click anywhere on the picture picks the nearest of an even grid of invisible points
        # (fitcore.landscape.pick_points): the page starts the next run there.
        pick = alt.selection_point(name=PICK_SELECTION, fields=["p1", "p2"], nearest=True, on="click")
        layers.append(alt.Chart(live("pick")).mark_point(opacity=0, size=10).encode(
            x=x, y=y, tooltip=[alt.Tooltip("p1:Q", title=f"click to start at {px}", format=".3g"),
                               alt.Tooltip("p2:Q", title=py, format=".3g")]).add_params(pick))
    return vega_spec(alt.layer(*layers).properties(height=LANDSCAPE_HEIGHT, title="Loss landscape"))


def label_positions(points: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Where each mark's word goes: just above it (below it near the top), and which side of that place
    it extends to: rightwards from a mark in the frame's left half, leftwards from one in its right
    half, so that a word about a point near the frame's edge is not cut off at any chart width."""
    span = np.where(hi > lo, hi - lo, 1.0)
    x = np.clip(points[:, 0], lo[0] + 0.02 * span[0], hi[0] - 0.02 * span[0])
    high = points[:, 1] > hi[1] - 0.12 * span[1]
    y = points[:, 1] + np.where(high, -0.07, 0.07) * span[1]
    sides = ["right" if value > (lo[0] + hi[0]) / 2 else "left" for value in x]
    return np.column_stack([x, y]), sides


def landscape_static(quad: QuadraticLoss, start: np.ndarray, axes: SliceAxes | None = None,
                     land: Landscape | None = None) -> dict[str, pd.DataFrame]:
    """What does not move during a run: for one parameter the loss curve over a frame holding the
    start and the optimum; for a slice the start and optimum marks (``axes``: a SliceAxes)."""
    optimum = quad.optimum
    if axes is None:
        lo, hi = frame_for(np.array([[start[0], 0.0], [optimum[0], 0.0]]))
        theta = np.linspace(lo[0], hi[0], 240)
        curve = table_of(theta=theta, loss=quad.loss(theta[:, None]), kind="loss(θ)", step=np.nan)
        return {"curve": finite_rows(curve, ["theta", "loss"], positive="loss"),
                "optimum": table_of(theta=[optimum[0]], loss=[quad.optimum_loss], kind="optimum", step=np.nan)}
    points = axes.coords(np.vstack([start, optimum]))
    words, sides = label_positions(points, land.lo, land.hi) if land is not None else (points, ["left", "left"])
    marks = table_of(p1=points[:, 0], p2=points[:, 1], kind=["start", "optimum"], label_x=words[:, 0],
                     label_y=words[:, 1], side=sides, loss=[float(quad.loss(start)), quad.optimum_loss])
    return {"marks": finite_rows(marks, ["p1", "p2", "label_x", "label_y"])}


def band_table(land: Landscape) -> pa.Table:
    """Every contour as rows (band, index, p1, p2, level), outermost first: the drawing order.
    Band names are zero-padded so that any ordering Vega picks (by name or by first row) agrees.
    Arrow straight from the arrays: it is rebuilt and sent for every live frame, so each column is as
    narrow as what it holds allows: the names once in a dictionary, the index in a byte, the corners
    in float32 where that moves no point (``positions``), the levels (multiples of half a decade) exact
    in float32."""
    count = len(land.contours)
    points = np.concatenate(land.contours) if count else np.empty((0, 2))
    size = len(land.contours[0]) if count else 0
    names = pa.DictionaryArray.from_arrays(pa.array(np.repeat(np.arange(count, dtype=np.int8), size)),
                                           pa.array([f"band {k:02d}" for k in range(count)]))
    index = np.tile(np.arange(size), count).astype(np.min_scalar_type(max(size - 1, 0)))
    levels = np.repeat(land.levels, size)
    exact = levels.astype(np.float32)
    span = land.hi - land.lo
    return live_table(("p1", "p2"), None, {"p1": float(span[0]), "p2": float(span[1])}, band=names, index=index,
                      p1=points[:, 0], p2=points[:, 1], level=exact if np.array_equal(exact, levels) else levels)


def slice_subtitle(axes: SliceAxes, names: Sequence[str], eigen: bool) -> str:
    """One line saying what the slice is; along eigen-directions, how much flatter one axis is."""
    if eigen:
        (flat, steep) = (0, 1) if axes.curvatures[0] <= axes.curvatures[1] else (1, 0)
        ratio = axes.flatness
        how = "infinitely" if not np.isfinite(ratio) else f"{ratio:,.3g}×"
        held = ", the others held at the step shown" if len(names) > 2 else ""
        return (f"Along the Hessian's eigen-directions{held}: {axes.labels[flat].split(' ')[0]} is {how} "
                f"flatter than {axes.labels[steep].split(' ')[0]}, so gradient descent moves along it "
                f"{how} slower")
    held = [n for n in names if n not in axes.labels]
    return f"Slice over {axes.labels[0]} and {axes.labels[1]}" + \
        (f", with {', '.join(held)} held at the step shown" if held else "")


def landscape_chart(quad: QuadraticLoss, param_names: Sequence[str], path_steps: np.ndarray, path: np.ndarray,
                    current: np.ndarray, start: np.ndarray, axes: SliceAxes | None = None,
                    static_tables: dict[str, pd.DataFrame] | None = None, at_rest: bool = True,
                    land: Landscape | None = None, eigen: bool = False) -> Chart:
    """The landscape at one frame of a run. For a slice pass ``axes`` (a SliceAxes through the held
    point) and ``land`` (its contours, from fitcore.landscape.slice_landscape)."""
    if len(param_names) == 1 or axes is None:
        return _landscape_1d(quad, param_names, path_steps, path, current, start, static_tables, at_rest)
    tables = landscape_static(quad, start, axes, land) if static_tables is None else static_tables
    coords = axes.coords(path) if len(path) else np.empty((0, 2))
    shown = visible_path(coords, land.lo, land.hi)
    shown = shown[thin(len(shown), PATH_POINTS * 2 if at_rest else LIVE_POINTS)]
    here = axes.coords(current)
    optimum = axes.coords(quad.optimum)
    text = (f"Filled contours of log₁₀(loss − optimum) over {axes.labels[0]} and {axes.labels[1]}"
            + f" ({slice_subtitle(axes, param_names, eigen).lower()})"
            + f"; the path of the iterates runs from the start toward the optimum ({axes.labels[0]} = "
            f"{fmt4(optimum[0])}, {axes.labels[1]} = {fmt4(optimum[1])}).")
    # While training the path has no tooltip: its table holds only where it goes and in which order.
    span = land.hi - land.lo
    moving = live_columns(not at_rest, p1=float(span[0]), p2=float(span[1]))
    tables_live = {"bands": band_table(land),
                   "path": live_table(("p1", "p2", "loss"), None, moving, unsent=() if moving is None else ("loss",),
                                      p1=coords[shown, 0], p2=coords[shown, 1],
                                      **({"kind": "path"} if moving is None else {}),
                                      step=np.asarray(path_steps, dtype=np.float64)[shown],
                                      loss=quad.loss(path[shown]) if len(path) else np.empty(0)),
                   "current": live_table(("p1", "p2", "loss"), p1=[here[0]], p2=[here[1]], kind="current",
                                         step=np.nan, loss=[float(quad.loss(current))])}
    if at_rest:
        targets = pick_points(land.lo, land.hi)
        tables_live["pick"] = live_table(("p1", "p2"), p1=targets[:, 0], p2=targets[:, 1])
    domain = ((float(land.lo[0]), float(land.hi[0])), (float(land.lo[1]), float(land.hi[1])))
    spec = landscape_2d_spec(axes.labels[0], axes.labels[1], domain, at_rest)
    return Chart(spec, tables_live, tables, text, caption=slice_subtitle(axes, param_names, eigen) + ".")


def _landscape_1d(quad: QuadraticLoss, param_names: Sequence[str], path_steps: np.ndarray, path: np.ndarray,
                  current: np.ndarray, start: np.ndarray, static_tables: dict[str, pd.DataFrame] | None,
                  at_rest: bool) -> Chart:
    tables = landscape_static(quad, start) if static_tables is None else static_tables
    optimum = quad.optimum
    lo, hi = tables["curve"].theta.min(), tables["curve"].theta.max()
    theta = path[:, 0] if len(path) else np.empty(0)
    shown = visible_path(np.column_stack([theta, np.zeros_like(theta)]), np.array([lo, -1.0]), np.array([hi, 1.0]))
    shown = shown[thin(len(shown), PATH_POINTS if at_rest else LIVE_POINTS // 2)]
    theta = theta[shown]
    inside = (theta >= lo) & (theta <= hi)
    here = lo <= current[0] <= hi
    text = (f"Loss as a function of {param_names[0]} (log scale) with the path of the iterates from "
            f"{fmt4(start[0])}; the optimum {param_names[0]} = {fmt4(optimum[0])} is the dashed line.")
    moving = live_columns(not at_rest, theta=float(hi - lo), loss=None)
    tables_live = {"path": live_table(("theta", "loss"), "loss", moving, theta=theta[inside],
                                      loss=quad.loss(theta[inside, None]),
                                      **({"kind": "path"} if moving is None else {}),
                                      step=np.asarray(path_steps)[shown][inside]),
                   "current": live_table(("theta", "loss"), "loss", theta=[current[0]] if here else [],
                                         loss=[float(quad.loss(current[None, :1])[0])] if here else [],
                                         kind="current", step=np.nan)}
    return Chart(landscape_1d_spec(param_names[0], at_rest), tables_live, tables, text)
