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
    at.switch_page("pages/speed.py")
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
