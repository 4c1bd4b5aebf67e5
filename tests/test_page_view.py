"""The training view's redraws (ui/page/view.py): a live table that has not changed since the chart's last
redraw is sent as the bytes converted then; any change is converted again, as Streamlit would convert it."""
from __future__ import annotations

import numpy as np
from streamlit import dataframe_util

from ui import charts
from ui.page.view import live_bytes


def loss_chart(steps: int) -> charts.Chart:
    frame = charts.live_frame_for(10_000, 100.0, 0.5, np.zeros(2), np.ones(2))
    losses = 100.0 / (1.0 + np.arange(steps, dtype=np.float64))
    return charts.loss_chart(np.arange(steps), losses, 0.5, (steps - 1, float(losses[-1])), at_rest=False,
                             frame=frame)


def test_that_an_unchanged_live_table_is_sent_as_the_bytes_of_the_last_redraw_and_a_changed_one_anew() -> None:
    sent: dict = {}
    first = live_bytes(loss_chart(50), sent)
    second = live_bytes(loss_chart(80), sent)
    assert second["optimum"] is first["optimum"]  # the same line while training: not converted again
    assert second["curve"] is not first["curve"] and second["curve"] != first["curve"]
    for key, table in loss_chart(80).live.items():  # what Streamlit itself would have sent
        assert second[key] == dataframe_util.convert_anything_to_arrow_bytes(charts.arrow_table(table))


def test_that_a_chart_drawn_with_kept_bytes_attaches_them_under_its_live_names() -> None:
    chart = loss_chart(30)
    spec = chart.with_data(live_tables=live_bytes(chart, {}))
    assert {"live_curve", "live_marker", "live_optimum", "live_below"} <= set(spec["datasets"])
    assert all(isinstance(spec["datasets"][f"live_{k}"], bytes) for k in chart.live)
