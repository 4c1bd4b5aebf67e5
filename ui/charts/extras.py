"""The demos' extra charts (small multiples, the learning-rate schedule) and small helpers."""
from __future__ import annotations

import functools
import math
from typing import Any, Callable, Sequence

import altair as alt
import numpy as np
import pandas as pd

from fitcore import Problem, Schedule

from .base import (LIVE_DATA, NOW, SERIES_COLORS, TOOLTIP_FORMAT, Chart, finite_rows, fmt4,
                   table_of, vega_spec)


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


def panels_chart(problem: Problem, x: np.ndarray, y: np.ndarray, records: Sequence[tuple[int, np.ndarray]],
                 title: Callable[[int, np.ndarray], str]) -> Chart:
    """The notebook's small multiples: data and prediction for each recorded step."""
    frames = []
    for step, params in records:
        prediction = np.broadcast_to(problem.predict(np.asarray(x, np.float64), list(params)), np.shape(x))
        label = title(step, params)
        frames.append(table_of(x=x, y=y, series="data", title=label, step=step))
        frames.append(table_of(x=x, y=prediction, series="prediction", title=label, step=step))
    table = finite_rows(pd.concat(frames, ignore_index=True), ["x", "y"]) if frames else \
        table_of(x=[], y=[], series=[], title=[], step=[])
    text = (f"{len(records)} small panels, one per recorded step, each with the data and the prediction; "
            "titles give the estimates.")
    return Chart(panels_spec(min(4, max(1, len(records)))), {"live": table}, {}, text)


@functools.lru_cache(maxsize=None)
def schedule_spec() -> dict[str, Any]:
    line = alt.Chart(LIVE_DATA).mark_line(color="#54A24B").encode(
        x=alt.X("step:Q", title="step"), y=alt.Y("lr:Q", title="learning rate", scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("step:Q", format=","), alt.Tooltip("lr:Q", format=TOOLTIP_FORMAT)])
    return vega_spec(line.properties(height=120, title="Learning rate by step"))


def schedule_chart(schedule: Schedule, lr: float, total_steps: int) -> Chart:
    steps = np.unique(np.round(np.linspace(0, max(total_steps - 1, 0), 300)).astype(np.int64))
    values = schedule.values_at(lr, steps, total_steps)
    table = finite_rows(table_of(step=steps, lr=values), ["step", "lr"])
    text = (f"Learning rate against step for the {schedule.describe()} schedule: {fmt4(values[0])} at the start, "
            f"{fmt4(values[-1])} at step {int(steps[-1]):,}.")
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
