"""The dashboard, driven headless with Streamlit's AppTest: every page renders, trains, obeys its sidebar,
restores itself from a URL, pauses, resets, and never lets a NaN reach a chart.

AppTest runs the script in this process, so a run's live loop trains to the end inside one script run;
a run that is still going when a test wants to pause it is made by cutting one script run off once the
run has trained a given number of steps (AppTest then stops the script at its next Streamlit call, as a
click in a browser would). A step count, not a time, so a faster or slower machine gives the same test.

Expectations are computed without the page: fitcore.train for the numbers a run must show,
tests/conftest.design for the model curve, and the notebooks' settings written out below.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import time
from pathlib import Path
from typing import Any, Callable
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import local_script_runner

import fitcore
import fitcore.impl
from fitcore import RunConfig
from fitcore.settings import FIELD

from fitcore.notebook_prints import LINEAR_NUMPY, RECOVERY_Y
import ui.page.live
from ui.page.view import short_number

from conftest import DEMOS, design, require

REPO = Path(__file__).resolve().parent.parent
DASHBOARD = str(REPO / "dashboard.py")
PAGE_FILES = {
    "quadratic-bias": "app_pages/quadratic_bias.py",
    "linear-2x": "app_pages/linear_2x.py",
    "quadratic-recovery": "app_pages/quadratic_recovery.py",
    "sine-cubic": "app_pages/sine_cubic.py",
}
# TensorFlow's import alone takes 3–4 s on this machine, torch's 1.6 s, torch.compile much longer.
TIMEOUT = 120
SHORT = 50
CHART_TITLES = ("Data and fits", "Loss", "Parameters", "Loss landscape")
NOTICE = "Some settings in this link could not be used"

# The notebooks' own settings (../shared/seeds, as DESIGN.md lists them), per page's default variant.
NOTEBOOK = {
    "quadratic-bias": dict(impl="tf-tape", optimizer="sgd", lr=0.01, steps=2000, reduction="mean", dtype="float32", points=50),
    "linear-2x": dict(impl="numpy", optimizer="sgd", lr=0.01, steps=20, reduction="sum", dtype="float32", points=4),
    "quadratic-recovery": dict(impl="torch-autograd", optimizer="sgd", lr=1e-5, steps=1_000_001, reduction="mean",
                               dtype="float32", points=20, noise=3.0),  # a step by hand, then the learner's 10⁶
    "sine-cubic": dict(impl="numpy", optimizer="sgd", lr=1e-6, steps=5000, reduction="sum", dtype="float64", points=2000),
}


# --- driving the app ----------------------------------------------------------------------------

def open_page(page: str, query: dict[str, str] | None = None) -> AppTest:
    """A fresh session that opens ``page`` with ``query`` as its URL's query string."""
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()  # st.navigation registers the pages on a first run; then a page can be opened by file
    at.switch_page(PAGE_FILES[page])
    at.run()
    assert_no_exception(at)
    return at


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def key(page: str, name: str) -> str:
    return f"{page}:{name}"


def click(at: AppTest, page: str, name: str, timeout: float | None = None) -> AppTest:
    at.button(key=key(page, name)).click().run(timeout=timeout)
    return at


def demo_state(at: AppTest, page: str) -> Any:
    return at.session_state[f"state:{page}"]


def train(at: AppTest, page: str) -> Any:
    """Press Run and return the finished run."""
    click(at, page, "run")
    assert_no_exception(at)
    run = demo_state(at, page).run
    assert run is not None and run.finished and not demo_state(at, page).training
    return run


def set_widget(at: AppTest, kind: str, page: str, name: str, value: Any) -> None:
    getattr(at, kind)(key=key(page, name)).set_value(value)
    at.run()
    assert_no_exception(at)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def train_tab(at: AppTest) -> Any:
    return next(tab for tab in at.tabs if tab.label.endswith("Train"))


def tables(chart: Any) -> dict[str, pd.DataFrame]:
    """A vega_lite_chart element's datasets, read back from their Arrow bytes."""
    return {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets}


def title_of(chart: Any) -> str:
    """A chart's heading (a title with a subtitle is an object in the spec)."""
    title = json.loads(chart.proto.spec).get("title") or ""
    return title.get("text", "") if isinstance(title, dict) else title


def part(chart: Any, kind: str) -> pd.DataFrame:
    """All of a chart's "live" (or "static") rows: the table of that name, or those named "live_<layer>"."""
    frames = [frame for name, frame in tables(chart).items() if name == kind or name.startswith(kind + "_")]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def chart(at: AppTest, title: str) -> Any:
    """The Train tab's chart titled ``title``, or else the first whose title starts with it."""
    charts = list(train_tab(at).get("vega_lite_chart"))
    for element in sorted(charts, key=lambda c: title_of(c) != title):
        if title_of(element).startswith(title):
            return element
    raise AssertionError(f"no chart titled {title!r} on the Train tab")


# Columns every live row of a main chart needs: a null there is a NaN that reached the chart.
LIVE_COLUMNS = {"Loss landscape": ("theta", "p1", "p2"), "Data and fits": ("x", "y"), "Loss": ("step", "loss"),
                "Parameters": ("step", "value")}  # longest prefix first: "Loss landscape" before "Loss"


def assert_finite_tables(chart_element: Any) -> None:
    """No NaN or infinity in any number a chart receives.

    Arrow turns a pandas NaN into a null, so a null is allowed only where it is structural: a column
    that a kind of row never uses (all null within that kind), never a gap inside a series; and the
    coordinates of the main charts' live rows are never null.
    """
    title = title_of(chart_element)
    for name, frame in tables(chart_element).items():
        numbers = frame.select_dtypes(include="number")
        labels = [c for c in frame.columns if c not in numbers.columns]
        assert not np.isinf(numbers.to_numpy(dtype=np.float64)).any(), f"{title}/{name}: infinity"
        groups = frame.groupby(labels, dropna=False) if labels else [((), frame)]
        for group_key, rows in groups:
            nulls = rows[numbers.columns].isna()
            partial = [c for c in numbers.columns if 0 < nulls[c].sum() < len(rows)]
            assert not partial, f"{title}/{name} {group_key}: NaN among the values of {partial}"
    required = next((columns for prefix, columns in LIVE_COLUMNS.items() if title.startswith(prefix)), ())
    for name, live in tables(chart_element).items():  # each live layer's table holds only what it draws
        for column in required:
            if name.startswith("live") and column in live:
                assert not live[column].isna().any(), f"{title}/{name}: NaN in the live column {column}"


def assert_every_chart_finite(at: AppTest) -> None:
    charts = at.get("vega_lite_chart")
    assert charts, "no chart drawn"
    for element in charts:
        assert element.proto.alt, "a chart without alt text"
        assert_finite_tables(element)


def shown_outcome(at: AppTest) -> tuple[Any, ...]:
    """What a learner sees of a run: the charts' data and specs, the metrics, the printed log, the script."""
    charts = tuple((element.proto.spec, tuple(t.to_json() for t in tables(element).values()))
                   for element in train_tab(at).get("vega_lite_chart"))
    metrics = tuple((m.label, m.value) for m in at.metric)
    return charts, metrics, tuple(c.value for c in at.code)


# --- rendering ------------------------------------------------------------------------------------

def test_that_the_home_page_renders_a_card_and_a_link_for_every_demo() -> None:
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT).run()
    assert_no_exception(at)
    assert at.title[0].value == "See gradient descent"
    linked = {link.proto.page for link in at.get("page_link")}  # url paths
    assert linked >= set(DEMOS), linked
    titles = {header.value for header in at.subheader}
    assert titles >= {fitcore.get_problem(page).title for page in DEMOS}, titles
    # Each demo's card pictures its data and the fit its notebook ends with.
    thumbnails = [c for c in at.get("vega_lite_chart") if "fit its notebook ends with" in c.proto.alt]
    assert len(thumbnails) == len(DEMOS)
    for chart in thumbnails:
        assert all(len(table) for table in tables(chart).values())


@pytest.mark.parametrize("page", DEMOS)
def test_that_every_demo_page_renders_with_the_notebooks_settings(page: str) -> None:
    at = open_page(page)
    expected = NOTEBOOK[page]
    widgets = {"impl": "selectbox", "optimizer": "selectbox", "lr": "number_input", "steps": "number_input",
               "reduction": "radio", "dtype": "radio", "points": "number_input", "noise": "number_input"}
    for name, value in expected.items():
        assert getattr(at, widgets[name])(key=key(page, name)).value == value, name
    assert not at.button(key=key(page, "run")).disabled
    assert at.info[0].value.startswith("Ready")
    titles = [title_of(c) for c in train_tab(at).get("vega_lite_chart")]
    assert all(any(t.startswith(wanted) for t in titles) for wanted in CHART_TITLES), titles
    assert_every_chart_finite(at)
    assert demo_state(at, page).run is None


def test_that_each_demo_shows_the_readouts_its_definition_asks_for() -> None:
    linear = open_page("linear-2x")  # f(5) before training and at the step shown
    labels = {m.label: m.value for m in train_tab(linear).metric}
    assert labels["f(5) before training"] == "0.000" and labels["f(5) at step 0"] == "0.000", labels
    recovery = open_page("quadratic-recovery")  # d̂ and ê beside the truth, and the notebook's small multiples
    labels = {m.label for m in train_tab(recovery).metric}
    assert {"d̂ (true 0.75)", "ê (true 9.5)"} <= labels, labels
    assert any("titled d̂ and ê" in c.value for c in train_tab(recovery).caption)
    bias = open_page("quadratic-bias")
    assert not any(m.label.startswith("f(5)") or "(true" in m.label for m in train_tab(bias).metric)


def test_that_the_shared_page_names_no_demo_each_definition_says_how_it_is_shown() -> None:
    """Adding a demo is its definition (fitcore/problems.py, lessons) and its page file: nothing in the page's
    rooms or the navigation branches on a demo's id."""
    shared = [REPO / "dashboard.py", REPO / "ui" / "catalog.py", REPO / "ui" / "home.py",
              *(path for room in ("page", "panels", "charts", "custom") for path in (REPO / "ui" / room).rglob("*.py"))]
    for path in shared:
        text = path.read_text(encoding="utf-8")
        named = [demo for demo in DEMOS if f'"{demo}"' in text or f"'{demo}'" in text]
        assert not named, f"{path.relative_to(REPO)} names {named}"


# --- a short run on every page ----------------------------------------------------------------------

@pytest.mark.parametrize("page", DEMOS)
def test_that_a_short_run_with_the_default_implementation_completes_and_its_charts_hold_every_recorded_point(
        page: str) -> None:
    require(NOTEBOOK[page]["impl"])
    at = open_page(page, {"steps": str(SHORT)})
    run = train(at, page)
    assert run.status == "completed"
    assert at.success[0].value == f"Completed all {SHORT} steps."
    assert metric(at, "Step") == str(SHORT)
    log = at.code[0].value
    assert log.strip() and "appear here" not in log

    expected = fitcore.train(RunConfig.notebook(page, steps=SHORT))
    steps, losses, params = expected.history.arrays()
    assert steps[-1] == SHORT
    assert metric(at, "Loss") == short_number(losses[-1])

    loss = part(chart(at, "Loss"), "live")
    curve = loss[loss.kind == "curve"]
    shown = losses > 0  # a log-scale axis has no place for a loss of exactly 0 (linear-2x reaches it in float32)
    np.testing.assert_array_equal(curve.step.to_numpy(), steps[shown])
    np.testing.assert_allclose(curve.loss.to_numpy(), losses[shown], rtol=1e-6)
    marker = loss[loss.kind == "marker"]
    assert marker.step.tolist() == ([SHORT] if losses[-1] > 0 else [])

    trajectory = part(chart(at, "Parameters"), "live")
    trajectory = trajectory[trajectory.kind == "trajectory"]
    problem = fitcore.get_problem(page)
    for index, name in enumerate(problem.param_names):
        rows = trajectory[trajectory.param == name]
        np.testing.assert_array_equal(rows.step.to_numpy(), steps)
        np.testing.assert_allclose(rows.value.to_numpy(), params[:, index], rtol=1e-6, atol=1e-9)

    fit = part(chart(at, "Data and fits"), "live")
    phi, offset = design(page, fit.x.to_numpy())
    np.testing.assert_allclose(fit.y.to_numpy(), phi @ params[-1] + offset, rtol=1e-6, atol=1e-6)
    assert_every_chart_finite(at)


# --- every sidebar control reaches the run ----------------------------------------------------------

RECOVERY = "quadratic-recovery"
FAST = {"impl": "numpy", "steps": "30", "seed": "0"}  # fresh data, so points and noise can change


def initial_loss(run: Any) -> float:
    return float(run.history.arrays()[1][0])


CONTROLS: list[tuple[str, str, dict[str, str], list[tuple[str, str, Any]], Callable[[Any, Any], bool]]] = [
    # (id, page, starting URL, widget changes, what the new run must show against the first one)
    ("implementation", RECOVERY, FAST, [("selectbox", "impl", "analytic")],
     lambda old, new: new.config.impl == "analytic"),
    ("optimizer", RECOVERY, FAST, [("selectbox", "optimizer", "momentum")],
     lambda old, new: new.config.optimizer == "momentum"),
    ("exact learning rate", RECOVERY, FAST, [("number_input", "lr", 3e-5)],
     lambda old, new: new.config.lr == 3e-5),
    ("learning-rate decade", RECOVERY, FAST, [("select_slider", "decade", 1e-4)],
     lambda old, new: new.config.lr == 1e-4),
    ("steps", RECOVERY, FAST, [("number_input", "steps", 40)],
     lambda old, new: new.step == 40 and old.step == 30),
    ("seed", RECOVERY, FAST, [("number_input", "seed", 7)],
     lambda old, new: new.config.seed == 7 and not np.array_equal(new.data.y, old.data.y)),
    ("the notebook's own data", RECOVERY, FAST, [("toggle", "seed_on", False)],
     lambda old, new: new.config.seed is None and np.array_equal(new.data.y.astype(np.float64),
                                                                 np.float32(RECOVERY_Y).astype(np.float64))),
    ("reduction", RECOVERY, FAST, [("radio", "reduction", "sum")],
     lambda old, new: math.isclose(initial_loss(new), 20 * initial_loss(old), rel_tol=1e-5)),
    ("dtype", RECOVERY, FAST, [("radio", "dtype", "float64")],
     lambda old, new: new.config.dtype == "float64" and new.data.x.dtype == np.float64),
    ("compiled path", RECOVERY, FAST, [("toggle", "compiled", True)],
     lambda old, new: new.config.compiled),
    ("points", RECOVERY, FAST, [("number_input", "points", 30)],
     lambda old, new: len(new.data.x) == 30),
    ("noise", RECOVERY, FAST, [("number_input", "noise", 0.5)],
     lambda old, new: new.config.noise == 0.5),
    ("schedule", RECOVERY, FAST, [("selectbox", "schedule", "exponential")],
     lambda old, new: new.config.schedule.kind == "exponential"),
    ("decay factor", RECOVERY, FAST | {"sched": "exponential"}, [("number_input", "gamma", 0.9)],
     lambda old, new: new.config.schedule.gamma == 0.9),
    ("decay interval", RECOVERY, FAST | {"sched": "step", "gamma": "0.1"}, [("number_input", "step_size", 10)],
     lambda old, new: new.config.schedule.step_size == 10),
    ("final cosine rate", RECOVERY, FAST | {"sched": "cosine"}, [("number_input", "lr_min", 5e-6)],
     lambda old, new: new.config.schedule.lr_min == 5e-6),
    ("stop below a loss", RECOVERY, FAST, [("toggle", "loss_below_on", True), ("number_input", "loss_below", 1e12)],
     lambda old, new: new.reason == "loss_below" and new.step < old.step),
    ("stop on a plateau", RECOVERY, FAST, [("toggle", "plateau_tol_on", True),
                                           ("number_input", "plateau_tol", 0.5), ("number_input", "plateau_window", 5)],
     lambda old, new: new.reason == "plateau" and new.step < old.step),
    ("plateau window", RECOVERY, FAST | {"plateau": "0.01"}, [("number_input", "plateau_window", 3)],
     lambda old, new: new.config.stop.plateau_window == 3),
    ("notebook variant", "linear-2x", {}, [("selectbox", "variant", "pytorch")],
     lambda old, new: (new.config.impl, new.config.reduction, new.step) == ("torch-autograd", "mean", 100)),
]


@pytest.mark.parametrize("page, query, changes, check", [c[1:] for c in CONTROLS], ids=[c[0] for c in CONTROLS])
def test_that_changing_each_sidebar_control_changes_the_result(page: str, query: dict[str, str],
                                                               changes: list[tuple[str, str, Any]],
                                                               check: Callable[[Any, Any], bool]) -> None:
    at = open_page(page, query)
    before = train(at, page)
    shown_before = shown_outcome(at)
    for kind, name, value in changes:
        set_widget(at, kind, page, name, value)
    after = train(at, page)
    assert after is not before
    assert shown_outcome(at) != shown_before, "the page shows the same result"
    assert check(before, after)
    assert_every_chart_finite(at)


def test_that_the_log_scale_toggle_switches_the_loss_charts_step_axis() -> None:
    at = open_page(RECOVERY, FAST)
    assert "symlog" not in chart(at, "Loss").proto.spec
    set_widget(at, "toggle", RECOVERY, "logx", True)
    assert "symlog" in chart(at, "Loss").proto.spec


# --- shareable URLs ---------------------------------------------------------------------------------

SHARED = {
    "quadratic-bias": {"nb": "pytorch", "impl": "numpy", "points": "64", "noise": "0.25", "device": "cpu",
                       "start": "7.5"},
    "linear-2x": {"nb": "pytorch", "impl": "tf-tape", "points": "9", "noise": "0.5", "device": "cpu", "start": "0.5"},
    "quadratic-recovery": {"nb": "pytorch", "impl": "torch-manual", "points": "33", "noise": "1.5", "device": "cpu",
                           "start": "0.5,-3.0,2.0"},
    "sine-cubic": {"nb": "nn-rmsprop", "impl": "torch-nn", "points": "500", "noise": "0.125", "device": "auto",
                   "start": "0.25,-1.0,0.5,0.125"},
}
COMMON = {"compiled": "1", "opt": "momentum", "lr": "0.0003", "steps": "77", "seed": "5", "red": "sum",
          "dtype": "float64", "sched": "step", "gamma": "0.7", "every": "13", "lrmin": "0.0", "below": "0.001",
          "plateau": "1e-05", "window": "17", "rate": "4", "logx": "1"}


@pytest.mark.parametrize("page", DEMOS)
def test_that_a_shared_url_restores_every_setting_exactly(page: str) -> None:
    query = SHARED[page] | COMMON
    at = open_page(page, query)
    assert not at.warning, [w.value for w in at.warning]
    assert at.query_params == query
    assert demo_state(at, page).run is None
    assert demo_state(at, page).start == tuple(float(v) for v in query["start"].split(","))  # the chosen start
    read = {
        "impl": at.selectbox(key=key(page, "impl")).value, "opt": at.selectbox(key=key(page, "optimizer")).value,
        "lr": at.number_input(key=key(page, "lr")).value, "steps": at.number_input(key=key(page, "steps")).value,
        "seed": at.number_input(key=key(page, "seed")).value, "red": at.radio(key=key(page, "reduction")).value,
        "dtype": at.radio(key=key(page, "dtype")).value, "points": at.number_input(key=key(page, "points")).value,
        "noise": at.number_input(key=key(page, "noise")).value, "compiled": at.toggle(key=key(page, "compiled")).value,
        "sched": at.selectbox(key=key(page, "schedule")).value, "gamma": at.number_input(key=key(page, "gamma")).value,
        "every": at.number_input(key=key(page, "step_size")).value,
        "below": at.number_input(key=key(page, "loss_below")).value,
        "plateau": at.number_input(key=key(page, "plateau_tol")).value,
        "window": at.number_input(key=key(page, "plateau_window")).value,
        "rate": at.slider(key=key(page, "rate")).value, "logx": at.toggle(key=key(page, "logx")).value,
    }
    assert read == {
        "impl": query["impl"], "opt": "momentum", "lr": 0.0003, "steps": 77, "seed": 5, "red": "sum",
        "dtype": "float64", "points": int(query["points"]), "noise": float(query["noise"]), "compiled": True,
        "sched": "step", "gamma": 0.7, "every": 13, "below": 0.001, "plateau": 1e-05, "window": 17, "rate": 4,
        "logx": True,
    }
    assert at.select_slider(key=key(page, "decade")).value == 1e-4  # the nearest power of ten to 3e-4
    if query["impl"].startswith("torch"):  # the device selector is drawn for PyTorch only
        assert at.selectbox(key=key(page, "device")).value == query["device"]


def test_that_a_link_asking_for_an_absent_accelerator_falls_back_to_the_cpu_with_one_notice() -> None:
    from fitcore.device import ACCELERATORS, device_status
    absent = [d for d in ACCELERATORS if not device_status(d).available]
    if not absent:
        pytest.skip("every accelerator is present here")
    page = "sine-cubic"
    at = open_page(page, {"impl": "torch-autograd", "device": absent[0]})
    notices = [w.value for w in at.warning if w.value.startswith(NOTICE)]
    assert len(notices) == 1 and f"device {absent[0]!r} is not available here" in notices[0], notices
    assert at.selectbox(key=key(page, "device")).value == "cpu"
    assert not [o for o in at.selectbox(key=key(page, "device")).options if absent[0].upper() in o]
    assert any(f"{absent[0].upper()}" in c.value and "Not on this server" in c.value for c in at.sidebar.caption)


BAD_QUERIES = {
    "words": {"lr": "fast", "steps": "many", "impl": "<script>alert(1)</script>"},
    "out of range": {"lr": "1e9", "steps": "0", "points": "-3", "seed": "-1", "rate": "99"},
    "not finite": {"lr": "inf", "noise": "nan", "gamma": "-inf"},
    "not whole": {"steps": "2.5", "seed": "1e400", "window": "0.5"},
    "unknown keys": {"hack": "1", "__import__('os')": "x"},
    "bad booleans": {"compiled": "maybe", "logx": "2"},
    "impossible combination": {"impl": "analytic", "opt": "adam"},
}


@pytest.mark.parametrize("query", BAD_QUERIES.values(), ids=BAD_QUERIES.keys())
def test_that_an_invalid_url_gives_a_single_notice_and_falls_back_to_the_defaults(query: dict[str, str]) -> None:
    page = "linear-2x"
    at = open_page(page, query)
    notices = [w.value for w in at.warning if w.value.startswith(NOTICE)]
    assert len(notices) == 1, [w.value for w in at.warning]
    assert not at.error, [e.value for e in at.error]
    for name, value in NOTEBOOK[page].items():
        widget = at.selectbox if name in ("impl", "optimizer") else at.radio if name in ("reduction", "dtype") \
            else at.number_input
        if FIELD[name].url in query:
            assert widget(key=key(page, name)).value == value, name
    assert not at.button(key=key(page, "run")).disabled
    at.run()
    assert not [w for w in at.warning if w.value.startswith(NOTICE)], "the notice must show once, not on every rerun"
    assert_no_exception(at)


@pytest.mark.parametrize("value, shown", [
    (8.817232, "8.817"), (0.0123456, "0.01235"), (1.3025e-4, "1.30e-4"), (-3.5e-7, "-3.50e-7"), (9999.9, "1.00e4"),
    (12345.6, "1.23e4"), (0.0, "0"), (1e300, "1.00e300"), (30.0, "30")])
def test_that_a_metric_number_is_at_most_eight_characters_and_keeps_three_significant_digits(
        value: float, shown: str) -> None:
    assert short_number(value) == shown and len(shown) <= 8


# --- Pause, Step, Reset -----------------------------------------------------------------------------

# Steps a live run trains before a test cuts its script run off: a fraction of a second here, and far
# from the end of every run the tests interrupt, however fast or slow the machine.
INTERRUPT_AFTER_STEPS = 50_000
CUT_OFF_SECONDS = 120  # only against a hang: a run that never reaches the step count fails the test


class CutOff(RuntimeError):
    """The script run was stopped, by the test, with the run still training."""


class ClickCut(BaseException):
    """Never raised: while a test cuts a script off as a click would, the live loop watches for this instead
    of Streamlit's StopException (AppTest can only stop a script; a click reruns it, and the loop leaves the
    run as it is for the click's callback)."""


def start_and_interrupt(at: AppTest, page: str, button: str, after_steps: int = INTERRUPT_AFTER_STEPS,
                        header_stop: bool = False) -> None:
    """Press ``button`` and cut the script run off once the live loop has trained ``after_steps`` more steps,
    with a stop request (which ends the script at its next Streamlit call): as Streamlit's header Stop does
    (``header_stop``), or standing for a click (see ``ClickCut``).

    AppTest's own timeout stops a script run after a wall-clock time; here the cut comes when the run's
    step passes a count."""
    state = demo_state(at, page)
    before = state.run
    start = before.step if before is not None else 0

    def wait_then_cut(runner: Any, timeout: float = 0) -> None:
        deadline = time.monotonic() + CUT_OFF_SECONDS
        while not runner.script_stopped():
            run = state.run
            if run is not None and run.step >= (start if run is before else 0) + after_steps:
                runner.request_stop()
                runner.join()
                raise CutOff(f"cut off at step {run.step:,}")
            if time.monotonic() > deadline:
                runner.request_stop()
                runner.join()
                raise AssertionError(f"the run did not reach {after_steps:,} steps in {CUT_OFF_SECONDS} s")
            time.sleep(0.001)
        raise AssertionError(f"the script ended before the run had trained {after_steps:,} more steps")

    pressed = at.button(key=key(page, button)).click()
    click = contextlib.nullcontext() if header_stop else mock.patch.object(ui.page.live, "StopException", ClickCut)
    with mock.patch.object(local_script_runner, "require_widgets_deltas", wait_then_cut), click, \
            pytest.raises(CutOff):
        at.run()
    # AppTest keeps the pressed button of a script run that did not finish; a browser's press is one event.
    pressed.set_value(False)


def enabled(at: AppTest, page: str, name: str) -> Any:
    """The button as the interrupted run drew it.

    AppTest keeps only the element tree of its last finished script run, drawn before the live loop
    began (when Pause was still disabled); the interrupted run had drawn it enabled."""
    button = at.button(key=key(page, name))
    button.proto.disabled = False
    return button


def test_that_pause_stops_a_running_training_and_resume_continues_it() -> None:
    page = RECOVERY
    at = open_page(page, {"impl": "numpy", "steps": "10000000", "rate": "20"})
    start_and_interrupt(at, page, "run")
    state = demo_state(at, page)
    assert state.training and 0 < state.run.step < 10_000_000
    enabled(at, page, "pause").click().run()
    assert_no_exception(at)
    paused_at = state.run.step
    assert not state.training and state.run.status == "paused"
    assert at.info[0].value == f"Paused at step {paused_at:,} of 10,000,000."
    assert metric(at, "Step") == f"{paused_at:,}"
    at.run()
    assert state.run.step == paused_at, "the run went on after Pause"
    assert at.button(key=key(page, "pause")).disabled
    assert not at.button(key=key(page, "resume")).disabled

    start_and_interrupt(at, page, "resume")
    assert state.training and state.run.step > paused_at
    enabled(at, page, "pause").click().run()
    assert not state.training and state.run.status == "paused"
    assert_every_chart_finite(at)


def test_that_the_step_buttons_advance_exactly_that_many_steps_and_reset_forgets_the_run() -> None:
    page = "linear-2x"
    at = open_page(page, {"steps": "500"})
    for name, total in (("step1", 1), ("step10", 11), ("step100", 111)):
        click(at, page, name)
        assert_no_exception(at)
        state = demo_state(at, page)
        assert state.run.step == total and not state.training
        assert metric(at, "Step") == f"{total:,}"
    expected = fitcore.train(RunConfig.notebook(page, steps=111))
    np.testing.assert_allclose(state.run.current_params, expected.current_params, rtol=1e-6)
    click(at, page, "reset")
    assert demo_state(at, page).run is None
    assert at.info[0].value.startswith("Ready")


def test_that_a_diverging_run_says_where_and_why_and_offers_a_stable_learning_rate() -> None:
    page = "linear-2x"
    at = open_page(page, {"lr": "0.1"})
    run = train(at, page)
    assert run.status == "diverged"
    # 2/λmax for s·Σ(w·x − y)² with s = 1 (sum): λmax = 2·Σx² = 60, so 2/λmax = 1/30.
    assert math.isclose(run.quad.max_stable_lr, 1 / 30, rel_tol=1e-9)
    message = at.error[0].value
    assert message.startswith("Diverged at step ")
    assert "learning rate 0.1 is above 2/λmax = 0.03333" in message
    assert_every_chart_finite(at)
    click(at, page, "fix_lr")
    lr = at.number_input(key=key(page, "lr")).value
    assert 0 < lr < 1 / 30
    assert train(at, page).status == "completed"


def test_that_reset_to_the_notebook_restores_every_default() -> None:
    page = "sine-cubic"
    at = open_page(page)
    for kind, name, value in (("selectbox", "optimizer", "adam"), ("number_input", "lr", 0.5),
                              ("number_input", "steps", 7), ("radio", "reduction", "mean"), ("toggle", "seed_on", True),
                              ("number_input", "seed", 3),
                              ("toggle", "loss_below_on", True), ("slider", "rate", 3)):
        set_widget(at, kind, page, name, value)
    assert at.query_params["opt"] == "adam"
    click(at, page, "reset_settings")
    assert_no_exception(at)
    for name, value in NOTEBOOK[page].items():
        widget = at.selectbox if name in ("impl", "optimizer") else at.radio if name in ("reduction", "dtype") \
            else at.number_input
        assert widget(key=key(page, name)).value == value, name
    assert not at.toggle(key=key(page, "seed_on")).value  # the notebook's own data and start again
    assert not at.toggle(key=key(page, "loss_below_on")).value
    assert at.slider(key=key(page, "rate")).value == 3, "display settings are not the notebook's"
    assert at.query_params["opt"] == "sgd" and at.query_params["steps"] == "5000"
    assert at.query_params["seed"] == "notebook"


# --- the run's data, downloaded -------------------------------------------------------------------

def _reject_non_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


@pytest.mark.parametrize("page, query", [("sine-cubic", {"impl": "numpy", "steps": "3000"}),
                                         ("linear-2x", {"impl": "numpy", "lr": "0.1"})], ids=["completed", "diverged"])
def test_that_the_run_data_downloads_hold_the_runs_numbers_as_csv_and_json(
        page: str, query: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The Code tab's CSV and JSON buttons make their files only when clicked (a deferred callable): the
    files those callables make hold the recorded points, the settings and the log of an uninterrupted run
    with the page's settings, computed here by fitcore.train."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    made: dict[str, tuple[Callable[[], Any], str | None]] = {}
    add_deferred = MediaFileManager.add_deferred

    def remember(self: Any, data_callable: Callable[[], Any], mimetype: str | None, coordinates: str,
                 file_name: str | None = None, **kwargs: Any) -> str:
        made[str(file_name)] = (data_callable, mimetype)
        return add_deferred(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", remember)
    at = open_page(page, query)
    run = train(at, page)
    reference = fitcore.train(run.config)
    steps, losses, params = reference.history.arrays()

    make_csv, csv_type = made[f"{page}-run.csv"]
    frame = pd.read_csv(io.StringIO(make_csv()))
    assert csv_type == "text/csv" and list(frame.columns) == ["step", "loss", *reference.problem.param_names]
    np.testing.assert_array_equal(frame["step"], steps)
    np.testing.assert_array_equal(frame["loss"], losses)  # written with every digit: read back exactly
    np.testing.assert_array_equal(frame[list(reference.problem.param_names)].to_numpy(), params)

    make_json, json_type = made[f"{page}-run.json"]
    data = json.loads(make_json(), parse_constant=_reject_non_json)  # strict JSON: no NaN or Infinity
    assert json_type == "application/json"
    config = reference.config
    assert {k: data[k] for k in ("problem", "impl", "optimizer", "lr", "steps", "seed", "reduction", "dtype")} == \
        {"problem": config.problem, "impl": config.impl, "optimizer": config.optimizer, "lr": config.lr,
         "steps": config.steps, "seed": config.seed, "reduction": config.reduction, "dtype": config.dtype}
    assert (data["status"], data["diverged_at"]) == (reference.status, reference.diverged_at)
    assert data["final"] == {"step": reference.step, "loss": reference.current_loss,
                             "params": reference.current_params.tolist()}
    assert [point["step"] for point in data["history"]] == steps.tolist()
    assert [point["loss"] for point in data["history"]] == losses.tolist()
    assert [point["params"] for point in data["history"]] == params.tolist()
    assert data["log"] == [line.text for line in reference.log]
    assert data["data"]["x"] == reference.data.x.astype(float).tolist()
    assert data["data"]["y"] == reference.data.y.astype(float).tolist()


# --- a framework that is not installed ---------------------------------------------------------------

def test_that_a_missing_framework_shows_the_pip_command_and_disables_run(monkeypatch: pytest.MonkeyPatch) -> None:
    real = fitcore.impl.framework_available
    monkeypatch.setattr(fitcore.impl, "framework_available", lambda name: name != "tensorflow" and real(name))
    page = "quadratic-bias"  # the TensorFlow notebook: its default implementation is tf-tape
    at = open_page(page)
    errors = [e.value for e in at.error]
    assert any("pip install tensorflow-cpu==2.21.0" in text for text in errors), errors
    assert at.button(key=key(page, "run")).disabled
    assert all(at.button(key=key(page, f"step{n}")).disabled for n in (1, 10, 100))
    labels = at.selectbox(key=key(page, "impl")).options
    assert [label for label in labels if label.endswith("(not installed)")] == [
        "TensorFlow — GradientTape + Keras optimizer (not installed)"]
    set_widget(at, "selectbox", page, "impl", "numpy")
    assert not at.button(key=key(page, "run")).disabled
    assert not any("pip install" in e.value for e in at.error)


# --- against the notebook ------------------------------------------------------------------------------

def test_that_the_page_prints_the_notebooks_lines_beside_the_runs_with_every_digit_marked() -> None:
    at = open_page("linear-2x")
    run = train(at, "linear-2x")
    assert at.code[0].value.splitlines() == [line.text for line in run.log]
    assert [line.text for line in run.log] == list(LINEAR_NUMPY.lines)  # seed 001's NumPy cell, line for line
    assert any("all 12 lines agree to every printed digit" in m.value for m in at.markdown)
    marked = next(m.value for m in at.markdown if ":green[" in m.value).split("  \n")
    assert len(marked) == len(LINEAR_NUMPY.lines)
    assert ":red[" not in "".join(marked)
    for shown, printed in zip(marked, LINEAR_NUMPY.lines):
        assert unmarked(shown) == unmarked(printed)


def unmarked(markdown: str) -> str:
    """A line as read: colour directives, their brackets and escapes taken out."""
    for directive in (":green[", ":red[", ":gray["):
        markdown = markdown.replace(directive, "")
    return markdown.replace("\\", "").replace("]", "")


def test_that_fresh_data_from_a_seed_shows_the_notebooks_lines_uncompared_and_says_why() -> None:
    at = open_page("linear-2x", {"seed": "3"})
    train(at, "linear-2x")
    assert any("Not compared" in m.value and "fresh data from a seed" in m.value for m in at.markdown)
    assert not any(":green[" in m.value for m in at.markdown)

