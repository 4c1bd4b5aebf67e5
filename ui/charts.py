"""Altair chart builders shared by every page. Pure: no Streamlit here.

Each chart is a fixed spec over two named datasets: ``static`` (what cannot change during a
run: the data, the true and least-squares curves, the landscape) and ``live`` (the iterates).
The spec is built once with Altair and cached; a live update sends a small ``live`` table and
the same ``static`` bytes, so the browser updates the chart in place (no flicker), skips the
unchanged table, and every update stays under ``MAX_POINTS`` rows.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import altair as alt
import numpy as np
import pandas as pd

MAX_POINTS = 2000
CURVE_POINTS = 200
DATA_POINTS_SHOWN = 1000
PATH_POINTS = 600
GRID = 36  # landscape grid per side: 1,296 cells, sent once per run
TOOLTIP_FORMAT = ".6g"
HEIGHT = 260
SERIES_ORDER = ["data", "current fit", "true curve", "least squares"]
# Readable on the light and the dark theme alike; orange is always "where the run is now".
SERIES_COLORS = ["#8C9AAB", "#F58518", "#54A24B", "#E45756"]
NOW = "#F58518"
TARGET = "#E45756"
LINE = "#4C78A8"

STATIC, LIVE = "static", "live"
STATIC_DATA, LIVE_DATA = alt.Data(name=STATIC), alt.Data(name=LIVE)


@dataclass(frozen=True)
class Chart:
    spec: dict[str, Any]
    live: pd.DataFrame
    static: pd.DataFrame | None
    alt_text: str

    def with_data(self, static: pd.DataFrame | bytes | None = None) -> dict[str, Any]:
        """The spec with its tables attached; pass the static table's Arrow bytes to reuse them.

        Streamlit ships each table as Arrow and keeps the spec text itself unchanged."""
        datasets: dict[str, Any] = {LIVE: self.live}
        chosen = static if static is not None else self.static
        if chosen is not None:
            datasets[STATIC] = chosen
        return {**self.spec, "datasets": datasets}

    @property
    def rows(self) -> int:
        return len(self.live) + (len(self.static) if self.static is not None else 0)


def finite_rows(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Drop every row with a NaN or infinity in ``columns``: none may reach a chart."""
    if frame.empty:
        return frame
    values = frame[list(columns)].to_numpy(dtype=np.float64)
    return frame[np.isfinite(values).all(axis=1)].reset_index(drop=True)


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    spec = chart.to_dict()
    spec.pop("datasets", None)
    # Canvas redraws a thousand marks far faster than SVG rebuilds its DOM.
    spec["usermeta"] = {"embedOptions": {"renderer": "canvas"}}
    return spec


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
def fit_spec(y_domain: tuple[float, float]) -> dict[str, Any]:
    """The y range is the data's, fixed for a run: a wild early fit is clipped, not rescaled."""
    y = alt.Y("y:Q", title="y", scale=alt.Scale(domain=list(y_domain), nice=False))
    color = alt.Color("series:N", title=None, sort=SERIES_ORDER,
                      scale=alt.Scale(domain=SERIES_ORDER, range=SERIES_COLORS), legend=alt.Legend(orient="bottom"))
    tooltip = [alt.Tooltip("series:N"), alt.Tooltip("x:Q", format=TOOLTIP_FORMAT),
               alt.Tooltip("y:Q", format=TOOLTIP_FORMAT)]
    dash = alt.StrokeDash("series:N", legend=None, sort=SERIES_ORDER,
                          scale=alt.Scale(domain=SERIES_ORDER, range=[[1, 0], [1, 0], [6, 3], [2, 2]]))
    points = alt.Chart(STATIC_DATA).mark_circle(size=28, opacity=0.6, clip=True).encode(
        x=alt.X("x:Q", title="x"), y=y, color=color, tooltip=tooltip).transform_filter(alt.datum.series == "data")
    curves = alt.Chart(STATIC_DATA).mark_line(strokeWidth=2.5, clip=True).encode(
        x="x:Q", y=y, color=color, detail="series:N", strokeDash=dash, tooltip=tooltip,
    ).transform_filter(alt.datum.series != "data")
    fit = alt.Chart(LIVE_DATA).mark_line(strokeWidth=3, clip=True).encode(x="x:Q", y=y, color=color,
                                                                          tooltip=tooltip)
    return _spec(alt.layer(points, curves, fit).properties(height=HEIGHT, title="Data and fits"))


def _curve_grid(x: np.ndarray) -> np.ndarray:
    return np.linspace(x.min(), x.max(), CURVE_POINTS) if len(x) > 1 else x


def _predict(problem: Any, grid: np.ndarray, theta: np.ndarray) -> np.ndarray:
    values = problem.predict(grid, list(np.asarray(theta, dtype=np.float64)))
    return np.broadcast_to(np.asarray(values, dtype=np.float64), grid.shape)


def fit_static(problem: Any, x: np.ndarray, y: np.ndarray, optimum: np.ndarray) -> pd.DataFrame:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    shown = thin(len(x), DATA_POINTS_SHOWN)
    grid = _curve_grid(x)
    truth = np.broadcast_to(np.asarray(problem.truth(grid), dtype=np.float64), grid.shape)
    frames = [_frame(x=x[shown], y=y[shown], series="data"), _frame(x=grid, y=truth, series="true curve"),
              _frame(x=grid, y=_predict(problem, grid, optimum), series="least squares")]
    return finite_rows(pd.concat(frames, ignore_index=True), ["x", "y"])


def fit_chart(problem: Any, x: np.ndarray, y: np.ndarray, params: np.ndarray, optimum: np.ndarray,
              static: pd.DataFrame | None = None) -> Chart:
    static = fit_static(problem, x, y, optimum) if static is None else static
    grid = _curve_grid(np.asarray(x, dtype=np.float64))
    live = finite_rows(_frame(x=grid, y=_predict(problem, grid, params), series="current fit"), ["x", "y"])
    seen = static.y[static.series != "least squares"].to_numpy()
    low, high = (float(seen.min()), float(seen.max())) if len(seen) else (-1.0, 1.0)
    pad = 0.12 * (high - low) if high > low else max(abs(high), 1.0)
    domain = (float(f"{low - pad:.3g}"), float(f"{high + pad:.3g}"))
    count = int((static.series == "data").sum())
    note = f" ({count:,} of {len(x):,} shown)" if count < len(x) else ""
    text = (f"Scatter of the {len(x):,} data points{note} with the current fit, the true curve and the "
            f"least-squares fit as lines; current parameters {', '.join(_fmt(v) for v in params)}.")
    return Chart(fit_spec(domain), live, static, text)


# --- (b) loss against step ----------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def loss_spec(log_x: bool = False) -> dict[str, Any]:
    x_scale = alt.Scale(type="symlog") if log_x else alt.Scale(zero=False)
    x = alt.X("step:Q", title="step" + (" (log scale)" if log_x else ""), scale=x_scale)
    y = alt.Y("loss:Q", title="loss (log scale)", scale=alt.Scale(type="log"))
    tooltip = [alt.Tooltip("run:N"), alt.Tooltip("step:Q", format=","), alt.Tooltip("loss:Q", format=TOOLTIP_FORMAT)]
    positive = alt.datum.loss > 0
    pinned = alt.Chart(STATIC_DATA).mark_line(strokeWidth=1.5, opacity=0.8).encode(
        x=x, y=y, color=alt.Color("run:N", title="pinned runs", legend=alt.Legend(orient="bottom", labelLimit=480,
                                                                               columns=1)),
        detail="run:N", tooltip=tooltip).transform_filter((alt.datum.kind == "pinned") & positive)
    optimum = alt.Chart(STATIC_DATA).mark_rule(strokeDash=[6, 4], color=TARGET).encode(
        y="loss:Q", tooltip=[alt.Tooltip("loss:Q", title="least-squares optimum", format=TOOLTIP_FORMAT)],
    ).transform_filter((alt.datum.kind == "optimum") & positive)
    curve = alt.Chart(LIVE_DATA).mark_line(strokeWidth=2.5, color=LINE).encode(x=x, y=y, tooltip=tooltip) \
        .transform_filter((alt.datum.kind == "curve") & positive)
    marker = alt.Chart(LIVE_DATA).mark_point(size=90, filled=True, color=NOW).encode(x=x, y=y, tooltip=tooltip) \
        .transform_filter((alt.datum.kind == "marker") & positive)
    return _spec(alt.layer(pinned, optimum, curve, marker).properties(height=HEIGHT, title="Loss"))


def loss_static(optimum_loss: float, pinned: Sequence[tuple[str, np.ndarray, np.ndarray]] = ()) -> pd.DataFrame:
    frames = [_frame(step=[0], loss=[optimum_loss], kind="optimum", run="least-squares optimum")]
    for name, steps, losses in pinned:
        keep = thin(len(steps), MAX_POINTS // 8)
        frames.append(_frame(step=np.asarray(steps)[keep], loss=np.asarray(losses)[keep], kind="pinned", run=name))
    return finite_rows(pd.concat(frames, ignore_index=True), ["step", "loss"])


def loss_chart(steps: np.ndarray, losses: np.ndarray, optimum_loss: float, marker: tuple[int, float] | None,
               pinned: Sequence[tuple[str, np.ndarray, np.ndarray]] = (), log_x: bool = False,
               static: pd.DataFrame | None = None, label: str = "this run") -> Chart:
    static = loss_static(optimum_loss, pinned) if static is None else static
    keep = thin(len(steps), MAX_POINTS - 1)
    frames = [_frame(step=np.asarray(steps)[keep], loss=np.asarray(losses)[keep], kind="curve", run=label)]
    if marker is not None:
        frames.append(_frame(step=[marker[0]], loss=[marker[1]], kind="marker", run=label))
    live = finite_rows(pd.concat(frames, ignore_index=True), ["step", "loss"])
    if len(steps):
        text = (f"Loss against step on a log scale: {_fmt(losses[0])} at step 0, {_fmt(losses[-1])} at step "
                f"{int(steps[-1]):,}; the dashed line is the least-squares optimum {_fmt(optimum_loss)}.")
    else:
        text = f"Loss against step: no steps yet; the least-squares optimum is {_fmt(optimum_loss)}."
    if pinned:
        text += f" {len(pinned)} pinned run(s) overlaid."
    return Chart(loss_spec(log_x), live, static, text)


# --- (c) parameters against step ------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def params_spec(param_names: tuple[str, ...]) -> dict[str, Any]:
    base = alt.Chart()
    tooltip = [alt.Tooltip("param:N"), alt.Tooltip("step:Q", format=","),
               alt.Tooltip("value:Q", format=TOOLTIP_FORMAT)]
    line = base.mark_line(strokeWidth=2, color=LINE).encode(
        x=alt.X("step:Q", title="step"), y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        tooltip=tooltip).transform_filter(alt.datum.kind == "trajectory")
    target = base.mark_rule(strokeDash=[6, 4], color=TARGET).encode(
        y="value:Q", tooltip=[alt.Tooltip("param:N"), alt.Tooltip("label:N", title="target"),
                              alt.Tooltip("value:Q", format=TOOLTIP_FORMAT)],
    ).transform_filter(alt.datum.kind == "target")
    marker = base.mark_point(size=70, filled=True, color=NOW).encode(
        x="step:Q", y="value:Q", tooltip=tooltip).transform_filter(alt.datum.kind == "marker")
    height = max(60, int(HEIGHT * 1.1 / len(param_names)))
    layered = alt.layer(line, target, marker).properties(height=height)
    return _spec(layered.facet(data=LIVE_DATA, row=alt.Row("param:N", title=None, sort=list(param_names),
                                                            header=alt.Header(labelAngle=0, labelAlign="left")))
                 .resolve_scale(y="independent").properties(title="Parameters"))


def params_chart(param_names: Sequence[str], steps: np.ndarray, params: np.ndarray,
                 targets: np.ndarray | None, target_label: str, marker: tuple[int, np.ndarray] | None) -> Chart:
    keep = thin(len(steps), (MAX_POINTS - 4 * len(param_names)) // len(param_names))
    frames = []
    for i, name in enumerate(param_names):
        frames.append(_frame(step=np.asarray(steps)[keep], value=params[keep, i] if len(params) else np.empty(0),
                             param=name, kind="trajectory", label=""))
        if targets is not None:
            frames.append(_frame(step=[0], value=[targets[i]], param=name, kind="target", label=target_label))
        if marker is not None:
            frames.append(_frame(step=[marker[0]], value=[marker[1][i]], param=name, kind="marker", label=""))
    live = finite_rows(pd.concat(frames, ignore_index=True), ["step", "value"])
    text = "Each parameter against step, one panel per parameter"
    if targets is not None:
        text += f", with the {target_label} value as a dashed line (" + \
            ", ".join(f"{n} = {_fmt(v)}" for n, v in zip(param_names, targets)) + ")"
    return Chart(params_spec(tuple(param_names)), live, None, text + ".")


# --- (d) the loss landscape ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def landscape_1d_spec(param: str) -> dict[str, Any]:
    x = alt.X("theta:Q", title=param)
    y = alt.Y("loss:Q", title="loss (log scale)", scale=alt.Scale(type="log"))
    tooltip = [alt.Tooltip("kind:N", title="what"), alt.Tooltip("theta:Q", title=param, format=TOOLTIP_FORMAT),
               alt.Tooltip("loss:Q", format=TOOLTIP_FORMAT), alt.Tooltip("step:Q", format=",")]
    positive = alt.datum.loss > 0
    curve = alt.Chart(STATIC_DATA).mark_line(color="#999999").encode(x=x, y=y).transform_filter(
        (alt.datum.kind == "loss(θ)") & positive)
    optimum = alt.Chart(STATIC_DATA).mark_rule(strokeDash=[6, 4], color=TARGET).encode(x="theta:Q", tooltip=tooltip) \
        .transform_filter(alt.datum.kind == "optimum")
    path = alt.Chart(LIVE_DATA).mark_line(point=True, color=LINE, strokeWidth=1.5, clip=True).encode(
        x=x, y=y, order="step:Q", tooltip=tooltip).transform_filter((alt.datum.kind == "path") & positive)
    current = alt.Chart(LIVE_DATA).mark_point(size=130, filled=True, color=NOW, clip=True).encode(
        x=x, y=y, tooltip=tooltip).transform_filter((alt.datum.kind == "current") & positive)
    return _spec(alt.layer(curve, optimum, path, current).properties(height=HEIGHT, title="Loss landscape"))


@functools.lru_cache(maxsize=None)
def landscape_2d_spec(px: str, py: str) -> dict[str, Any]:
    tooltip = [alt.Tooltip("kind:N", title="what"), alt.Tooltip("p1:Q", title=px, format=TOOLTIP_FORMAT),
               alt.Tooltip("p2:Q", title=py, format=TOOLTIP_FORMAT), alt.Tooltip("loss:Q", format=TOOLTIP_FORMAT)]
    x = alt.X("p1:Q", title=px, scale=alt.Scale(zero=False, nice=False))
    y = alt.Y("p2:Q", title=py, scale=alt.Scale(zero=False, nice=False))
    cells = alt.Chart(STATIC_DATA).mark_rect().encode(
        x=alt.X("p1_lo:Q", title=px, scale=alt.Scale(zero=False, nice=False)), x2="p1_hi:Q",
        y=alt.Y("p2_lo:Q", title=py, scale=alt.Scale(zero=False, nice=False)), y2="p2_hi:Q",
        color=alt.Color("band:Q", title="log₁₀(loss − optimum)",
                        scale=alt.Scale(scheme="viridis", type="quantize", nice=True)),
        tooltip=tooltip).transform_filter(alt.datum.kind == "grid")
    fixed = alt.Chart(STATIC_DATA).mark_point(size=150, filled=True, stroke="#000000", strokeWidth=1).encode(
        x=x, y=y, shape=alt.Shape("kind:N", title=None, scale=alt.Scale(domain=["start", "optimum", "current"]),
                                  legend=alt.Legend(orient="bottom")),
        color=alt.value("#FFFFFF"), tooltip=tooltip).transform_filter(
        alt.FieldOneOfPredicate(field="kind", oneOf=["start", "optimum"]))
    path = alt.Chart(LIVE_DATA).mark_line(point=alt.OverlayMarkDef(size=12, color="#FFFFFF"), color="#FFFFFF",
                                          strokeWidth=1.5, clip=True).encode(
        x=x, y=y, order="step:Q", tooltip=tooltip + [alt.Tooltip("step:Q", format=",")]) \
        .transform_filter(alt.datum.kind == "path")
    current = alt.Chart(LIVE_DATA).mark_point(size=170, filled=True, stroke="#000000", strokeWidth=1,
                                              clip=True).encode(
        x=x, y=y, shape=alt.Shape("kind:N", title=None, scale=alt.Scale(domain=["start", "optimum", "current"])),
        color=alt.value(NOW), tooltip=tooltip).transform_filter(alt.datum.kind == "current")
    return _spec(alt.layer(cells, path, fixed, current).properties(height=HEIGHT + 40,
                                                                   title="Loss landscape (2-D slice)"))


def landscape_bounds(points: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A box around the start and the optimum with a margin, fixed for a run so the view never jumps."""
    lo = np.minimum(points.min(axis=0), centre)
    hi = np.maximum(points.max(axis=0), centre)
    span = np.where(hi - lo > 0, hi - lo, np.maximum(np.abs(centre), 1.0))
    return lo - 0.25 * span, hi + 0.25 * span


def landscape_static(quad: Any, start: np.ndarray, axes: tuple[int, int] | None) -> pd.DataFrame:
    optimum = quad.optimum
    if axes is None:
        lo, hi = landscape_bounds(np.vstack([start[:1], optimum[:1]]), optimum[:1])
        theta = np.linspace(lo[0], hi[0], 240)
        frames = [_frame(theta=theta, loss=quad.loss(theta[:, None]), kind="loss(θ)", step=np.nan),
                  _frame(theta=[optimum[0]], loss=[quad.optimum_loss], kind="optimum", step=np.nan),
                  _frame(theta=[lo[0], hi[0]], loss=np.nan, kind="bounds", step=np.nan)]
        return pd.concat(frames, ignore_index=True)
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
    return pd.concat([grid, marks], ignore_index=True)


def landscape_chart(quad: Any, param_names: Sequence[str], path_steps: np.ndarray, path: np.ndarray,
                    current: np.ndarray, start: np.ndarray, axes: tuple[int, int] | None,
                    static: pd.DataFrame | None = None) -> Chart:
    if len(param_names) == 1:
        axes = None
    static = landscape_static(quad, start, axes) if static is None else static
    shown = thin(len(path_steps), PATH_POINTS)
    optimum = quad.optimum
    if axes is None:
        lo, hi = static.theta[static.kind == "bounds"].to_numpy()
        theta = path[shown, 0] if len(path) else np.empty(0)
        inside = (theta >= lo) & (theta <= hi)
        live = pd.concat([
            _frame(theta=theta[inside], loss=quad.loss(theta[inside, None]), kind="path",
                   step=np.asarray(path_steps)[shown][inside]),
            _frame(theta=[current[0]], loss=[float(quad.loss(current[None, :1])[0])], kind="current", step=np.nan),
        ], ignore_index=True)
        live = finite_rows(live, ["theta", "loss"])
        live = live[(live.kind != "current") | ((live.theta >= lo) & (live.theta <= hi))].reset_index(drop=True)
        text = (f"Loss as a function of {param_names[0]} (log scale) with the path of the iterates from "
                f"{_fmt(start[0])}; the optimum {param_names[0]} = {_fmt(optimum[0])} is the dashed line.")
        return Chart(landscape_1d_spec(param_names[0]), live, static, text)
    i, j = axes
    grid = static[static.kind == "grid"]
    lo = np.array([grid.p1_lo.min(), grid.p2_lo.min()])
    hi = np.array([grid.p1_hi.max(), grid.p2_hi.max()])
    points = path[shown][:, [i, j]] if len(path) else np.empty((0, 2))
    inside = np.all((points >= lo) & (points <= hi), axis=1)
    current_inside = bool(np.all((current[[i, j]] >= lo) & (current[[i, j]] <= hi)))
    live = pd.concat([
        _frame(p1=points[inside, 0], p2=points[inside, 1], kind="path", step=np.asarray(path_steps)[shown][inside],
               loss=quad.loss(path[shown][inside]) if len(path) else np.empty(0)),
        _frame(p1=[current[i]] if current_inside else [], p2=[current[j]] if current_inside else [],
               kind="current", step=np.nan, loss=[float(quad.loss(current))] if current_inside else []),
    ], ignore_index=True)
    live = finite_rows(live, ["p1", "p2", "loss"])
    others = [n for k, n in enumerate(param_names) if k not in (i, j)]
    text = (f"Heat map of the loss over {param_names[i]} and {param_names[j]}"
            + (f" with {', '.join(others)} held at the optimum" if others else "")
            + f"; the path of the iterates runs from the start to the optimum ({param_names[i]} = "
            f"{_fmt(optimum[i])}, {param_names[j]} = {_fmt(optimum[j])}).")
    return Chart(landscape_2d_spec(param_names[i], param_names[j]), live, static, text)


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
    chart = points.properties(width=150, height=120).facet(
        data=LIVE_DATA, facet=alt.Facet("title:N", title=None, sort=alt.SortField("step"),
                                        header=alt.Header(labelFontSize=12)), columns=columns)
    return _spec(chart)


def panels_chart(problem: Any, x: np.ndarray, y: np.ndarray, records: Sequence[tuple[int, np.ndarray]],
                 title: Callable[[int, np.ndarray], str]) -> Chart:
    """The notebook's small multiples: data and prediction for each recorded step."""
    frames = []
    for step, params in records:
        prediction = np.broadcast_to(problem.predict(np.asarray(x, np.float64), list(params)), np.shape(x))
        label = title(step, params)
        frames.append(_frame(x=x, y=y, series="data", title=label, step=step))
        frames.append(_frame(x=x, y=prediction, series="prediction", title=label, step=step))
    live = finite_rows(pd.concat(frames, ignore_index=True), ["x", "y"]) if frames else \
        _frame(x=[], y=[], series=[], title=[], step=[])
    text = (f"{len(records)} small panels, one per recorded step, each with the data and the prediction; "
            "titles give the estimates.")
    return Chart(panels_spec(min(5, max(1, len(records)))), live, None, text)


@functools.lru_cache(maxsize=None)
def schedule_spec() -> dict[str, Any]:
    line = alt.Chart(LIVE_DATA).mark_line(color="#54A24B").encode(
        x=alt.X("step:Q", title="step"), y=alt.Y("lr:Q", title="learning rate", scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("step:Q", format=","), alt.Tooltip("lr:Q", format=TOOLTIP_FORMAT)])
    return _spec(line.properties(height=120, title="Learning rate by step"))


def schedule_chart(schedule: Any, lr: float, total_steps: int) -> Chart:
    steps = np.unique(np.round(np.linspace(0, max(total_steps - 1, 0), 300)).astype(np.int64))
    values = schedule.values_at(lr, steps, total_steps)
    live = finite_rows(_frame(step=steps, lr=values), ["step", "lr"])
    text = (f"Learning rate against step for the {schedule.describe()} schedule: {_fmt(values[0])} at the start, "
            f"{_fmt(values[-1])} at step {int(steps[-1]):,}.")
    return Chart(schedule_spec(), live, None, text)


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
