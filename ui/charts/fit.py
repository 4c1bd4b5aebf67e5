"""(a) The data and the fits."""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from fitcore import Problem

from .base import (CURVE_POINTS, DATA_POINTS_SHOWN, HEIGHT, LIVE_CURVE_POINTS, SERIES_ORDER, SERIES_STYLE,
                   TOOLTIP_FORMAT, Chart, finite_rows, fmt4, live, live_columns, live_table, static, table_of, thin,
                   tips_at_rest, numbers_filled_in, vega_spec)


@numbers_filled_in
def fit_spec(y_domain: tuple[float, float], at_rest: bool = True,
             series: tuple[str, ...] = tuple(SERIES_ORDER)) -> dict[str, Any]:
    """The y range is the data's, fixed for a run: a wild early fit is clipped, not rescaled. The
    legend names only the ``series`` drawn (a file has no true curve; its points are "your data")."""
    colors = [SERIES_STYLE[name][0] for name in series]
    dashes = [SERIES_STYLE[name][1] for name in series]
    y = alt.Y("y:Q", title="y", scale=alt.Scale(domain=list(y_domain), nice=False))
    # Two columns at every width: they fit a phone, and a layout that does not depend on the width cannot be
    # left stale by a redraw at a new width (a width-dependent legend cut the y title and the chart's title
    # at the left edge at 1440 px after 1280: tests/browser/test_layout.py).
    legend = alt.Legend(orient="bottom", columns=2, labelLimit=140)
    color = alt.Color("series:N", title=None, sort=list(series), scale=alt.Scale(domain=list(series), range=colors),
                      legend=legend)
    tooltip = [alt.Tooltip("series:N"), alt.Tooltip("x:Q", format=TOOLTIP_FORMAT),
               alt.Tooltip("y:Q", format=TOOLTIP_FORMAT)]
    dash = alt.StrokeDash("series:N", legend=None, sort=list(series),
                          scale=alt.Scale(domain=list(series), range=dashes))
    points = alt.Chart(static("data")).mark_circle(size=28, opacity=0.6, clip=True).encode(
        x=alt.X("x:Q", title="x"), y=y, color=color, tooltip=tooltip)
    curves = alt.Chart(static("curves")).mark_line(strokeWidth=2.5, clip=True).encode(
        x="x:Q", y=y, color=color, detail="series:N", strokeDash=dash, tooltip=tooltip)
    fit = alt.Chart(live("fit")).mark_line(strokeWidth=3, clip=True).encode(x="x:Q", y=y, color=color,
                                                                           **tips_at_rest(tooltip, at_rest))
    return vega_spec(alt.layer(points, curves, fit).properties(height=HEIGHT, title="Data and fits"))


def _curve_grid(x: np.ndarray, points: int = CURVE_POINTS) -> np.ndarray:
    return np.linspace(x.min(), x.max(), points) if len(x) > 1 else x


def _predict(problem: Problem, grid: np.ndarray, theta: np.ndarray) -> np.ndarray:
    values = problem.predict(grid, list(np.asarray(theta, dtype=np.float64)))
    return np.broadcast_to(np.asarray(values, dtype=np.float64), grid.shape)


def fit_static(problem: Problem, x: np.ndarray, y: np.ndarray, optimum: np.ndarray) -> dict[str, pd.DataFrame]:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    shown = thin(len(x), DATA_POINTS_SHOWN)
    grid = _curve_grid(x)
    truth = np.broadcast_to(np.asarray(problem.truth(grid), dtype=np.float64), grid.shape)
    curves = pd.concat([table_of(x=grid, y=truth, series="true curve"),
                        table_of(x=grid, y=_predict(problem, grid, optimum), series="least squares")],
                       ignore_index=True)
    # Without a true curve the points came from a file: they are the user's own data.
    data = "data" if np.isfinite(truth).any() else "your data"
    return {"data": finite_rows(table_of(x=x[shown], y=y[shown], series=data), ["x", "y"]),
            "curves": finite_rows(curves, ["x", "y"])}


def series_drawn(tables: dict[str, pd.DataFrame]) -> tuple[str, ...]:
    present = set(tables["data"].series.unique()) | set(tables["curves"].series.unique()) | {"current fit"}
    return tuple(name for name in SERIES_STYLE if name in present)


@dataclasses.dataclass(frozen=True)
class _StaticFacts:
    """What the fit chart reads from a run's static tables: the same for every redraw of that run."""
    domain: tuple[float, float]
    series: tuple[str, ...]
    has_truth: bool
    points_shown: int


class _Same:
    """A key that is one object itself (held, so its id cannot be reused while the key is cached)."""
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.value is self.value


@functools.lru_cache(maxsize=64)
def _static_facts(same: _Same) -> _StaticFacts:
    # Read once per run's tables, not per redraw: pandas' column lookups cost a live redraw about a millisecond
    tables = same.value
    curves = tables["curves"]
    is_truth = curves.series.to_numpy(dtype=object) == "true curve"
    seen = np.concatenate([tables["data"].y.to_numpy(), curves.y.to_numpy()[is_truth]])
    low, high = (float(seen.min()), float(seen.max())) if len(seen) else (-1.0, 1.0)
    pad = 0.12 * (high - low) if high > low else max(abs(high), 1.0)
    return _StaticFacts((float(f"{low - pad:.3g}"), float(f"{high + pad:.3g}")), series_drawn(tables),
                        bool(is_truth.any()), len(tables["data"]))


def fit_chart(problem: Problem, x: np.ndarray, y: np.ndarray, params: np.ndarray, optimum: np.ndarray,
              static_tables: dict[str, pd.DataFrame] | None = None, at_rest: bool = True) -> Chart:
    tables = fit_static(problem, x, y, optimum) if static_tables is None else static_tables
    grid = _curve_grid(np.asarray(x, dtype=np.float64), CURVE_POINTS if at_rest else LIVE_CURVE_POINTS)
    facts = _static_facts(_Same(tables))
    domain = facts.domain
    # While training the current fit has no tooltip: x and y only place it.
    moving = live_columns(not at_rest, x=float(grid.max() - grid.min()) if len(grid) else 0.0,
                          y=domain[1] - domain[0])
    current = live_table(("x", "y"), None, moving, x=grid, y=_predict(problem, grid, params), series="current fit")
    count = facts.points_shown
    note = f" ({count:,} of {len(x):,} shown)" if count < len(x) else ""
    truth = "the true curve and " if facts.has_truth else ""
    text = (f"Scatter of the {len(x):,} data points{note} with the current fit, {truth}the "
            f"least-squares fit as lines")
    text += f"; current parameters {', '.join(fmt4(v) for v in params)}." if at_rest else "."
    return Chart(fit_spec(domain, at_rest, facts.series), {"fit": current}, tables, text)
