"""The "Your own data" page driven headless with Streamlit's AppTest: a typed function and an uploaded CSV
are fitted as fitcore fits them; every bad input is a message on the page, never an exception; the link
restores a typed function (and says a file does not travel); lessons load their data source.

Expectations come from fitcore.train on a config built here, and from the fixture files' own numbers.
"""
from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from fitcore import RunConfig, train
from fitcore.csvfile import read_csv
from fitcore.custom import CUSTOM_ID, csv_source, function_source
from fitcore.custom_conditioning import conditioning
from fitcore.custom_lessons import CUSTOM_LESSONS
from fitcore.lessons import lesson_config
from ui.custom.settings import parse_coefficients, parse_source_query, source_query

from conftest import csv_fixture

REPO = Path(__file__).resolve().parent.parent
DASHBOARD = str(REPO / "dashboard.py")
PAGE = "app_pages/custom_data.py"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "csv"
TIMEOUT = 120
# The default learning rate of the function the page opens with; changing the data changes no other setting.
OPENED_WITH = RunConfig.notebook(CUSTOM_ID, custom=function_source("0.5*x**3 - sin(2*x)", -2, 2, 3)).lr


def key(name: str) -> str:
    return f"{CUSTOM_ID}:{name}"


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def open_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()  # st.navigation registers the pages on a first run; then a page can be opened by file
    at.switch_page(PAGE)
    at.run()
    assert_no_exception(at)
    return at


def shown(text: str) -> str:
    """What a reader sees of Markdown text: the page escapes what was typed or uploaded."""
    return re.sub(r"\\(.)", r"\1", text)


def errors(at: AppTest) -> list[str]:
    return [shown(e.value) for e in at.error]


def captions(at: AppTest) -> list[str]:
    return [shown(c.value) for c in at.caption]


def state(at: AppTest) -> Any:
    return at.session_state[f"state:{CUSTOM_ID}"]


def tables(chart: Any) -> dict[str, pd.DataFrame]:
    return {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets}


def fit_rows(at: AppTest) -> pd.DataFrame:
    """Every row the fit chart received (data points and curves), whatever tables carry them."""
    for element in at.get("vega_lite_chart"):
        if json.loads(element.proto.spec).get("title") == "Data and fits":
            return pd.concat([t for t in tables(element).values() if "series" in t], ignore_index=True)
    raise AssertionError("no fit chart")


def fit_legend(at: AppTest) -> list[str]:
    """The series the fit chart's legend names."""
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        if spec.get("title") == "Data and fits":
            return next(layer["encoding"]["color"]["scale"]["domain"] for layer in spec["layer"]
                        if "color" in layer.get("encoding", {}))
    raise AssertionError("no fit chart")


def upload(at: AppTest, name: str, data: bytes | None = None) -> None:
    content = csv_fixture(name) if data is None else data
    at.file_uploader(key=key("upload")).set_value((name, content, "text/csv"))
    at.run()
    assert_no_exception(at)


def to_csv_source(at: AppTest) -> None:
    at.radio(key=key("src")).set_value("csv")
    at.run()
    assert_no_exception(at)


def run_button(at: AppTest) -> Any:
    return at.button(key=key("run"))


def press_run(at: AppTest) -> Any:
    run_button(at).click().run()
    assert_no_exception(at)
    run = state(at).run
    assert run is not None and run.finished
    return run


def test_that_a_typed_function_is_fitted_exactly_as_fitcore_fits_it() -> None:
    at = open_page()
    assert at.title[0].value == "Your own data"
    at.text_input(key=key("fn")).input("sin(3*x) + 0.2*x").run()
    at.slider(key=key("deg")).set_value(5).run()
    at.number_input(key=key("points")).set_value(80).run()
    at.number_input(key=key("steps")).set_value(300).run()
    assert_no_exception(at)
    assert at.selectbox(key=key("preset")).value == "own"  # editing a ready-made function makes it your own
    run = press_run(at)
    expected = train(RunConfig.notebook(CUSTOM_ID, custom=function_source("sin(3*x) + 0.2*x", -2, 2, 5), points=80,
                                        steps=300, lr=OPENED_WITH))
    assert run.config == expected.config
    np.testing.assert_array_equal(run.current_params, expected.current_params)
    assert [line.text for line in run.log] == [line.text for line in expected.log]
    data = fit_rows(at)
    shown = data[data.series == "data"]
    np.testing.assert_allclose(shown.y.to_numpy(), expected.data.y, rtol=1e-12)
    truth = data[data.series == "true curve"]
    np.testing.assert_allclose(truth.y, np.sin(3 * truth.x) + 0.2 * truth.x, rtol=1e-12)
    assert at.query_params["fn"] == "sin(3*x) + 0.2*x" and at.query_params["deg"] == "5"
    assert at.query_params["points"] == "80" and at.query_params["src"] == "function"


def scientific(value: float) -> str:
    """9.1 × 10⁷, as the page writes a large number."""
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa} × 10" + "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(d)] for d in str(int(exponent)))


def test_that_the_condition_numbers_shown_are_fitcores_before_and_after_standardising() -> None:
    at = open_page({"fn": "x**2", "xmin": "0", "xmax": "10", "deg": "6"})
    measured = conditioning(function_source("x**2", 0, 10, 6), 200)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["raw x · in use"] == scientific(measured.raw_ratio)
    assert metrics["standardised x"] == f"{measured.standardised_ratio:,.0f}"
    steps = "about " + scientific(measured.steps_per_tenfold(measured.raw_ratio))
    assert any("Why raw x⁶ can make gradient descent crawl" in m.value and steps in m.value for m in at.markdown)
    at.toggle(key=key("std")).set_value(True).run()
    assert "standardised x · in use" in {m.label for m in at.metric}


def test_that_a_link_whose_function_is_broken_still_says_which_other_settings_it_could_not_use() -> None:
    at = open_page({"impl": "nan", "fn": "nan"})
    assert_no_exception(at)
    assert any("'nan' at column 1" in e for e in errors(at))  # the typed function, as typed, and what is wrong
    notices = [w.value for w in at.warning if w.value.startswith("Some settings in this link could not be used")]
    assert len(notices) == 1 and "impl='nan'" in notices[0]


BAD_FUNCTIONS = [
    ("2x", "Write multiplication with *: 2*x", "2x\n^^"),
    ("sin(2*y)", "'y' at column 7 is not a name you can use", "sin(2*y)\n      ^"),
    ("__import__('os').system('ls')", "Attribute access", None),
    ("lambda: 1", "A lambda", None),
    ("[x for x in (1,)]", "list comprehension", None),
    ("x**1000", "The exponent 1000", None),
    ("1/x", "not finite at x = 0", None),
    ("log(x)", "not finite at x = -2", None),
]


def test_that_every_bad_typed_function_gets_its_message_and_nothing_breaks() -> None:
    at = open_page({"points": "101"})
    for text, words, pointer in BAD_FUNCTIONS:
        at.text_input(key=key("fn")).input(text).run()
        assert_no_exception(at)
        assert any(words in e for e in errors(at)), (text, errors(at))
        if pointer is not None:
            assert pointer in [c.value for c in at.code]
        assert not at.get("vega_lite_chart") and not [b for b in at.button if b.key == key("run")]
    at.text_input(key=key("fn")).input("x**3").run()
    assert not at.error and run_button(at).disabled is False


def test_that_an_uploaded_csv_is_fitted_and_its_data_stay_out_of_the_link() -> None:
    at = open_page()
    to_csv_source(at)
    assert any("Upload a CSV file" in i.value for i in at.info)
    upload(at, "measurements.csv")
    assert not at.error
    assert any("6 rows × 2 columns, values separated by commas" in c for c in captions(at))
    assert any("not the uploaded file" in c for c in captions(at))
    names = {w.key for w in at.number_input}
    assert key("points") not in names and key("noise") not in names
    at.slider(key=key("deg")).set_value(2).run()
    at.number_input(key=key("steps")).set_value(200).run()
    run = press_run(at)
    source = csv_source(read_csv((FIXTURES / "measurements.csv").read_bytes(), "measurements.csv"), degree=2)
    expected = train(RunConfig.notebook(CUSTOM_ID, custom=source, steps=200, lr=OPENED_WITH))
    assert run.config == expected.config
    np.testing.assert_array_equal(run.current_params, expected.current_params)
    data = fit_rows(at)
    points = data[data.series == "your data"]  # the legend names a file's points as the user's own
    np.testing.assert_array_equal(points.x, [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(points.y, [1.2, 2.9, 5.1, 9.8, 17.2, 26.1])
    assert (data.series == "true curve").sum() == 0  # a file has no true curve
    assert fit_legend(at) == ["your data", "current fit", "least squares"]
    headings = [m.value for m in at.markdown]
    assert "**What this run prints**" in headings and "**What the notebook prints**" not in headings
    query = dict(at.query_params)
    assert query["src"] == "csv" and query["deg"] == "2" and "fn" not in query
    assert not any("1.2" in value for value in query.values())


BAD_FILES = [
    ("empty.csv", "is empty"), ("header_only.csv", "but no data rows"), ("one_row.csv", "single data row"),
    ("non_numeric.csv", "line 4, column 'y' holds 'abc'"), ("nan.csv", "holds 'NaN'"),
    ("infinity.csv", "holds 'inf'"), ("pipe_delimiter.csv", "separated by '|'"), ("latin1.csv", "not UTF-8"),
    ("excel_renamed.csv", "Excel workbook"), ("png_renamed.csv", "PNG image"), ("nul_bytes.csv", "binary data"),
    ("too_many_rows.csv", "more than 100,000 rows"), ("x_constant.csv", "singular"),
    ("ragged_row.csv", "line 3 has 3 values"), ("utf16.csv", "UTF-16"),
]


def test_that_every_bad_file_gets_its_message_on_the_page_and_a_good_one_recovers() -> None:
    at = open_page()
    to_csv_source(at)
    for name, words in BAD_FILES:
        upload(at, name)
        assert any(words in e for e in errors(at)), (name, errors(at))
        assert not [b for b in at.button if b.key == key("run")], name
    upload(at, "too_big.csv", b"x,y\n" + b"1,2\n" * (5 * 1024 * 1024 // 4 + 1))
    assert any("files are limited to 5 MB" in e for e in errors(at))
    upload(at, "few_distinct_x.csv")
    at.slider(key=key("deg")).set_value(4).run()
    assert any("needs at least 5 distinct x values and the data have 3" in e for e in errors(at))
    at.slider(key=key("deg")).set_value(2).run()
    assert not at.error and not run_button(at).disabled


def test_that_a_file_with_more_columns_lets_you_pick_x_and_y() -> None:
    at = open_page()
    to_csv_source(at)
    upload(at, "three_columns.csv")
    assert at.selectbox(key=key("xcol")).options == ["height", "weight", "age"]
    at.selectbox(key=key("xcol")).set_value(3).run()
    at.selectbox(key=key("ycol")).set_value(1).run()
    assert_no_exception(at)
    points = fit_rows(at)
    points = points[points.series == "your data"]
    np.testing.assert_array_equal(points.x, [31, 45, 27, 52])
    np.testing.assert_array_equal(points.y, [1.60, 1.75, 1.82, 1.68])


def test_that_the_uploaded_file_survives_a_visit_to_another_page() -> None:
    at = open_page()
    to_csv_source(at)
    upload(at, "semicolon_decimal_comma.csv")
    at.switch_page("app_pages/linear_2x.py").run()
    at.switch_page(PAGE).run()
    assert_no_exception(at)
    assert any("Using **semicolon_decimal_comma.csv**" in c for c in captions(at))
    assert at.radio(key=key("src")).value == "csv"
    at.button(key=key("forget")).click().run()
    assert any("Upload a CSV file" in i.value for i in at.info)


def test_that_a_link_restores_the_typed_function_and_reports_what_it_could_not_use() -> None:
    at = open_page({"fn": "exp(-x**2)", "xmin": "-3", "xmax": "3", "deg": "6", "std": "1", "points": "150",
                    "noise": "0.05", "lr": "0.01"})
    assert at.text_input(key=key("fn")).value == "exp(-x**2)"
    assert (at.number_input(key=key("xmin")).value, at.number_input(key=key("xmax")).value) == (-3, 3)
    assert at.slider(key=key("deg")).value == 6 and at.toggle(key=key("std")).value is True
    assert at.number_input(key=key("points")).value == 150 and not at.warning
    expected = RunConfig.notebook(CUSTOM_ID, custom=function_source("exp(-x**2)", -3, 3, 6, True), points=150,
                                  noise=0.05, lr=0.01)
    assert press_run(at).config == expected.replace(steps=2000)
    bad = open_page({"fn": "sin(x)", "deg": "12", "xmin": "abc", "bogus": "1"})
    notice = " ".join(w.value for w in bad.warning)
    assert "deg='12' is not a whole number from 1 to 8" in notice and "xmin='abc'" in notice
    assert "unknown setting 'bogus'" in notice
    file_link = open_page({"src": "csv", "deg": "2"})
    assert file_link.radio(key=key("src")).value == "csv"
    assert any("not the uploaded file" in c for c in captions(file_link))


def test_that_ready_made_functions_and_polynomial_coefficients_fill_in_the_function() -> None:
    at = open_page()
    at.selectbox(key=key("preset")).set_value("sin").run()
    assert at.text_input(key=key("fn")).value == "sin(x)"
    assert at.number_input(key=key("xmin")).value == pytest.approx(-math.pi)
    at.selectbox(key=key("preset")).set_value("poly").run()
    at.text_input(key=key("coef")).input("1, 0, -2").run()
    assert at.text_input(key=key("fn")).value == "1 - 2*x**2"
    at.text_input(key=key("coef")).input("1, two").run()
    assert any("'two' is not a number" in e for e in errors(at))


def test_that_a_lesson_loads_its_data_source_and_runs_as_it_promises() -> None:
    at = open_page()
    lessons_tab = next(tab for tab in at.tabs if tab.label.endswith("Lessons"))
    assert len([b for b in lessons_tab.button if b.key.endswith("_run")]) == len(CUSTOM_LESSONS)
    lesson = next(lesson for lesson in CUSTOM_LESSONS if lesson.key == "raw-diverges")
    at.button(key=key(f"lesson_{lesson.key}_run")).click().run()
    assert_no_exception(at)
    assert at.slider(key=key("deg")).value == 6 and (at.number_input(key=key("xmin")).value,
                                                     at.number_input(key=key("xmax")).value) == (0, 4)
    run = state(at).run
    assert run.config == lesson_config(lesson, CUSTOM_ID) and run.status == "diverged"
    assert any("as the lesson says" in s.value for s in at.success)


def test_that_a_learning_rate_past_two_over_lambda_max_is_flagged_before_the_run_with_a_fix() -> None:
    at = open_page()  # opens with its first function's stable default
    assert not any("above 2/λmax" in w.value for w in at.warning)
    at.number_input(key=key("xmin")).set_value(0.0).run()
    at.number_input(key=key("xmax")).set_value(10.0).run()
    at.slider(key=key("deg")).set_value(6).run()
    warning = next(w.value for w in at.warning if "above 2/λmax" in w.value)
    limit = 2 / conditioning(function_source("0.5*x**3 - sin(2*x)", 0, 10, 6), 200).raw[0]
    assert f"2/λmax = {limit:.3g}" in warning
    at.button(key=key("default_lr")).click().run()
    assert_no_exception(at)
    assert at.number_input(key=key("lr")).value < limit
    assert not any("above 2/λmax" in w.value for w in at.warning)
    assert press_run(at).status == "completed"


def test_that_source_settings_round_trip_through_the_query_string_and_bad_values_fall_back() -> None:
    source = function_source("0.5*x**3 - sin(2*x)", -1.25, 3.5, 7, True)
    values, problems = parse_source_query(source_query(source))
    assert problems == []
    assert values == {"src": "function", "fn": "0.5*x**3 - sin(2*x)", "xmin": -1.25, "xmax": 3.5, "deg": 7,
                      "std": True}
    file_query = source_query(csv_source(read_csv(b"a,b\n1,2\n2,3\n3,5\n", "f.csv"), degree=2))
    assert file_query == {"src": "csv", "deg": "2", "std": "0"}  # no data, no file name
    values, problems = parse_source_query({"src": "sheet", "xmin": "inf", "xmax": "-5", "deg": "2.5", "std": "maybe",
                                           "fn": "x" * 500})
    assert values == {"src": "function", "fn": "0.5*x**3 - sin(2*x)", "xmin": -2.0, "xmax": 2.0, "deg": 3,
                      "std": False}
    assert len(problems) == 6, problems
    assert parse_coefficients("1; -2, 0.5") == [1.0, -2.0, 0.5]
    with pytest.raises(ValueError, match="at most 9 coefficients"):
        parse_coefficients(",".join(["1"] * 10))


def test_that_the_data_panel_labels_bounds_and_explains_its_widgets_as_the_source_rows_say(monkeypatch) -> None:
    from fitcore import settings
    from fitcore.settings import SOURCE_FIELD, Bounds
    row = lambda name: SOURCE_FIELD[name]  # noqa: E731
    at = open_page()
    assert at.radio(key=key("src")).label == row("kind").label
    typed = at.text_input(key=key("fn"))
    assert (typed.label, typed.max_chars, typed.help) == (row("expression").label, settings.MAX_EXPRESSION_LENGTH,
                                                          row("expression").tip)
    for name in ("x_min", "x_max"):
        box = at.number_input(key=key(row(name).url))
        assert (box.label, box.min, box.max) == (row(name).label, -settings.MAX_ABS_X, settings.MAX_ABS_X)
    degree = at.slider(key=key("deg"))
    assert (degree.label, degree.min, degree.max, degree.help) == \
        (row("degree").label, settings.MIN_DEGREE, settings.MAX_DEGREE, row("degree").tip)
    assert (at.toggle(key=key("std")).label, at.toggle(key=key("std")).help) == \
        (row("standardise").label, row("standardise").tip)
    # a row changed in the schema changes the panel, with nothing else edited
    monkeypatch.setitem(SOURCE_FIELD, "degree", dataclasses.replace(row("degree"), label="Degree", bounds=Bounds(1, 5)))
    changed = open_page().slider(key=key("deg"))
    assert (changed.label, changed.max) == ("Degree", 5)
