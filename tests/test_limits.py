"""Caps for a shared deployment (ui.page.limits): every knob reads FITCORE_<NAME> or secrets.toml, ignores
nonsense, and each cap, when hit on a page, ends what it capped with a message naming the cap and how to
raise it locally. The README documents every knob.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import fitcore
from fitcore import RunConfig
from fitcore.lessons import lesson_config
from ui.page import limits
from ui.page.limits import KNOBS, cap, run_limits, steps_notice

from test_app_custom import FIXTURES, errors as custom_errors, key as custom_key, open_page as open_custom, \
    to_csv_source, upload
from test_dashboard import assert_no_exception, demo_state, key, open_page

REPO = Path(__file__).resolve().parent.parent
PAGE = "linear-2x"


@pytest.fixture(autouse=True)
def no_caps_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for knob in KNOBS.values():
        monkeypatch.delenv(knob.variable, raising=False)


# --- reading the knobs --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", KNOBS)
def test_that_each_knob_reads_its_environment_variable_and_falls_back_to_its_default(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    knob = KNOBS[name]
    assert cap(name) == knob.default and isinstance(cap(name), knob.kind)
    monkeypatch.setenv(f"FITCORE_{name.upper()}", "7")
    assert cap(name) == 7
    for nonsense in ("0", "-3", "many", "", "inf", "nan"):
        monkeypatch.setenv(f"FITCORE_{name.upper()}", nonsense)
        assert cap(name) == knob.default, nonsense


def test_that_a_knob_is_read_from_secrets_toml_when_the_environment_has_none() -> None:
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    at.secrets["max_steps"] = 25
    at.query_params.update({"steps": "40"})
    at.run()  # st.navigation registers the pages on a first run; then a page can be opened by file
    at.switch_page("app_pages/linear_2x.py")
    at.run()
    assert any("at most 25 steps per run" in i.value for i in at.info)
    at.button(key=key(PAGE, "run")).click().run()
    run = demo_state(at, PAGE).run
    assert (run.status, run.reason, run.step) == ("stopped", "cap_steps", 25)
    assert "raise FITCORE_MAX_STEPS (or max_steps in .streamlit/secrets.toml)" in run.message


def test_that_the_lower_of_the_general_and_the_implementations_step_cap_applies(
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = RunConfig.notebook(PAGE, impl="torch-autograd", steps=5_000_000)
    assert run_limits(config).max_steps == limits.FRAMEWORK_STEPS
    assert "FITCORE_MAX_STEPS_TORCH_AUTOGRAD" in run_limits(config).steps_hint
    assert "PyTorch — autograd" in steps_notice(config)
    assert run_limits(config.replace(impl="numpy")).max_steps == fitcore.MAX_STEPS
    assert steps_notice(config.replace(impl="numpy")) is None
    monkeypatch.setenv("FITCORE_MAX_STEPS", "1000")
    assert run_limits(config).max_steps == 1000 and "FITCORE_MAX_STEPS " in run_limits(config).steps_hint


def test_that_the_notebooks_own_runs_all_fit_under_the_default_caps() -> None:
    for problem in fitcore.PROBLEMS.values():
        for variant in problem.variants:
            config = RunConfig.notebook(problem.id, variant.key)
            assert steps_notice(config) is None, (problem.id, variant.key)
    for problem in fitcore.PROBLEMS.values():
        for lesson in problem.lessons:
            assert steps_notice(lesson_config(lesson, problem.id)) is None, lesson.key


# --- each cap, hit on a page ---------------------------------------------------------------------------

def test_that_a_run_over_an_implementations_step_cap_is_announced_and_stops_there(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FITCORE_MAX_STEPS_NUMPY", "30")
    at = open_page(PAGE, {"impl": "numpy", "steps": "100"})
    notice = next(i.value for i in at.info if "at most 30 steps" in i.value)
    assert "FITCORE_MAX_STEPS_NUMPY" in notice
    at.button(key=key(PAGE, "run")).click().run()
    assert_no_exception(at)
    run = demo_state(at, PAGE).run
    assert (run.status, run.reason, run.step) == ("stopped", "cap_steps", 30)
    shown = [w.value for w in at.warning if w.value == run.message]
    assert shown and "cap of 30 steps" in shown[0] and "raise FITCORE_MAX_STEPS_NUMPY" in shown[0]


def test_that_a_run_over_the_time_cap_stops_with_the_cap_and_how_to_raise_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FITCORE_MAX_SECONDS", "0.3")
    at = open_page(PAGE, {"impl": "numpy", "steps": "10000000"})
    at.button(key=key(PAGE, "run")).click().run()
    assert_no_exception(at)
    run = demo_state(at, PAGE).run
    assert (run.status, run.reason) == ("stopped", "cap_time") and 0 < run.step < 10_000_000
    assert [w.value for w in at.warning if w.value == run.message]
    assert "cap of 0.3 s per run" in run.message and "raise FITCORE_MAX_SECONDS" in run.message
    assert at.button(key=key(PAGE, "resume")).disabled, "a capped run is finished, not paused"


def test_that_a_comparison_stops_at_its_time_cap_keeping_what_finished(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FITCORE_MAX_COMPARE_SECONDS", "0.5")
    # Six runs of 2,000 steps on 2,000 points: the exact engine takes milliseconds, each eager loop a
    # tenth of a second or more, so the cap falls after the first run and before the last, warm or cold.
    page = "sine-cubic"
    at = open_page(page, {"steps": "2000"})
    at.button(key=key(page, "compare_frameworks")).click().run()
    assert_no_exception(at)
    result = demo_state(at, page).extras["compare:frameworks"]
    assert 0 < len(result.outcomes) < len(result.plan.jobs)
    message = next(w.value for w in at.warning if "per comparison" in w.value)
    assert message.startswith(f"{len(result.outcomes)} of {len(result.plan.jobs)} runs finished.")
    assert "cap of 0.5 s per comparison" in message and "raise FITCORE_MAX_COMPARE_SECONDS" in message


def test_that_pinning_stops_at_the_pinned_runs_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FITCORE_MAX_PINNED", "2")
    at = open_page(PAGE, {"steps": "5"})
    for lr in ("0.01", "0.02", "0.03"):
        at.number_input(key=key(PAGE, "lr")).set_value(float(lr)).run()
        at.button(key=key(PAGE, "run")).click().run()
        pin = at.button(key=key(PAGE, "pin"))
        if len(demo_state(at, PAGE).pinned) < 2:
            pin.click().run()
    state = demo_state(at, PAGE)
    assert len(state.pinned) == 2
    pin = at.button(key=key(PAGE, "pin"))
    assert pin.disabled and "2 runs are pinned" in pin.help and "FITCORE_MAX_PINNED" in pin.help


def test_that_an_upload_over_the_row_cap_is_refused_with_how_to_raise_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FITCORE_MAX_UPLOAD_ROWS", "4")
    at = open_custom()
    to_csv_source(at)
    assert at.file_uploader(key=custom_key("upload")).proto.max_upload_size_mb == 5
    upload(at, "measurements.csv")  # 6 rows
    message = next(e for e in custom_errors(at) if "the limit is 4" in e)
    assert "FITCORE_MAX_UPLOAD_ROWS" in message


def test_that_the_upload_size_cap_sets_the_upload_box_and_the_pages_own_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FITCORE_MAX_UPLOAD_MB", "1")
    at = open_custom()
    to_csv_source(at)
    assert at.file_uploader(key=custom_key("upload")).proto.max_upload_size_mb == 1
    upload(at, "big.csv", b"x,y\n" + b"1,2\n" * (1024 * 1024 // 4 + 1))
    message = next(e for e in custom_errors(at) if "files are limited to 1 MB" in e)
    assert "FITCORE_MAX_UPLOAD_MB" in message
    assert (FIXTURES / "measurements.csv").exists()


# --- documented ---------------------------------------------------------------------------------------------

def test_that_the_readme_documents_every_knob_with_its_variable_and_default() -> None:
    readme = (REPO / "README.md").read_text()
    for knob in KNOBS.values():
        row = next((line for line in readme.splitlines() if f"`{knob.name}`" in line), None)
        assert row is not None, f"{knob.name} is not documented in the README"
        assert f"`{knob.variable}`" in row, knob.name
        default = f"{knob.default:,}" if knob.kind is int else f"{knob.default:g}"
        assert re.search(rf"\b{re.escape(default)}\b", row), (knob.name, default, row)
