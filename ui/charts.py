"""Altair chart builders shared by every page. Pure: no Streamlit here.

Each chart is a fixed spec plus a DataFrame. The spec is built once with Altair and cached;
live updates send only new data, so the browser updates the chart in place instead of
rebuilding it (no flicker), and every update stays under ``MAX_POINTS`` rows.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Sequence

import altair as alt
import numpy as np
import pandas as pd

MAX_POINTS = 2000
CURVE_POINTS = 200
DATA_POINTS_SHOWN = 1000
GRID = 36  # landscape grid per side: 1,296 cells
TOOLTIP_FORMAT = ".6g"
SERIES_ORDER = ["data", "current fit", "true curve", "least squares"]
# Readable on the light and the dark theme alike; orange is always "where the run is now".
SERIES_COLORS = ["#8C9AAB", "#F58518", "#54A24B", "#E45756"]
HEIGHT = 260


@dataclass(frozen=True)
class Chart:
    spec: dict[str, Any]
    data: pd.DataFrame
    alt_text: str

    def with_data(self) -> dict[str, Any]:
        """The spec with its data attached as the named dataset: Streamlit ships it as Arrow and
        keeps the spec text itself unchanged between updates."""
        return {**self.spec, "datasets": {TABLE_NAME: self.data}}


def finite_rows(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Drop every row with a NaN or infinity in ``columns``: none may reach a chart."""
    if frame.empty:
        return frame
    values = frame[list(columns)].to_numpy(dtype=np.float64)
    return frame[np.isfinite(values).all(axis=1)].reset_index(drop=True)


# Every spec reads one named dataset; Streamlit binds the DataFrame passed with the spec to it
# and, when only that data changes, replaces it inside the live Vega view.
TABLE_NAME = "table"
TABLE = alt.Data(name=TABLE_NAME)


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    spec = chart.to_dict()
    spec.pop("datasets", None)
    return spec


def _thin(index: np.ndarray, limit: int) -> np.ndarray:
    if len(index) <= limit:
        return index
    keep = np.unique(np.round(np.linspace(0, len(index) - 1, limit)).astype(np.int64))
    return index[keep]


def _fmt(value: float) -> str:
    return f"{value:.4g}"


# --- (a) the data and the fits ---------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def fit_spec(y_domain: tuple[float, float]) -> dict[str, Any]:
    """The y range is the data's, fixed for a run: a wild early fit is clipped, not rescaled."""
    base = alt.Chart()
    y_scale = alt.Scale(domain=list(y_domain), nice=False)
    color = alt.Color("series:N", title=None, sort=SERIES_ORDER,
                      scale=alt.Scale(domain=SERIES_ORDER, range=SERIES_COLORS), legend=alt.Legend(orient="bottom"))
    tooltip = [alt.Tooltip("series:N"), alt.Tooltip("x:Q", format=TOOLTIP_FORMAT),
               alt.Tooltip("y:Q", format=TOOLTIP_FORMAT)]
    points = base.mark_circle(size=28, opacity=0.55, clip=True).encode(
        x=alt.X("x:Q", title="x"), y=alt.Y("y:Q", title="y", scale=y_scale), color=color, tooltip=tooltip,
    ).transform_filter(alt.datum.series == "data")
    lines = base.mark_line(strokeWidth=2.5, clip=True).encode(
        x="x:Q", y=alt.Y("y:Q", scale=y_scale), color=color, detail="series:N", tooltip=tooltip,
        strokeDash=alt.StrokeDash("series:N", legend=None, sort=SERIES_ORDER,
                                  scale=alt.Scale(domain=SERIES_ORDER, range=[[1, 0], [1, 0], [6, 3], [2, 2]])),
    ).transform_filter(alt.datum.series != "data")
    return _spec(alt.layer(points, lines, data=TABLE).properties(height=HEIGHT, title="Data and fits"))


def fit_chart(problem: Any, x: np.ndarray, y: np.ndarray, params: np.ndarray,
              optimum: np.ndarray | None) -> Chart:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    shown = _thin(np.arange(len(x)), DATA_POINTS_SHOWN)
    grid = np.linspace(x.min(), x.max(), CURVE_POINTS) if len(x) > 1 else x
    truth = np.broadcast_to(np.asarray(problem.truth(grid), dtype=np.float64), grid.shape)

    def curve(theta: np.ndarray, name: str) -> pd.DataFrame:
        values = np.asarray(problem.predict(grid, list(np.asarray(theta, dtype=np.float64))), dtype=np.float64)
        return pd.DataFrame({"x": grid, "y": np.broadcast_to(values, grid.shape), "series": name})

    frames = [pd.DataFrame({"x": x[shown], "y": y[shown], "series": "data"}), curve(params, "current fit"),
              pd.DataFrame({"x": grid, "y": truth, "series": "true curve"})]
    if optimum is not None:
        frames.append(curve(optimum, "least squares"))
    data = finite_rows(pd.concat(frames, ignore_index=True), ["x", "y"])
    observed = np.concatenate([y, truth])
    observed = observed[np.isfinite(observed)]
    low, high = (float(observed.min()), float(observed.max())) if len(observed) else (-1.0, 1.0)
    pad = 0.12 * (high - low) if high > low else max(abs(high), 1.0)
    domain = (float(f"{low - pad:.3g}"), float(f"{high + pad:.3g}"))
    note = f" ({len(shown):,} of {len(x):,} points shown)" if len(shown) < len(x) else ""
    text = (f"Scatter of the {len(x):,} data points{note} with the current fit, the true curve and the "
            f"least-squares fit as lines; current parameters {', '.join(_fmt(v) for v in params)}.")
    return Chart(fit_spec(domain), data, text)


# --- (b) loss against step ----------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def loss_spec(log_x: bool = False, compare: bool = False) -> dict[str, Any]:
    base = alt.Chart()
    x_scale = alt.Scale(type="symlog") if log_x else alt.Scale(zero=False)
    x = alt.X("step:Q", title="step" + (" (log scale)" if log_x else ""), scale=x_scale)
    y = alt.Y("loss:Q", title="loss (log scale)", scale=alt.Scale(type="log"))
    tooltip = [alt.Tooltip("run:N"), alt.Tooltip("step:Q", format=","), alt.Tooltip("loss:Q", format=TOOLTIP_FORMAT)]
    color = alt.Color("run:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=420, columns=1)) \
        if compare else alt.value("#4C78A8")
    curve = base.mark_line(strokeWidth=2).encode(x=x, y=y, color=color, detail="run:N", tooltip=tooltip) \
        .transform_filter((alt.datum.kind == "curve") & (alt.datum.loss > 0))
    optimum = base.mark_rule(strokeDash=[6, 4], color="#E45756").encode(
        y="loss:Q", tooltip=[alt.Tooltip("loss:Q", title="least-squares optimum", format=TOOLTIP_FORMAT)],
    ).transform_filter((alt.datum.kind == "optimum") & (alt.datum.loss > 0))
    marker = base.mark_point(size=90, filled=True, color="#F58518").encode(x=x, y=y, tooltip=tooltip) \
        .transform_filter((alt.datum.kind == "marker") & (alt.datum.loss > 0))
    return _spec(alt.layer(curve, optimum, marker, data=TABLE).properties(height=HEIGHT, title="Loss"))


def loss_chart(steps: np.ndarray, losses: np.ndarray, optimum_loss: float, marker: tuple[int, float] | None,
               others: Sequence[tuple[str, np.ndarray, np.ndarray]] = (), label: str = "this run",
               log_x: bool = False) -> Chart:
    frames = [pd.DataFrame({"step": steps, "loss": losses, "kind": "curve", "run": label})]
    for name, other_steps, other_losses in others:
        frames.append(pd.DataFrame({"step": other_steps, "loss": other_losses, "kind": "curve", "run": name}))
    frames.append(pd.DataFrame({"step": [0], "loss": [optimum_loss], "kind": "optimum", "run": "optimum"}))
    if marker is not None:
        frames.append(pd.DataFrame({"step": [marker[0]], "loss": [marker[1]], "kind": "marker", "run": label}))
    data = finite_rows(pd.concat(frames, ignore_index=True), ["step", "loss"])
    if len(steps):
        text = (f"Loss against step on a log scale: {_fmt(losses[0])} at step 0, {_fmt(losses[-1])} at step "
                f"{int(steps[-1]):,}; the dashed line is the least-squares optimum {_fmt(optimum_loss)}.")
    else:
        text = f"Loss against step: no steps yet; the least-squares optimum is {_fmt(optimum_loss)}."
    if others:
        text += f" {len(others)} pinned run(s) overlaid."
    return Chart(loss_spec(log_x, compare=bool(others)), data, text)


# --- (c) parameters against step ------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def params_spec(param_names: tuple[str, ...]) -> dict[str, Any]:
    base = alt.Chart()
    tooltip = [alt.Tooltip("param:N"), alt.Tooltip("step:Q", format=","),
               alt.Tooltip("value:Q", format=TOOLTIP_FORMAT)]
    line = base.mark_line(strokeWidth=2).encode(
        x=alt.X("step:Q", title="step"), y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        tooltip=tooltip).transform_filter(alt.datum.kind == "trajectory")
    target = base.mark_rule(strokeDash=[6, 4], color="#E45756").encode(
        y="value:Q", tooltip=[alt.Tooltip("param:N"), alt.Tooltip("label:N", title="target"),
                              alt.Tooltip("value:Q", format=TOOLTIP_FORMAT)],
    ).transform_filter(alt.datum.kind == "target")
    marker = base.mark_point(size=70, filled=True, color="#F58518").encode(
        x="step:Q", y="value:Q", tooltip=tooltip).transform_filter(alt.datum.kind == "marker")
    height = max(70, int(HEIGHT * 1.1 / len(param_names)))
    layered = alt.layer(line, target, marker).properties(height=height)
    return _spec(layered.facet(data=TABLE, row=alt.Row("param:N", title=None, sort=list(param_names),
                                           header=alt.Header(labelAngle=0, labelAlign="left")))
                 .resolve_scale(y="independent").properties(title="Parameters"))


def params_chart(param_names: Sequence[str], steps: np.ndarray, params: np.ndarray,
                 targets: np.ndarray | None, target_label: str, marker: tuple[int, np.ndarray] | None) -> Chart:
    frames = []
    for i, name in enumerate(param_names):
        frames.append(pd.DataFrame({"step": steps, "value": params[:, i] if len(params) else [],
                                    "param": name, "kind": "trajectory", "label": ""}))
        if targets is not None:
            frames.append(pd.DataFrame({"step": [0], "value": [targets[i]], "param": name, "kind": "target",
                                        "label": target_label}))
        if marker is not None:
            frames.append(pd.DataFrame({"step": [marker[0]], "value": [marker[1][i]], "param": name,
                                        "kind": "marker", "label": ""}))
    data = finite_rows(pd.concat(frames, ignore_index=True), ["step", "value"])
    text = "Each parameter against step, one panel per parameter"
    if targets is not None:
        text += f", with the {target_label} value as a dashed line (" + \
            ", ".join(f"{n} = {_fmt(v)}" for n, v in zip(param_names, targets)) + ")"
    return Chart(params_spec(tuple(param_names)), data, text + ".")


# --- (d) the loss landscape ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def landscape_1d_spec(param: str) -> dict[str, Any]:
    base = alt.Chart()
    x = alt.X("theta:Q", title=param)
    y = alt.Y("loss:Q", title="loss (log scale)", scale=alt.Scale(type="log"))
    tooltip = [alt.Tooltip("kind:N", title="what"), alt.Tooltip("theta:Q", title=param, format=TOOLTIP_FORMAT),
               alt.Tooltip("loss:Q", format=TOOLTIP_FORMAT), alt.Tooltip("step:Q", format=",")]
    curve = base.mark_line(color="#888888").encode(x=x, y=y).transform_filter(
        (alt.datum.kind == "loss(θ)") & (alt.datum.loss > 0))
    path = base.mark_line(point=True, color="#4C78A8", strokeWidth=1.5).encode(
        x=x, y=y, order="step:Q", tooltip=tooltip).transform_filter((alt.datum.kind == "path") & (alt.datum.loss > 0))
    current = base.mark_point(size=130, filled=True, color="#F58518").encode(x=x, y=y, tooltip=tooltip) \
        .transform_filter((alt.datum.kind == "current") & (alt.datum.loss > 0))
    optimum = base.mark_rule(strokeDash=[6, 4], color="#E45756").encode(x="theta:Q", tooltip=tooltip) \
        .transform_filter(alt.datum.kind == "optimum")
    return _spec(alt.layer(curve, path, current, optimum, data=TABLE).properties(height=HEIGHT, title="Loss landscape"))


@functools.lru_cache(maxsize=None)
def landscape_2d_spec(px: str, py: str) -> dict[str, Any]:
    base = alt.Chart()
    tooltip = [alt.Tooltip("kind:N", title="what"), alt.Tooltip("p1:Q", title=px, format=TOOLTIP_FORMAT),
               alt.Tooltip("p2:Q", title=py, format=TOOLTIP_FORMAT), alt.Tooltip("loss:Q", format=TOOLTIP_FORMAT)]
    cells = base.mark_rect().encode(
        x=alt.X("p1_lo:Q", title=px, scale=alt.Scale(zero=False, nice=False)), x2="p1_hi:Q",
        y=alt.Y("p2_lo:Q", title=py, scale=alt.Scale(zero=False, nice=False)), y2="p2_hi:Q",
        color=alt.Color("band:Q", title="log₁₀(loss − optimum)", scale=alt.Scale(scheme="viridis", type="quantize",
                                                                                   nice=True)),
        tooltip=tooltip).transform_filter(alt.datum.kind == "grid")
    path = base.mark_line(point=alt.OverlayMarkDef(size=12), color="#FFFFFF", strokeWidth=1.5).encode(
        x="p1:Q", y="p2:Q", order="step:Q", tooltip=tooltip + [alt.Tooltip("step:Q", format=",")]) \
        .transform_filter(alt.datum.kind == "path")
    marks = base.mark_point(size=150, filled=True, stroke="#000000", strokeWidth=1).encode(
        x="p1:Q", y="p2:Q", shape=alt.Shape("kind:N", title=None, legend=alt.Legend(orient="bottom")),
        color=alt.value("#F58518"), tooltip=tooltip).transform_filter(
        alt.FieldOneOfPredicate(field="kind", oneOf=["start", "current", "optimum"]))
    return _spec(alt.layer(cells, path, marks, data=TABLE).properties(height=HEIGHT + 40, title="Loss landscape (2-D slice)"))


def landscape_bounds(points: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A box around the start and the optimum with a margin, so the view does not jump."""
    lo = np.minimum(points.min(axis=0), centre)
    hi = np.maximum(points.max(axis=0), centre)
    span = np.where(hi - lo > 0, hi - lo, np.maximum(np.abs(centre), 1.0))
    return lo - 0.25 * span, hi + 0.25 * span


def landscape_chart(quad: Any, param_names: Sequence[str], path_steps: np.ndarray, path: np.ndarray,
                    current: np.ndarray, start: np.ndarray, axes: tuple[int, int] | None) -> Chart:
    optimum = quad.optimum
    shown = _thin(np.arange(len(path_steps)), 600)
    if axes is None or len(param_names) == 1:
        lo, hi = landscape_bounds(np.vstack([start[None, :1], optimum[None, :1]]), optimum[:1])
        theta = np.linspace(lo[0], hi[0], 240)
        curve_loss = quad.loss(theta[:, None])
        path_theta = path[shown, 0] if len(path) else np.empty(0)
        frames = [
            pd.DataFrame({"theta": theta, "loss": curve_loss, "kind": "loss(θ)", "step": np.nan}),
            pd.DataFrame({"theta": path_theta, "loss": quad.loss(path[shown, :1]) if len(path) else [],
                          "kind": "path", "step": path_steps[shown]}),
            pd.DataFrame({"theta": [current[0]], "loss": [quad.loss(current[None, :1])[0]], "kind": "current",
                          "step": np.nan}),
            pd.DataFrame({"theta": [optimum[0]], "loss": [quad.optimum_loss], "kind": "optimum", "step": np.nan}),
        ]
        data = pd.concat(frames, ignore_index=True)
        data = data[np.isfinite(data[["theta", "loss"]].to_numpy()).all(axis=1)].reset_index(drop=True)
        data = data[(data.theta >= lo[0]) & (data.theta <= hi[0]) | (data.kind != "path")].reset_index(drop=True)
        text = (f"Loss as a function of {param_names[0]} (log scale) with the path of the iterates from "
                f"{_fmt(start[0])}; the optimum {param_names[0]} = {_fmt(optimum[0])} is the dashed line.")
        return Chart(landscape_1d_spec(param_names[0]), data, text)

    i, j = axes
    lo, hi = landscape_bounds(np.vstack([start[[i, j]], optimum[[i, j]]]), optimum[[i, j]])
    g1, g2 = np.linspace(lo[0], hi[0], GRID + 1), np.linspace(lo[1], hi[1], GRID + 1)
    c1, c2 = (g1[:-1] + g1[1:]) / 2, (g2[:-1] + g2[1:]) / 2
    m1, m2 = np.meshgrid(c1, c2, indexing="ij")
    points = np.broadcast_to(optimum, m1.shape + optimum.shape).copy()
    points[..., i], points[..., j] = m1, m2
    excess = quad.loss(points) - quad.optimum_loss
    band = np.log10(np.maximum(excess, 1e-12 * max(quad.optimum_loss, 1e-12)) + 1e-300)
    a1, a2 = np.meshgrid(np.arange(GRID), np.arange(GRID), indexing="ij")
    grid = pd.DataFrame({
        "p1": m1.ravel(), "p2": m2.ravel(), "p1_lo": g1[a1.ravel()], "p1_hi": g1[a1.ravel() + 1],
        "p2_lo": g2[a2.ravel()], "p2_hi": g2[a2.ravel() + 1], "loss": excess.ravel() + quad.optimum_loss,
        "band": band.ravel(), "kind": "grid", "step": np.nan})
    inside = (path[shown, i] >= lo[0]) & (path[shown, i] <= hi[0]) & (path[shown, j] >= lo[1]) & \
        (path[shown, j] <= hi[1]) if len(path) else np.zeros(0, dtype=bool)
    kept = shown[inside]
    marks = pd.DataFrame({
        "p1": [start[i], current[i], optimum[i]], "p2": [start[j], current[j], optimum[j]],
        "kind": ["start", "current", "optimum"], "step": np.nan,
        "loss": [quad.loss(start), quad.loss(current), quad.optimum_loss]})
    path_frame = pd.DataFrame({"p1": path[kept, i], "p2": path[kept, j], "kind": "path", "step": path_steps[kept],
                               "loss": quad.loss(path[kept]) if len(kept) else []})
    data = pd.concat([grid, path_frame, marks], ignore_index=True)
    data = data[np.isfinite(data[["p1", "p2", "loss"]].to_numpy()).all(axis=1)]
    data = data[(data.kind != "current") | ((data.p1 >= lo[0]) & (data.p1 <= hi[0]) & (data.p2 >= lo[1]) &
                                             (data.p2 <= hi[1]))].reset_index(drop=True)
    others = [n for k, n in enumerate(param_names) if k not in (i, j)]
    text = (f"Heat map of the loss over {param_names[i]} and {param_names[j]}"
            + (f" with {', '.join(others)} held at the optimum" if others else "")
            + f"; the path of the iterates runs from the start to the optimum ({param_names[i]} = "
            f"{_fmt(optimum[i])}, {param_names[j]} = {_fmt(optimum[j])}).")
    return Chart(landscape_2d_spec(param_names[i], param_names[j]), data, text)


# --- demo extras ------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def panels_spec(columns: int) -> dict[str, Any]:
    base = alt.Chart()
    color = alt.Color("series:N", title=None, scale=alt.Scale(domain=["data", "prediction"]),
                      legend=alt.Legend(orient="bottom"))
    tooltip = [alt.Tooltip("series:N"), alt.Tooltip("x:Q", format=TOOLTIP_FORMAT),
               alt.Tooltip("y:Q", format=TOOLTIP_FORMAT)]
    points = base.mark_circle(size=22).encode(x=alt.X("x:Q", title="x"), y=alt.Y("y:Q", title="y"),
                                              color=color, tooltip=tooltip)
    chart = points.properties(width=150, height=120).facet(
        data=TABLE, facet=alt.Facet("title:N", title=None, sort=alt.SortField("step"), header=alt.Header(labelFontSize=12)),
        columns=columns)
    return _spec(chart)


def panels_chart(problem: Any, x: np.ndarray, y: np.ndarray, records: Sequence[tuple[int, np.ndarray]],
                 title: Any) -> Chart:
    """The notebook's small multiples: data and prediction for each recorded step."""
    frames = []
    for step, params in records:
        prediction = np.broadcast_to(problem.predict(np.asarray(x, np.float64), list(params)), np.shape(x))
        label = title(step, params)
        frames.append(pd.DataFrame({"x": x, "y": y, "series": "data", "title": label, "step": step}))
        frames.append(pd.DataFrame({"x": x, "y": prediction, "series": "prediction", "title": label, "step": step}))
    data = finite_rows(pd.concat(frames, ignore_index=True), ["x", "y"]) if frames else \
        pd.DataFrame({"x": [], "y": [], "series": [], "title": [], "step": []})
    text = f"{len(records)} small panels, one per recorded step, each with the data and the prediction; " \
           "titles give the estimates."
    return Chart(panels_spec(min(5, max(1, len(records)))), data, text)


@functools.lru_cache(maxsize=None)
def schedule_spec() -> dict[str, Any]:
    line = alt.Chart(TABLE).mark_line(color="#54A24B").encode(
        x=alt.X("step:Q", title="step"), y=alt.Y("lr:Q", title="learning rate", scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("step:Q", format=","), alt.Tooltip("lr:Q", format=TOOLTIP_FORMAT)])
    return _spec(line.properties(height=120, title="Learning rate by step"))


def schedule_chart(schedule: Any, lr: float, total_steps: int) -> Chart:
    steps = np.unique(np.round(np.linspace(0, max(total_steps - 1, 0), 300)).astype(np.int64))
    values = np.array([schedule.at(lr, int(s), total_steps) for s in steps])
    data = finite_rows(pd.DataFrame({"step": steps, "lr": values}), ["step", "lr"])
    text = (f"Learning rate against step for the {schedule.describe()} schedule: {_fmt(values[0])} at the start, "
            f"{_fmt(values[-1])} at step {int(steps[-1]):,}.")
    return Chart(schedule_spec(), data, text)


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
