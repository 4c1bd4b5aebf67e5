"""What a live redraw sends (issue 11: bytes per chart update): only the columns the layers draw, numbers in
the narrowest type that places every mark where float64 would, the same spec from one redraw to the next."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from fitcore import Run, RunConfig
from ui import charts
from ui.charts.base import MOVE_LIMIT, live_table, lossless, positions, static_table, table_of


def test_that_float64_values_that_are_float32_values_travel_as_float32_unchanged() -> None:
    held = np.array([0.1, -2.5, 1e-30, 3e7], dtype=np.float32).astype(np.float64)
    assert lossless(held).dtype == np.float32 and np.array_equal(lossless(held).astype(np.float64), held)
    assert lossless(np.array([0.1, 2.0])).dtype == np.float64  # 0.1 is no float32
    assert lossless(np.array([0, 9_000_000])).dtype == np.int32
    assert lossless(np.array([0, 2**40])).dtype == np.int64


def test_that_a_position_goes_float32_only_where_no_mark_moves_by_a_millionth_of_its_axis() -> None:
    values = np.linspace(-3.0, 7.0, 101) + 1e-9
    narrow = positions(values, 10.0)
    assert narrow.dtype == np.float32
    assert np.max(np.abs(narrow.astype(np.float64) - values)) <= MOVE_LIMIT * 10.0
    # Near 100 on an axis 0.001 wide float32 would move a mark by a fiftieth of the axis: kept.
    assert positions(100.0 + np.linspace(0.0, 0.001, 11), 0.0015).dtype == np.float64
    # On a log axis every value must stay a normal float32 (1e-40 would become a subnormal, or 0).
    assert positions(np.array([1e-3, 8.8, 7e5]), None).dtype == np.float32
    assert positions(np.array([1e-40, 8.8]), None).dtype == np.float64
    assert positions(np.array([1e39, 8.8]), None).dtype == np.float64


def test_that_a_repeated_word_and_a_static_table_read_back_as_the_same_values() -> None:
    table = live_table(("x",), x=np.arange(40.0), series="current fit")
    assert pa.types.is_dictionary(table.schema.field("series").type)
    assert table.column("series").to_pylist() == ["current fit"] * 40
    frame = table_of(x=np.linspace(0, 1, 30), y=np.arange(30.0), series="data")
    sent = static_table(frame)
    assert sent.to_pydict() == {"x": list(frame.x), "y": list(frame.y), "series": ["data"] * 30}
    assert sent.schema.field("y").type == pa.float32() and sent.schema.field("x").type == pa.float64()


def test_that_a_live_loss_curve_sends_where_it_goes_and_at_rest_also_what_its_tooltip_says() -> None:
    run = Run(RunConfig.notebook("sine-cubic", impl="numpy", dtype="float32", steps=9_000_000, seed=3))
    run.prepare()
    run.advance(max_steps=50_000)
    steps, losses, _ = run.history.arrays()
    frame = charts.live_frame_for(run.total_steps, run.initial_loss, run.quad.optimum_loss,
                                  run.data.init.astype(np.float64), run.quad.optimum)
    live = charts.loss_chart(steps, losses, run.quad.optimum_loss, None, at_rest=False, frame=frame).live["curve"]
    rest = charts.loss_chart(steps, losses, run.quad.optimum_loss, None).live["curve"]
    assert live.column_names == ["step", "loss"] and rest.column_names == ["step", "loss", "kind", "run"]
    assert live.schema.field("loss").type == pa.float32()  # a float32 run's losses, exactly
    assert np.isin(live.column("loss").to_numpy().astype(np.float64), losses).all()


def _live_view() -> None:
    import streamlit as st

    from fitcore import Run, RunConfig
    from fitcore.landscape import SliceChoice
    from ui.page.view import TrainView, live_frame

    run = Run(RunConfig.notebook("sine-cubic", impl="numpy", dtype="float32", compiled=True, steps=9_000_000,
                                 seed=3))
    run.prepare()
    run.advance(max_steps=100_000)
    view = TrainView(run, lambda: SliceChoice(1, 3))
    view.draw(run, live_frame(run), (), False, training=True)
    run.advance(max_steps=100_000)
    with st.container():  # the second frame's charts, read back beside the first's
        view.fit, view.loss, view.params, view.landscape = st.empty(), st.empty(), st.empty(), st.empty()
        view.draw(run, live_frame(run), (), False, training=True)


@pytest.mark.slow
def test_that_a_live_redraw_keeps_each_spec_and_sends_the_workshop_pages_charts_in_under_70_kb() -> None:
    at = AppTest.from_function(_live_view, default_timeout=120)
    at.run()
    assert not at.exception
    drawn = [chart.proto for chart in at.get("vega_lite_chart")]
    first, second = drawn[:4], drawn[4:]
    assert len(first) == len(second) == 4
    for one, other in zip(first, second):
        assert one.spec == other.spec  # the browser updates the chart in place: only its data changed
    sent = sum(len(chart.spec) + sum(len(d.data.data) for d in chart.datasets) for chart in second)
    assert sent < 70_000  # 136 kB before issue 11's cuts; 66 kB after them
