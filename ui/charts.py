"""Altair chart builders shared by every page. Pure: no Streamlit here.

Each chart is a fixed spec over named datasets, one per layer: ``static_*`` tables hold what cannot
change during a run (the data, the true and least-squares curves, the landscape) and ``live_*``
tables the iterates. The spec is built once with Altair and cached, so a live update sends only
data and the browser updates the chart in place (no flicker). No layer filters its rows in Vega:
Streamlit evaluates Vega expressions with a CSP-safe interpreter, slow enough per row that
filtering live tables saturated the browser; the rows each layer needs are chosen here instead.
Every table stays under ``MAX_POINTS`` rows and never holds a NaN or infinity.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

MAX_POINTS = 2000
CURVE_POINTS = 200
DATA_POINTS_SHOWN = 400  # every update repaints them: enough to see the shape, cheap to redraw
PATH_POINTS = 300
LIVE_POINTS = 200  # per line while training: Vega re-encodes every point of a changed table on each update
LIVE_CURVE_POINTS = 100  # the current fit while training (a polynomial of degree ≤ 3 needs no more)
GRID = 20  # landscape cells per side: 400 rects, repainted with every update
TOOLTIP_FORMAT = ".6g"
PANEL_WIDTH = 320  # fits a half-page column at a projector's 1280 px with the sidebar open
HEIGHT = 260
SERIES_ORDER = ["data", "current fit", "true curve", "least squares"]
# Readable on the light and the dark theme alike; orange is always "where the run is now".
SERIES_COLORS = ["#8C9AAB", "#F58518", "#54A24B", "#E45756"]
NOW = "#F58518"
TARGET = "#E45756"
LINE = "#4C78A8"
LIVE_DATA = alt.Data(name="live")  # the single table of a chart that is drawn whole each time


def live(layer: str) -> alt.Data:
    return alt.Data(name=f"live_{layer}")


def static(layer: str) -> alt.Data:
    return alt.Data(name=f"static_{layer}")


@dataclass(frozen=True)
class Chart:
    spec: dict[str, Any]
    live: dict[str, pd.DataFrame | pa.Table]
    static: dict[str, pd.DataFrame] = field(default_factory=dict)
    alt_text: str = ""
    stretch: bool = True  # fill the column's width; a stack of panels keeps its own width instead

    def __post_init__(self) -> None:
        # A chart drawn whole each time may pass one table: it is the single "live" dataset.
        if isinstance(self.live, pd.DataFrame):
            object.__setattr__(self, "live", {"live": self.live})
        if self.static is None:
            object.__setattr__(self, "static", {})

    def with_data(self, static_tables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The spec with its tables attached (pass the static tables' cached Arrow bytes to reuse
        them). Streamlit ships each table as Arrow and keeps the spec text itself unchanged."""
        tables = {f"live_{k}" if k != "live" else k: arrow_table(v) for k, v in self.live.items()}
        chosen = static_tables if static_tables is not None else self.static
        tables.update({f"static_{k}": v for k, v in chosen.items()})
        return {**self.spec, "datasets": tables}

    @property
    def rows(self) -> int:
        return sum(len(t) for t in self.live.values()) + sum(len(t) for t in self.static.values())


def arrow_table(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """A table's columns as Arrow, straight from their arrays: what Streamlit would send, without
    pandas' schema metadata, whose conversion cost most of a live redraw."""
    if isinstance(frame, pa.Table):
        return frame
    return pa.table({str(name): pa.array(frame[name].to_numpy(), from_pandas=True) for name in frame.columns})


def live_table(finite: Sequence[str], positive: str | None = None, **columns: Any) -> pa.Table:
    """A layer redrawn on every update, as Arrow straight from its arrays (a scalar fills its column),
    without the rows that have a NaN or infinity in ``finite`` or a value ≤ 0 in ``positive``."""
    length = max((len(v) for v in columns.values() if isinstance(v, (np.ndarray, list))), default=1)
    arrays = {k: v if isinstance(v, (np.ndarray, list)) else [v] * length for k, v in columns.items()}
    keep = np.ones(length, dtype=bool)
    for name in finite:
        keep &= np.isfinite(np.asarray(arrays[name], dtype=np.float64))
    if positive is not None:
        keep &= np.asarray(arrays[positive], dtype=np.float64) > 0
    if not keep.all():
        arrays = {k: np.asarray(v)[keep] for k, v in arrays.items()}
    return pa.table({k: pa.array(v, from_pandas=True) for k, v in arrays.items()})


def finite_rows(frame: pd.DataFrame, columns: Sequence[str], positive: str | None = None) -> pd.DataFrame:
    """Drop every row with a NaN or infinity in ``columns`` (and a value ≤ 0 in ``positive``, for a
    log axis): none may reach a chart."""
    if frame.empty:
        return frame
    keep = np.ones(len(frame), dtype=bool)
    for column in columns:
        keep &= np.isfinite(frame[column].to_numpy(dtype=np.float64))
    if positive is not None:
        keep &= frame[positive].to_numpy(dtype=np.float64) > 0
    return frame if keep.all() else frame[keep].reset_index(drop=True)


def vega_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """An Altair chart as the fixed Vega-Lite spec Streamlit draws (tables are attached per draw)."""
    spec = chart.to_dict()
    spec.pop("datasets", None)
    # Rows are checked finite (and positive for log axes) before they are sent, so Vega's own
    # per-row validity filter — an interpreted expression on every update — is switched off.
    spec.setdefault("config", {}).setdefault("mark", {})["invalid"] = None
    # Canvas redraws a thousand marks far faster than SVG rebuilds its DOM.
    spec["usermeta"] = {"embedOptions": {"renderer": "canvas"}}
    return spec


def _tips(tooltip: list[Any], at_rest: bool) -> dict[str, Any]:
    """Tooltips for a long live line only while the run is at rest: Vega evaluates a tooltip per
    point on every update, which costs the browser more than drawing the line itself."""
    return {"tooltip": tooltip} if at_rest else {}


def thin(count: int, limit: int) -> np.ndarray:
    """Indices of at most ``limit`` evenly spread items out of ``count``, first and last kept."""
    if count <= limit:
        return np.arange(count)
    return np.unique(np.round(np.linspace(0, count - 1, limit)).astype(np.int64))


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _frame(**columns: Any) -> pd.DataFrame:
    length = max((len(v) for v in columns.values() if isinstance(v, (np.ndarray, list))), default=1)
    return pd.DataFrame({k: (v if isinstance(v, (np.ndarray, list)) else [v] * length) for k, v in columns.items()})


# --- (a) the data and the fits ---------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def fit_spec(y_domain: tuple[float, float], at_rest: bool = True) -> dict[str, Any]:
    """The y range is the data's, fixed for a run: a wild early fit is clipped, not rescaled."""
    y = alt.Y("y:Q", title="y", scale=alt.Scale(domain=list(y_domain), nice=False))
    color = alt.Color("series:N", title=None, sort=SERIES_ORDER,
                      scale=alt.Scale(domain=SERIES_ORDER, range=SERIES_COLORS), legend=alt.Legend(orient="bottom"))
    tooltip = [alt.Tooltip("series:N"), alt.Tooltip("x:Q", format=TOOLTIP_FORMAT),
               alt.Tooltip("y:Q", format=TOOLTIP_FORMAT)]
    dash = alt.StrokeDash("series:N", legend=None, sort=SERIES_ORDER,
                          scale=alt.Scale(domain=SERIES_ORDER, range=[[1, 0], [1, 0], [6, 3], [2, 2]]))
    points = alt.Chart(static("data")).mark_circle(size=28, opacity=0.6, clip=True).encode(
        x=alt.X("x:Q", title="x"), y=y, color=color, tooltip=tooltip)
    curves = alt.Chart(static("curves")).mark_line(strokeWidth=2.5, clip=True).encode(
        x="x:Q", y=y, color=color, detail="series:N", strokeDash=dash, tooltip=tooltip)
    fit = alt.Chart(live("fit")).mark_line(strokeWidth=3, clip=True).encode(x="x:Q", y=y, color=color,
                                                                           **_tips(tooltip, at_rest))
    return vega_spec(alt.layer(points, curves, fit).properties(height=HEIGHT, title="Data and fits"))


def _curve_grid(x: np.ndarray, points: int = CURVE_POINTS) -> np.ndarray:
    return np.linspace(x.min(), x.max(), points) if len(x) > 1 else x


def _predict(problem: Any, grid: np.ndarray, theta: np.ndarray) -> np.ndarray:
    values = problem.predict(grid, list(np.asarray(theta, dtype=np.float64)))
    return np.broadcast_to(np.asarray(values, dtype=np.float64), grid.shape)


def fit_static(problem: Any, x: np.ndarray, y: np.ndarray, optimum: np.ndarray) -> dict[str, pd.DataFrame]:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    shown = thin(len(x), DATA_POINTS_SHOWN)
    grid = _curve_grid(x)
    truth = np.broadcast_to(np.asarray(problem.truth(grid), dtype=np.float64), grid.shape)
    curves = pd.concat([_frame(x=grid, y=truth, series="true curve"),
                        _frame(x=grid, y=_predict(problem, grid, optimum), series="least squares")],
                       ignore_index=True)
    return {"data": finite_rows(_frame(x=x[shown], y=y[shown], series="data"), ["x", "y"]),
            "curves": finite_rows(curves, ["x", "y"])}


def fit_chart(problem: Any, x: np.ndarray, y: np.ndarray, params: np.ndarray, optimum: np.ndarray,
              static_tables: dict[str, pd.DataFrame] | None = None, at_rest: bool = True) -> Chart:
    tables = fit_static(problem, x, y, optimum) if static_tables is None else static_tables
    grid = _curve_grid(np.asarray(x, dtype=np.float64), CURVE_POINTS if at_rest else LIVE_CURVE_POINTS)
    current = live_table(("x", "y"), x=grid, y=_predict(problem, grid, params), series="current fit")
    curves = tables["curves"]
    seen = np.concatenate([tables["data"].y.to_numpy(), curves.y[curves.series == "true curve"].to_numpy()])
    low, high = (float(seen.min()), float(seen.max())) if len(seen) else (-1.0, 1.0)
    pad = 0.12 * (high - low) if high > low else max(abs(high), 1.0)
    domain = (float(f"{low - pad:.3g}"), float(f"{high + pad:.3g}"))
    count = len(tables["data"])
    note = f" ({count:,} of {len(x):,} shown)" if count < len(x) else ""
    text = (f"Scatter of the {len(x):,} data points{note} with the current fit, the true curve and the "
            f"least-squares fit as lines")
    text += f"; current parameters {', '.join(_fmt(v) for v in params)}." if at_rest else "."
    return Chart(fit_spec(domain, at_rest), {"fit": current}, tables, text)


# --- (b) loss against step ----------------------------------------------------------------------

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
    floor = max(optimum_loss, 1e-12 * initial_loss, 1e-300)
    ranges = []
    for a, b in zip(np.asarray(start, np.float64), np.asarray(targets, np.float64)):
        low, high = min(a, b), max(a, b)
        pad = 0.25 * (high - low) if high > low else max(0.1 * abs(high), 1e-3)
        ranges.append((_round(low - pad), _round(high + pad)))
    return LiveFrame(int(total_steps), (_round(floor / 2), _round(max(initial_loss, floor) * 2)), tuple(ranges))


def _x_step(title: str | None, log_x: bool, frame: LiveFrame | None, **axis: Any) -> alt.X:
    scale = alt.Scale(type="symlog") if log_x else alt.Scale(zero=False)
    if frame is not None:
        scale = alt.Scale(type="symlog", domain=[0, frame.steps], nice=False) if log_x else \
            alt.Scale(domain=[0, frame.steps], nice=False)
    return alt.X("step:Q", title=title, scale=scale, **axis)


@functools.lru_cache(maxsize=64)
def loss_spec(log_x: bool = False, at_rest: bool = True, frame: LiveFrame | None = None,
              pinned: bool = False) -> dict[str, Any]:
    x = _x_step("step" + (" (log scale)" if log_x else ""), log_x, frame)
    y_scale = alt.Scale(type="log", domain=list(frame.loss), nice=False) if frame else alt.Scale(type="log")
    y = alt.Y("loss:Q", title="loss (log scale)", scale=y_scale, axis=alt.Axis(tickCount=5))
    tooltip = [alt.Tooltip("run:N"), alt.Tooltip("step:Q", format=","), alt.Tooltip("loss:Q", format=TOOLTIP_FORMAT)]
    others = alt.Chart(static("pinned")).mark_line(strokeWidth=1.5, opacity=0.8).encode(
        x=x, y=y, color=alt.Color("run:N", title="pinned runs", legend=alt.Legend(orient="right", labelLimit=240)),
        detail="run:N", tooltip=tooltip)
    optimum = alt.Chart(static("optimum")).mark_rule(strokeDash=[6, 4], color=TARGET).encode(
        y="loss:Q", tooltip=[alt.Tooltip("loss:Q", title="least-squares optimum", format=TOOLTIP_FORMAT)])
    curve = alt.Chart(live("curve")).mark_line(strokeWidth=2.5, color=LINE, clip=True).encode(
        x=x, y=y, **_tips(tooltip, at_rest))
    marker = alt.Chart(live("marker")).mark_point(size=90, filled=True, color=NOW, clip=True).encode(
        x=x, y=y, tooltip=tooltip)
    layers = [others] if pinned else []
    return vega_spec(alt.layer(*layers, optimum, curve, marker).properties(height=HEIGHT, title="Loss"))


def loss_static(optimum_loss: float, pinned: Sequence[tuple[str, np.ndarray, np.ndarray]] = ()) -> dict[str, pd.DataFrame]:
    runs = [_frame(step=np.empty(0), loss=np.empty(0), kind="pinned", run=np.empty(0, dtype=object))]
    for name, steps, losses in pinned:
        keep = thin(len(steps), MAX_POINTS // 8)
        runs.append(_frame(step=np.asarray(steps)[keep], loss=np.asarray(losses)[keep], kind="pinned", run=name))
    return {"optimum": finite_rows(_frame(step=[0], loss=[optimum_loss], kind="optimum",
                                          run="least-squares optimum"), ["step", "loss"], positive="loss"),
            "pinned": finite_rows(pd.concat(runs, ignore_index=True), ["step", "loss"], positive="loss")}


def loss_chart(steps: np.ndarray, losses: np.ndarray, optimum_loss: float, marker: tuple[int, float] | None,
               pinned: Sequence[tuple[str, np.ndarray, np.ndarray]] = (), log_x: bool = False,
               static_tables: dict[str, pd.DataFrame] | None = None, label: str = "this run",
               at_rest: bool = True, frame: LiveFrame | None = None) -> Chart:
    tables = loss_static(optimum_loss, pinned) if static_tables is None else static_tables
    keep = thin(len(steps), MAX_POINTS - 1 if at_rest else LIVE_POINTS)
    tables_live = {"curve": live_table(("step", "loss"), "loss", step=np.asarray(steps)[keep],
                                       loss=np.asarray(losses)[keep], kind="curve", run=label),
                   "marker": live_table(("step", "loss"), "loss", step=[marker[0]] if marker else [],
                                        loss=[marker[1]] if marker else [], kind="marker", run=label)}
    text = f"Loss against step on a log scale; the dashed line is the least-squares optimum {_fmt(optimum_loss)}"
    if at_rest and len(steps):
        text += f"; {_fmt(losses[0])} at step 0, {_fmt(losses[-1])} at step {int(steps[-1]):,}."
    else:
        text += "."
    if pinned:
        text += f" {len(pinned)} pinned run(s) overlaid."
    return Chart(loss_spec(log_x, at_rest, frame, bool(pinned)), tables_live, tables, text)


# --- (c) parameters against step ------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def params_spec(param_names: tuple[str, ...], at_rest: bool = True, frame: LiveFrame | None = None) -> dict[str, Any]:
    """One small chart per parameter, stacked: each with its own y scale and its own tables."""
    height = max(50, int(HEIGHT * 1.1 / len(param_names)))
    panels = []
    for i, name in enumerate(param_names):
        tooltip = [alt.Tooltip("param:N"), alt.Tooltip("step:Q", format=","),
                   alt.Tooltip("value:Q", format=TOOLTIP_FORMAT)]
        last = i == len(param_names) - 1
        x = _x_step("step" if last else None, False, frame, axis=alt.Axis(labels=last, ticks=last))
        y_scale = alt.Scale(domain=list(frame.params[i]), nice=False) if frame else alt.Scale(zero=False)
        y = alt.Y("value:Q", title=name, scale=y_scale, axis=alt.Axis(titleAngle=0, titleAlign="right"))
        path = alt.Chart(live(f"path_{i}")).mark_line(strokeWidth=2, color=LINE, clip=True).encode(
            x=x, y=y, **_tips(tooltip, at_rest))
        target = alt.Chart(static(f"target_{i}")).mark_rule(strokeDash=[6, 4], color=TARGET).encode(
            y="value:Q", tooltip=[alt.Tooltip("param:N"), alt.Tooltip("label:N", title="target"),
                                  alt.Tooltip("value:Q", format=TOOLTIP_FORMAT)])
        now = alt.Chart(live(f"now_{i}")).mark_point(size=70, filled=True, color=NOW, clip=True).encode(
            x="step:Q", y="value:Q", tooltip=tooltip)
        # Fixed width: Vega-Lite does not stretch the panels of a stack to their container.
        panels.append(alt.layer(path, target, now).properties(height=height, width=PANEL_WIDTH))
    return vega_spec(alt.vconcat(*panels, spacing=6).resolve_scale(x="shared").properties(title="Parameters"))


def params_chart(param_names: Sequence[str], steps: np.ndarray, params: np.ndarray,
                 targets: np.ndarray | None, target_label: str, marker: tuple[int, np.ndarray] | None,
                 at_rest: bool = True, frame: LiveFrame | None = None) -> Chart:
    count = len(param_names)
    keep = thin(len(steps), (MAX_POINTS - 2 * count) // count if at_rest else LIVE_POINTS // count)
    kept_steps = np.asarray(steps, dtype=np.float64)[keep]
    tables_live: dict[str, pa.Table] = {}
    tables_static: dict[str, pd.DataFrame] = {}
    for i, name in enumerate(param_names):
        values = params[keep, i] if len(params) else np.empty(0)
        tables_live[f"path_{i}"] = live_table(("step", "value"), step=kept_steps, value=values, param=name,
                                              kind="trajectory", label="")
        tables_live[f"now_{i}"] = live_table(("step", "value"), step=[float(marker[0])] if marker else [],
                                             value=[marker[1][i]] if marker else [], param=name, kind="marker",
                                             label="")
        target = _frame(step=[0.0] if targets is not None else [], value=[targets[i]] if targets is not None else [],
                        param=name, kind="target", label=target_label)
        tables_static[f"target_{i}"] = finite_rows(target, ["step", "value"])
    text = "Each parameter against step, one panel per parameter"
    if targets is not None:
        text += f", with the {target_label} value as a dashed line (" + \
            ", ".join(f"{n} = {_fmt(v)}" for n, v in zip(param_names, targets)) + ")"
    return Chart(params_spec(tuple(param_names), at_rest, frame), tables_live, tables_static, text + ".",
                 stretch=False)


# --- (d) the loss landscape ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def landscape_1d_spec(param: str, at_rest: bool = True) -> dict[str, Any]:
    x = alt.X("theta:Q", title=param)
    y = alt.Y("loss:Q", title="loss (log scale)", scale=alt.Scale(type="log"))
    tooltip = [alt.Tooltip("kind:N", title="what"), alt.Tooltip("theta:Q", title=param, format=TOOLTIP_FORMAT),
               alt.Tooltip("loss:Q", format=TOOLTIP_FORMAT), alt.Tooltip("step:Q", format=",")]
    curve = alt.Chart(static("curve")).mark_line(color="#999999").encode(x=x, y=y)
    optimum = alt.Chart(static("optimum")).mark_rule(strokeDash=[6, 4], color=TARGET).encode(x="theta:Q",
                                                                                            tooltip=tooltip)
    path = alt.Chart(live("path")).mark_line(point=True, color=LINE, strokeWidth=1.5, clip=True).encode(
        x=x, y=y, order="step:Q", **_tips(tooltip, at_rest))
    current = alt.Chart(live("current")).mark_point(size=130, filled=True, color=NOW, clip=True).encode(
        x=x, y=y, tooltip=tooltip)
    return vega_spec(alt.layer(curve, optimum, path, current).properties(height=HEIGHT, title="Loss landscape"))


@functools.lru_cache(maxsize=None)
def landscape_2d_spec(px: str, py: str, at_rest: bool = True) -> dict[str, Any]:
    tooltip = [alt.Tooltip("kind:N", title="what"), alt.Tooltip("p1:Q", title=px, format=TOOLTIP_FORMAT),
               alt.Tooltip("p2:Q", title=py, format=TOOLTIP_FORMAT), alt.Tooltip("loss:Q", format=TOOLTIP_FORMAT)]
    x = alt.X("p1:Q", title=px, scale=alt.Scale(zero=False, nice=False))
    y = alt.Y("p2:Q", title=py, scale=alt.Scale(zero=False, nice=False))
    shape = alt.Shape("kind:N", title=None, scale=alt.Scale(domain=["start", "optimum", "current"]),
                      legend=alt.Legend(orient="bottom"))
    cells = alt.Chart(static("grid")).mark_rect().encode(
        x=alt.X("p1_lo:Q", title=px, scale=alt.Scale(zero=False, nice=False)), x2="p1_hi:Q",
        y=alt.Y("p2_lo:Q", title=py, scale=alt.Scale(zero=False, nice=False)), y2="p2_hi:Q",
        color=alt.Color("band:Q", title="log₁₀(loss − optimum)",
                        scale=alt.Scale(scheme="viridis", type="quantize", nice=True)),
        tooltip=tooltip)
    fixed = alt.Chart(static("marks")).mark_point(size=150, filled=True, stroke="#000000", strokeWidth=1).encode(
        x=x, y=y, shape=shape, color=alt.value("#FFFFFF"), tooltip=tooltip)
    path = alt.Chart(live("path")).mark_line(point=alt.OverlayMarkDef(size=12, color="#FFFFFF"), color="#FFFFFF",
                                             strokeWidth=1.5, clip=True).encode(
        x=x, y=y, order="step:Q", **_tips(tooltip + [alt.Tooltip("step:Q", format=",")], at_rest))
    current = alt.Chart(live("current")).mark_point(size=170, filled=True, stroke="#000000", strokeWidth=1,
                                                    clip=True).encode(
        x=x, y=y, shape=shape, color=alt.value(NOW), tooltip=tooltip)
    return vega_spec(alt.layer(cells, path, fixed, current).properties(height=HEIGHT + 40,
                                                                   title="Loss landscape (2-D slice)"))


def landscape_bounds(points: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A box around the start and the optimum with a margin, fixed for a run so the view never jumps."""
    lo = np.minimum(points.min(axis=0), centre)
    hi = np.maximum(points.max(axis=0), centre)
    span = np.where(hi - lo > 0, hi - lo, np.maximum(np.abs(centre), 1.0))
    return lo - 0.25 * span, hi + 0.25 * span


def landscape_static(quad: Any, start: np.ndarray, axes: tuple[int, int] | None) -> dict[str, pd.DataFrame]:
    optimum = quad.optimum
    if axes is None:
        lo, hi = landscape_bounds(np.vstack([start[:1], optimum[:1]]), optimum[:1])
        theta = np.linspace(lo[0], hi[0], 240)
        curve = _frame(theta=theta, loss=quad.loss(theta[:, None]), kind="loss(θ)", step=np.nan)
        return {"curve": finite_rows(curve, ["theta", "loss"], positive="loss"),
                "optimum": _frame(theta=[optimum[0]], loss=[quad.optimum_loss], kind="optimum", step=np.nan),
                "bounds": _frame(theta=[lo[0], hi[0]])}
    i, j = axes
    lo, hi = landscape_bounds(np.vstack([start[[i, j]], optimum[[i, j]]]), optimum[[i, j]])
    g1, g2 = np.linspace(lo[0], hi[0], GRID + 1), np.linspace(lo[1], hi[1], GRID + 1)
    m1, m2 = np.meshgrid((g1[:-1] + g1[1:]) / 2, (g2[:-1] + g2[1:]) / 2, indexing="ij")
    points = np.broadcast_to(optimum, m1.shape + optimum.shape).copy()
    points[..., i], points[..., j] = m1, m2
    excess = np.maximum(quad.loss(points) - quad.optimum_loss, 0.0)
    floor = 1e-12 * max(quad.optimum_loss, excess.max(), 1e-300)
    a1, a2 = np.meshgrid(np.arange(GRID), np.arange(GRID), indexing="ij")
    grid = _frame(p1=m1.ravel(), p2=m2.ravel(), p1_lo=g1[a1.ravel()], p1_hi=g1[a1.ravel() + 1],
                  p2_lo=g2[a2.ravel()], p2_hi=g2[a2.ravel() + 1], loss=excess.ravel() + quad.optimum_loss,
                  band=np.log10(excess.ravel() + floor), kind="grid")
    marks = _frame(p1=[start[i], optimum[i]], p2=[start[j], optimum[j]], kind=["start", "optimum"],
                   loss=[float(quad.loss(start)), quad.optimum_loss])
    return {"grid": finite_rows(grid, ["p1_lo", "p1_hi", "p2_lo", "p2_hi", "band"]),
            "marks": finite_rows(marks, ["p1", "p2"])}


def landscape_chart(quad: Any, param_names: Sequence[str], path_steps: np.ndarray, path: np.ndarray,
                    current: np.ndarray, start: np.ndarray, axes: tuple[int, int] | None,
                    static_tables: dict[str, pd.DataFrame] | None = None, at_rest: bool = True) -> Chart:
    if len(param_names) == 1:
        axes = None
    tables = landscape_static(quad, start, axes) if static_tables is None else static_tables
    shown = thin(len(path_steps), PATH_POINTS if at_rest else LIVE_POINTS // 2)
    optimum = quad.optimum
    if axes is None:
        lo, hi = tables["bounds"].theta.to_numpy()
        theta = path[shown, 0] if len(path) else np.empty(0)
        inside = (theta >= lo) & (theta <= hi)
        here = lo <= current[0] <= hi
        text = (f"Loss as a function of {param_names[0]} (log scale) with the path of the iterates from "
                f"{_fmt(start[0])}; the optimum {param_names[0]} = {_fmt(optimum[0])} is the dashed line.")
        tables_live = {"path": live_table(("theta", "loss"), "loss", theta=theta[inside],
                                          loss=quad.loss(theta[inside, None]), kind="path",
                                          step=np.asarray(path_steps)[shown][inside]),
                       "current": live_table(("theta", "loss"), "loss", theta=[current[0]] if here else [],
                                             loss=[float(quad.loss(current[None, :1])[0])] if here else [],
                                             kind="current", step=np.nan)}
        return Chart(landscape_1d_spec(param_names[0], at_rest), tables_live,
                     {k: v for k, v in tables.items() if k != "bounds"}, text)
    i, j = axes
    grid = tables["grid"]
    lo = np.array([grid.p1_lo.min(), grid.p2_lo.min()])
    hi = np.array([grid.p1_hi.max(), grid.p2_hi.max()])
    points = path[shown][:, [i, j]] if len(path) else np.empty((0, 2))
    inside = np.all((points >= lo) & (points <= hi), axis=1)
    here = bool(np.all((current[[i, j]] >= lo) & (current[[i, j]] <= hi)))
    others = [n for k, n in enumerate(param_names) if k not in (i, j)]
    text = (f"Heat map of the loss over {param_names[i]} and {param_names[j]}"
            + (f" with {', '.join(others)} held at the optimum" if others else "")
            + f"; the path of the iterates runs from the start to the optimum ({param_names[i]} = "
            f"{_fmt(optimum[i])}, {param_names[j]} = {_fmt(optimum[j])}).")
    tables_live = {"path": live_table(("p1", "p2", "loss"), p1=points[inside, 0], p2=points[inside, 1], kind="path",
                                      step=np.asarray(path_steps)[shown][inside],
                                      loss=quad.loss(path[shown][inside]) if len(path) else np.empty(0)),
                   "current": live_table(("p1", "p2", "loss"), p1=[current[i]] if here else [],
                                         p2=[current[j]] if here else [], kind="current", step=np.nan,
                                         loss=[float(quad.loss(current))] if here else [])}
    return Chart(landscape_2d_spec(param_names[i], param_names[j], at_rest), tables_live, tables, text)


# --- demo extras ------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def panels_spec(columns: int) -> dict[str, Any]:
    color = alt.Color("series:N", title=None, scale=alt.Scale(domain=["data", "prediction"],
                                                              range=[SERIES_COLORS[0], NOW]),
                      legend=alt.Legend(orient="bottom"))
    tooltip = [alt.Tooltip("series:N"), alt.Tooltip("x:Q", format=TOOLTIP_FORMAT),
               alt.Tooltip("y:Q", format=TOOLTIP_FORMAT)]
    points = alt.Chart().mark_circle(size=22).encode(x=alt.X("x:Q", title="x"), y=alt.Y("y:Q", title="y"),
                                                     color=color, tooltip=tooltip)
    chart = points.properties(width=130, height=110).facet(
        data=LIVE_DATA, facet=alt.Facet("title:N", title=None, sort=alt.SortField("step"),
                                        header=alt.Header(labelFontSize=12)), columns=columns)
    return vega_spec(chart)


def panels_chart(problem: Any, x: np.ndarray, y: np.ndarray, records: Sequence[tuple[int, np.ndarray]],
                 title: Callable[[int, np.ndarray], str]) -> Chart:
    """The notebook's small multiples: data and prediction for each recorded step."""
    frames = []
    for step, params in records:
        prediction = np.broadcast_to(problem.predict(np.asarray(x, np.float64), list(params)), np.shape(x))
        label = title(step, params)
        frames.append(_frame(x=x, y=y, series="data", title=label, step=step))
        frames.append(_frame(x=x, y=prediction, series="prediction", title=label, step=step))
    table = finite_rows(pd.concat(frames, ignore_index=True), ["x", "y"]) if frames else \
        _frame(x=[], y=[], series=[], title=[], step=[])
    text = (f"{len(records)} small panels, one per recorded step, each with the data and the prediction; "
            "titles give the estimates.")
    return Chart(panels_spec(min(4, max(1, len(records)))), {"live": table}, {}, text)


@functools.lru_cache(maxsize=None)
def schedule_spec() -> dict[str, Any]:
    line = alt.Chart(LIVE_DATA).mark_line(color="#54A24B").encode(
        x=alt.X("step:Q", title="step"), y=alt.Y("lr:Q", title="learning rate", scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("step:Q", format=","), alt.Tooltip("lr:Q", format=TOOLTIP_FORMAT)])
    return vega_spec(line.properties(height=120, title="Learning rate by step"))


def schedule_chart(schedule: Any, lr: float, total_steps: int) -> Chart:
    steps = np.unique(np.round(np.linspace(0, max(total_steps - 1, 0), 300)).astype(np.int64))
    values = schedule.values_at(lr, steps, total_steps)
    table = finite_rows(_frame(step=steps, lr=values), ["step", "lr"])
    text = (f"Learning rate against step for the {schedule.describe()} schedule: {_fmt(values[0])} at the start, "
            f"{_fmt(values[-1])} at step {int(steps[-1]):,}.")
    return Chart(schedule_spec(), {"live": table}, {}, text)


def log_ticks(maximum: int) -> list[int]:
    """0, 1, 2, 5, 10, 20, 50, … up to and including ``maximum``: steps for a log-scale slider."""
    ticks = [0]
    decade = 1
    while decade <= maximum:
        ticks.extend(v for v in (decade, 2 * decade, 5 * decade) if v <= maximum)
        decade *= 10
    if ticks[-1] != maximum:
        ticks.append(maximum)
    return ticks


def is_finite_number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
