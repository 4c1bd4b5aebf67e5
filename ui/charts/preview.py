"""The home page's thumbnails: a demo's data and the fit its notebook ends with."""
from __future__ import annotations

import functools
from typing import Any

import altair as alt

from fitcore.preview import NotebookEnd

from .base import SERIES_STYLE, Chart, finite_rows, fmt4, live, table_of, vega_spec

PREVIEW_HEIGHT = 150


@functools.lru_cache(maxsize=None)
def preview_spec() -> dict[str, Any]:
    series = ["data", "notebook's fit"]
    color = alt.Color("series:N", title=None, scale=alt.Scale(domain=series, range=[SERIES_STYLE["data"][0],
                                                                                       SERIES_STYLE["current fit"][0]]),
                      legend=None)  # the caption under the chart says which is which
    x = alt.X("x:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(tickCount=4, grid=False))
    y = alt.Y("y:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(tickCount=3, grid=False))
    points = alt.Chart(live("points")).mark_circle(size=30, opacity=0.8).encode(x=x, y=y, color=color)
    fit = alt.Chart(live("fit")).mark_line(strokeWidth=2.5).encode(x=x, y=y, color=color)
    return vega_spec(alt.layer(fit, points).properties(height=PREVIEW_HEIGHT))


def preview_chart(end: NotebookEnd) -> Chart:
    points = finite_rows(table_of(x=end.x, y=end.y, series="data"), ["x", "y"])
    fit = finite_rows(table_of(x=end.grid, y=end.fit, series="notebook's fit"), ["x", "y"])
    text = (f"The demo's data ({len(end.x)} points shown) and the fit its notebook ends with after "
            f"{end.steps:,} steps, from x = {fmt4(end.x.min())} to {fmt4(end.x.max())}.")
    caption = f"Dots: the data · orange line: the notebook's fit after {end.steps:,} steps"
    return Chart(preview_spec(), {"points": points, "fit": fit}, {}, text, caption=caption)
