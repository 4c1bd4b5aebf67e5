"""The Speed page in AppTest: it renders without running anything, measures when asked with a small
budget, draws one bar per implementation on a log axis, shows the import times and shares its rates."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from streamlit.testing.v1 import AppTest

from fitcore import RunConfig
from fitcore.estimate import rate_key
from fitcore.speed import installed_frameworks

REPO = Path(__file__).resolve().parent.parent
CHOSEN = ["NumPy", "NumPy · Gram matrix", "Exact closed form"]


def open_speed_page() -> AppTest:
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    at.run()  # st.navigation registers the pages on a first run; then a page can be opened by file
    at.switch_page("app_pages/speed.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def bars(at: AppTest) -> tuple[dict, object]:
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    proto = charts[0].proto
    tables = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in proto.datasets}
    return tables, proto


def test_that_the_speed_page_waits_for_measure_and_offers_every_installed_implementation() -> None:
    at = open_speed_page()
    assert at.title[0].value == "Speed"
    assert not at.get("vega_lite_chart")
    assert any("Press **Measure**" in info.value for info in at.info)
    entries = at.multiselect(key="speed:entries")
    assert entries.value == entries.options and "Exact closed form" in entries.options
    assert at.selectbox(key="speed:demo").value == "quadratic-recovery"


def test_that_measure_draws_a_log_scale_bar_per_implementation_and_the_import_times() -> None:
    at = open_speed_page()
    at.multiselect(key="speed:entries").set_value(CHOSEN)
    at.select_slider(key="speed:budget").set_value(0.1)
    at.button(key="speed:go").click().run()
    assert not at.exception, [e.value for e in at.exception]

    tables, proto = bars(at)
    rows = tables["live"]
    assert sorted(rows["label"]) == sorted(CHOSEN)
    assert (rows["steps_per_second"] > 0).all() and rows["steps_per_second"].is_monotonic_decreasing
    assert set(rows["kind"]) == {"eager", "compiled", "exact"}
    assert '"type": "log"' in proto.spec.replace('"type":"log"', '"type": "log"')
    assert "Bar chart of steps per second for 3 implementations" in proto.alt

    imports = {m.label: m.value for m in at.metric}
    assert len(imports) == len(installed_frameworks()) and imports["import NumPy"].endswith(" s")
    assert any(m.value == "**Why they differ**" for m in at.markdown)
    table = at.dataframe[0].value
    assert list(table["implementation"]) == CHOSEN and (table["compile / trace s"] == "–").all()


def test_that_the_rates_it_measured_serve_the_demo_pages_estimates() -> None:
    at = open_speed_page()
    at.multiselect(key="speed:entries").set_value(["NumPy"])
    at.select_slider(key="speed:budget").set_value(0.1)
    at.button(key="speed:go").click().run()
    config = RunConfig.notebook("quadratic-recovery", impl="numpy", steps=1234)
    rate = at.session_state["pace:rates"][rate_key(config)]
    assert rate.steps_per_second > 0 and rate.source == "measured on the Speed page"


def test_that_the_points_sweep_waits_then_draws_a_line_per_implementation_and_says_what_a_gpu_would_add() -> None:
    from fitcore.device import accelerator_statuses
    from fitcore.sweep import PAGE_POINTS
    at = open_speed_page()
    assert any("Press **Sweep**" in info.value for info in at.info)
    lines = at.multiselect(key="speed:sweep_entries")
    assert "NumPy · eager · cpu" in lines.options and all(" · compiled · " not in o for o in lines.options)
    accelerated = any(s.available for s in accelerator_statuses())
    if not accelerated:  # the H200 figures, from fitcore.sweep with their source
        assert any("has no accelerator" in info.value and "200,000 points" in info.value for info in at.info)
        assert "20,000,000" in list(at.dataframe[0].value["points"])
        assert any("Source: issue 14" in c.value for c in at.caption)
    chosen = ["NumPy · eager · cpu", "PyTorch autograd · eager · cpu"]
    lines.set_value([o for o in chosen if o in lines.options])
    at.button(key="speed:sweep_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (chart,) = at.get("vega_lite_chart")
    tables = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets}
    here = tables["live"][tables["live"]["source"] == "this server"]
    assert sorted(set(here["line"])) == sorted(lines.value)
    assert sorted(set(here["points"])) == sorted(PAGE_POINTS) and (here["steps_per_second"] > 0).all()
    assert len(tables["live"]) <= 2000 and "log" in chart.proto.spec
    if not accelerated:
        assert set(tables["live"]["source"]) == {"this server", "H200 (issue 14)"} and "live_crossing" not in tables


def test_that_the_crossover_is_marked_where_an_accelerator_starts_to_pay() -> None:
    from fitcore.sweep import SweepEntry, SweepPoint
    from ui.speed.sweep import measured_crossover, sweep_chart
    cpu, gpu = SweepEntry("torch-autograd", False, "cpu"), SweepEntry("torch-autograd", False, "cuda")
    points = [SweepPoint(cpu, n, (us,), 1) for n, us in ((2_000, 226.0), (20_000, 284.0), (200_000, 2570.0))]
    points += [SweepPoint(gpu, n, (us,), 1) for n, us in ((2_000, 621.0), (20_000, 678.0), (200_000, 589.0))]
    assert measured_crossover(points) == 200_000
    chart = sweep_chart(points, with_reference=False)
    assert list(chart.live["crossing"]["points"]) == [200_000]
    assert "the accelerator pays from 200,000 points" in chart.alt_text
    assert measured_crossover(points[:3]) is None and "crossing" not in sweep_chart(points[:3], False).live
