"""Bad input never breaks anything: generated query strings on every page, every numeric setting at its
bounds and beyond, and learning rates from 1e-12 to 1e6 on every implementation.

The bulk is property-based: hypothesis generates at least 500 query strings per page (unknown keys,
wrong types, huge and negative numbers, NaN/inf text, unicode, very long strings, repeated keys) and
``ui.page.settings.parse_query`` must turn each into runnable settings, keep what is valid, fall back to
the notebook's value for what is not, and name every refusal. A smaller generated sample goes through
the real pages (AppTest) to prove the page renders with one notice and the parsed values. What counts
as valid is written out below from the settings' documented meaning (a choice, a boolean word, a
finite number in the widget's range), not taken from the parser.
"""
from __future__ import annotations

import dataclasses
import json
import math
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fitcore
from fitcore import OPTIMIZERS, Run, RunConfig, cli
from fitcore.custom import DataSourceError, custom_problem
from ui.custom.settings import SOURCE_KEYS, default_source_values, function_source_of, parse_source_query
from ui.page.settings import (MIN_LR, Setting, choices_for, config_from_values, defaults, notice_text, parse_query,
                         settings_for)

from conftest import ALL_IMPLS, DEMOS, require
from test_cli import _quick_train, call
from test_dashboard import (NOTICE, assert_every_chart_finite, assert_no_exception, demo_state, key, open_page)

CUSTOM = custom_problem(function_source_of(default_source_values()))
PROBLEMS = {**{page: fitcore.get_problem(page) for page in DEMOS}, "custom": CUSTOM}
PER_PAGE = 600          # generated query strings per page through parse_query
THROUGH_THE_APP = 8     # generated query strings per page through the real page
COMBINATION = "using the notebook's implementation and optimizer"


# --- what a generated query string may hold ---------------------------------------------------------

ODD_TEXT = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "-Infinity", "1e309", "-1e309", "1e-400", "0x10",
            "1_000", "١٢", "", " ", "None", "null", "true", "false", "[]", "{}", "<script>alert(1)</script>",
            "../../etc/passwd", "'; DROP TABLE runs; --", "%00", "\x00", "\u202e1", "１２", "1e", "--1", "+5",
            "0.0", "-0", "9" * 400, "1" + "0" * 30, "__import__('os').system('x')", ":material/bolt:", "**bold**"]
NUMBERS = st.one_of(
    st.integers(min_value=-10**40, max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.floats(min_value=-1e6, max_value=1e6).map(lambda v: f"{v:.3e}"),
)
LONG = st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=3), st.integers(200, 5000))
TEXT = st.one_of(st.sampled_from(ODD_TEXT), NUMBERS, st.text(max_size=24), LONG)


def valid_choices(problem: Any) -> st.SearchStrategy[str]:
    """Values that do mean something on this page (a choice in any case, a boolean word, a number in range),
    so generated sets mix valid settings with bad ones."""
    words = [option.upper() if i % 2 else option
             for name in ("variant", "impl", "optimizer", "reduction", "dtype", "schedule")
             for i, option in enumerate(choices_for(problem, name))]
    starts = st.lists(st.floats(min_value=-50, max_value=50), min_size=problem.n_params - 1,
                      max_size=problem.n_params).map(lambda v: ",".join(map(repr, v)))  # θ₀, and one number short
    return st.one_of(st.sampled_from(words + ["1", "0", "yes", "off", "TRUE"]),
                     st.floats(min_value=0, max_value=1000).map(repr), st.integers(0, 5000).map(str), starts)


def query_strategy(problem: Any) -> st.SearchStrategy[dict[str, Any]]:
    known = [s.key for s in settings_for(problem)] + (list(SOURCE_KEYS) if problem.source is not None else [])
    keys = st.one_of(st.sampled_from(known), st.sampled_from([k.upper() for k in known]), st.text(max_size=12),
                     LONG)
    value = st.one_of(TEXT, valid_choices(problem))
    return st.dictionaries(keys, st.one_of(value, st.lists(value, min_size=1, max_size=3)), max_size=8)


# --- the settings' meaning, written out ---------------------------------------------------------------

TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
REFUSED = object()


def meaning(problem: Any, setting: Setting, text: str) -> Any:
    """What a query value says for a setting, or REFUSED."""
    text = text.strip()
    if setting.kind == "choice":
        found = [option for option in choices_for(problem, setting.name) if option.lower() == text.lower()]
        return found[0] if found else REFUSED
    if setting.kind == "bool":
        return True if text.lower() in TRUE_WORDS else False if text.lower() in FALSE_WORDS else REFUSED
    if setting.kind == "optional-float" and text.lower() in ("", "none", "off"):
        return None
    if setting.kind == "optional-int" and text.lower() in ("", "none", "off", "notebook"):
        return None  # the seed: the notebook's own data and start
    if setting.kind == "optional-floats":  # θ₀: the data's own start, or one number per parameter
        if text.lower() in ("", "none", "off", "notebook"):
            return None
        numbers = [meaning(problem, dataclasses.replace(setting, kind="float"), part) for part in text.split(",")]
        return tuple(numbers) if len(numbers) == problem.n_params and REFUSED not in numbers else REFUSED
    try:
        number = float(text)
    except (ValueError, OverflowError):
        return REFUSED
    if not math.isfinite(number) or not setting.low <= number <= setting.high:
        return REFUSED
    if setting.key == "lr" and number <= 0:
        return REFUSED
    if setting.kind in ("int", "optional-int"):
        return int(number) if number.is_integer() else REFUSED
    return number


def last(value: Any) -> str:
    return str(value[-1]) if isinstance(value, list) else str(value)


def check_parsed(problem: Any, query: dict[str, Any]) -> None:
    values, problems = parse_query(problem, query)
    table = {s.key: s for s in settings_for(problem)}   # by query-string key; values go by name
    assert set(values) == {s.name for s in table.values()}, "every setting has a value"
    config_from_values(problem, values)  # always runnable: raises ConfigError otherwise
    combination = any(COMBINATION in p for p in problems)
    variant = last(query["nb"]).strip().lower() if "nb" in query else None
    base = defaults(problem, next((v for v in choices_for(problem, "variant") if v.lower() == variant), None))
    named = [p for p in problems if COMBINATION not in p]
    for name, raw in query.items():
        setting = table.get(name)
        if setting is None:
            if problem.source is not None and name in SOURCE_KEYS:
                continue
            assert any(p.startswith("unknown setting") for p in named), (name, problems)
            continue
        if combination and name in ("impl", "opt", "sched"):
            continue
        wanted, named_as = meaning(problem, setting, last(raw)), setting.name
        if wanted is REFUSED:
            assert any(p.startswith(f"{name}=") for p in named), (name, raw, problems)
            # other points or noise than the notebook's own are fresh data: seed 0 stands in for a refused seed
            fallback = 0 if name == "seed" and base[named_as] is None and values["seed"] == 0 and \
                (values["noise"] != base["noise"] or values["points"] != base["points"]) else base[named_as]
            assert values[named_as] == fallback, (name, values[named_as], base[named_as])
        else:
            assert not any(p.startswith(f"{name}=") for p in named), (name, raw, problems)
            assert values[named_as] == wanted or (isinstance(wanted, float) and math.isclose(values[named_as], wanted)), \
                (name, raw, values[named_as])
    refused_here = sum(1 for name, raw in query.items() if name in table
                       and meaning(problem, table[name], last(raw)) is REFUSED)
    unknown_here = sum(1 for name in query if name not in table
                       and not (problem.source is not None and name in SOURCE_KEYS))
    assert len(named) == refused_here + unknown_here, (query, problems)
    if problems:
        notice = notice_text(problems)
        # Every quoted value is cut to 40 characters: a 5,000-character key cannot flood the page.
        assert len(notice) <= 250 + 200 * len(problems), len(notice)
    if problem.source is not None:
        source_values, source_problems = parse_source_query(query)
        assert source_values["xmin"] < source_values["xmax"] and all(source_problems)
        try:  # a typed function stands as typed; the page shows what is wrong with it
            function_source_of(source_values)
        except DataSourceError as error:
            assert str(error)


@pytest.mark.parametrize("page", PROBLEMS)
def test_that_at_least_500_generated_query_strings_per_page_give_runnable_settings_and_name_every_refusal(
        page: str) -> None:
    problem = PROBLEMS[page]
    tried: list[dict[str, Any]] = []

    @settings(max_examples=PER_PAGE, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(query_strategy(problem))
    def check(query: dict[str, Any]) -> None:
        tried.append(query)
        check_parsed(problem, query)

    check()
    distinct = {json.dumps(q, sort_keys=True) for q in tried}
    assert len(distinct) >= 500, f"only {len(distinct)} distinct query strings were tried"
    assert sum(1 for q in tried if len(q) > 1) >= 250, "too few sets with several keys"


# --- through the real page -------------------------------------------------------------------------------

APP_PAGES = {**{page: page for page in DEMOS}, "custom": "custom"}


def open_any(page: str, query: dict[str, Any]) -> Any:
    from streamlit.testing.v1 import AppTest
    from test_dashboard import DASHBOARD, PAGE_FILES, TIMEOUT
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)
    at.query_params.update(query)
    at.run()  # st.navigation registers the pages on a first run; then a page can be opened by file
    at.switch_page(PAGE_FILES.get(page, "app_pages/custom_data.py"))
    at.run()
    return at


@pytest.mark.parametrize("page", APP_PAGES)
def test_that_each_page_renders_generated_bad_links_with_one_notice_and_the_parsed_settings(page: str) -> None:
    problem = PROBLEMS[page]
    opened: list[int] = []
    demo_query = query_strategy(problem) if problem.source is None else \
        st.dictionaries(st.sampled_from([s.key for s in settings_for(problem)] + ["fn", "xmin", "deg", "zzz"]),
                        st.one_of(TEXT, valid_choices(problem)), min_size=1, max_size=6)

    @settings(max_examples=THROUGH_THE_APP, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(demo_query.filter(lambda q: any(v for v in q.values())))
    def check(query: dict[str, Any]) -> None:
        flat = {k: last(v) for k, v in query.items()}
        at = open_any(page, flat)
        opened.append(1)
        assert_no_exception(at)
        values, problems = parse_query(problem, flat)
        source_problems = parse_source_query(flat)[1] if problem.source is not None else []
        notices = [w.value for w in at.warning if w.value.startswith(NOTICE)]
        assert len(notices) == (1 if problems or source_problems else 0), (flat, [w.value for w in at.warning])
        if problem.source is None:
            state = demo_state(at, page)
            shown = ("impl", "optimizer", "steps", "seed", "reduction", "dtype", "points")
            assert {k: state.values[k] for k in shown} == {k: values[k] for k in shown}
            assert not at.button(key=key(page, "run")).disabled
            assert_every_chart_finite(at)
        at.run()
        assert_no_exception(at)
        assert not [w for w in at.warning if w.value.startswith(NOTICE)], "the notice shows once, not on every rerun"

    check()
    assert len(opened) == THROUGH_THE_APP


# --- every numeric setting at its bounds and beyond ---------------------------------------------------

def numeric_settings() -> list[tuple[str, Setting]]:
    return [(page, s) for page in DEMOS for s in settings_for(PROBLEMS[page]) if s.kind in ("int", "float",
                                                                                             "optional-float")]


def beyond(setting: Setting) -> list[str]:
    """Values just outside the range, far outside it, and negative."""
    step = 1 if setting.kind == "int" else max(abs(setting.high) * 1e-9, 1e-300)
    outside = [setting.high + step, setting.high * 10 + 1, -abs(setting.high) - 1, 1e308 * 10]
    if setting.low > 0:
        outside.append(setting.low / 2 if setting.kind != "int" else setting.low - 1)
    else:
        outside.append(-1e-300 if setting.kind != "int" else -1)
    return [repr(v) if isinstance(v, float) else str(v) for v in outside]


@pytest.mark.parametrize("page, setting", numeric_settings(), ids=[f"{p}-{s.key}" for p, s in numeric_settings()])
def test_that_every_numeric_setting_is_kept_at_its_bounds_and_refused_beyond_them(page: str, setting: Setting) -> None:
    problem = PROBLEMS[page]
    base = defaults(problem)
    for bound in (setting.low, setting.high):
        text = str(int(bound)) if setting.kind == "int" else repr(float(bound))
        values, problems = parse_query(problem, {setting.key: text})
        assert values[setting.name] == bound and not [p for p in problems if p.startswith(setting.key + "=")], \
            (text, problems)
    for text in beyond(setting):
        values, problems = parse_query(problem, {setting.key: text})
        assert values[setting.name] == base[setting.name], text
        assert [p for p in problems if p.startswith(f"{setting.key}=")], (text, problems)


def bound_query(page: str, which: str) -> dict[str, str]:
    """Every numeric setting of the page at its low (or high) bound, on NumPy."""
    query = {"impl": "numpy", "rate": "1" if which == "low" else "20"}
    for setting in settings_for(PROBLEMS[page]):
        if setting.kind in ("int", "float", "optional-float") and setting.key != "rate":
            bound = setting.low if which == "low" else setting.high
            query[setting.key] = str(int(bound)) if setting.kind == "int" else repr(float(bound))
    return query


@pytest.mark.parametrize("which", ("low", "high"))
@pytest.mark.parametrize("page", DEMOS)
def test_that_every_page_opens_and_runs_with_every_numeric_setting_at_a_bound(page: str, which: str) -> None:
    query = bound_query(page, which)
    at = open_page(page, query)
    assert not [w.value for w in at.warning if w.value.startswith(NOTICE)]
    assert at.number_input(key=key(page, "steps")).value == int(query["steps"])
    assert at.number_input(key=key(page, "lr")).value == float(query["lr"])
    at.button(key=key(page, "run")).click().run()
    assert_no_exception(at)
    run = demo_state(at, page).run
    # Low: one step at lr 1e-12. High: lr 1e6 with "stop below 1e300" — the loss is already below it.
    assert run.finished and run.status in ("completed", "diverged"), (run.status, run.message)
    assert run.step == (1 if which == "low" else 0)
    assert_every_chart_finite(at)


# --- learning rates from 1e-12 to 1e6 on every implementation -----------------------------------------------

RATES = (MIN_LR, 1e-9, 1e-6, 1e-3, 1.0, 1e3, fitcore.MAX_LR)
STEPS = 25


def optimizers_of(impl: str) -> tuple[str, ...]:
    return ("sgd", "momentum") if impl == "analytic" else OPTIMIZERS


def assert_finite_run(run: Run) -> None:
    assert run.finished and run.status in ("completed", "diverged"), (run.status, run.message)
    steps, losses, params = run.history.arrays()
    assert len(steps) and np.isfinite(losses).all() and np.isfinite(params).all()
    assert math.isfinite(run.current_loss) and np.isfinite(run.current_params).all()
    json.dumps(run.result(), allow_nan=False)  # ValueError on any NaN or infinity
    if run.status == "diverged":
        assert run.diverged_at == run.step + 1 and steps[-1] == run.step
    else:
        assert run.step == STEPS


@pytest.mark.parametrize("impl", ALL_IMPLS)
def test_that_every_learning_rate_from_1e_12_to_1e6_completes_or_diverges_with_finite_numbers(impl: str) -> None:
    require(impl)
    tried = 0
    for page in DEMOS:
        for optimizer in optimizers_of(impl) if page == "sine-cubic" else ("sgd",):
            for lr in RATES:
                config = RunConfig.notebook(page, impl=impl, optimizer=optimizer, lr=lr, steps=STEPS)
                assert_finite_run(fitcore.train(config))
                tried += 1
    assert tried == len(RATES) * (3 + len(optimizers_of(impl)))


@pytest.mark.parametrize("impl, lr, outcome", [
    ("numpy", fitcore.MAX_LR, "diverged"), ("torch-autograd", fitcore.MAX_LR, "diverged"),
    ("tf-tape", fitcore.MAX_LR, "diverged"), ("analytic", fitcore.MAX_LR, "diverged"),
    ("numpy", MIN_LR, "completed"), ("torch-nn", MIN_LR, "completed"),
])
def test_that_extreme_learning_rates_through_the_page_end_cleanly_with_finite_charts(impl: str, lr: float,
                                                                                     outcome: str) -> None:
    require(impl)
    page = "sine-cubic"
    at = open_page(page, {"impl": impl, "lr": repr(lr), "steps": "40"})
    at.button(key=key(page, "run")).click().run()
    assert_no_exception(at)
    run = demo_state(at, page).run
    assert run.status == outcome, run.message
    shown = at.error if outcome == "diverged" else at.success
    assert [e.value for e in shown if e.value == run.message], "the status line says how the run ended"
    assert_every_chart_finite(at)


# --- the CLI takes the same generated values ------------------------------------------------------------

CLI_FLAGS = {"lr": "--lr", "steps": "--steps", "seed": "--seed", "points": "--points", "noise": "--noise",
             "gamma": "--gamma", "every": "--step-size", "lrmin": "--lr-min", "below": "--loss-below",
             "plateau": "--plateau-tol", "window": "--plateau-window"}


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(DEMOS), st.dictionaries(st.sampled_from(sorted(CLI_FLAGS)), TEXT, min_size=1, max_size=4))
def test_that_the_cli_answers_the_same_generated_values_with_exit_2_and_one_line(page: str,
                                                                                 values: dict[str, str]) -> None:
    argv = ["run", page] + [f"{CLI_FLAGS[name]}={text}" for name, text in values.items()]
    with mock.patch.object(cli, "train", _quick_train):
        code, out, err = call(argv)
    assert code in (0, 2), err
    assert "Traceback" not in out + err
    if code == 2:
        assert len(err.splitlines()) == 1 and out == ""
