"""Estimates on the demo pages (AppTest): a long run shows its estimate and one-click faster paths before
it starts, and a run estimated over a minute that nobody was told about waits for a second click."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from fitcore import RunConfig
from fitcore.estimate import Rate, rate_key

REPO = Path(__file__).resolve().parent.parent
PAGE = "quadratic-recovery"
NOTEBOOK = RunConfig.notebook(PAGE)  # the seed's step by hand and 1,000,000 eager PyTorch steps
EARLIER = {rate_key(NOTEBOOK): Rate(8000.0, "measured in an earlier run")}  # about 2 min 05 s


def open_page(rates: dict | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    if rates is not None:
        at.session_state["pace:rates"] = dict(rates)
    at.query_params.update(query or {})
    at.run()  # st.navigation registers the pages on a first run; then a page can be opened by file
    at.switch_page(f"app_pages/{PAGE.replace('-', '_')}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def state(at: AppTest):
    return at.session_state[f"state:{PAGE}"]


def pace_buttons(at: AppTest) -> dict[str, object]:
    return {b.label: b for b in at.button if (b.key or "").startswith(f"{PAGE}:pace_")}


def test_that_the_million_step_recovery_shows_its_time_and_offers_compiled_and_exact_before_it_starts() -> None:
    at = open_page(EARLIER)
    warning = next(w.value for w in at.warning if "This run would take" in w.value)
    assert "about 2 min 05 s" in warning and "1,000,001 steps at 8,000 steps/s" in warning
    assert list(pace_buttons(at)) == ["Run on the compiled path", "Run with the exact engine"]
    assert state(at).run is None and not state(at).training

    pace_buttons(at)["Run with the exact engine"].click().run()
    assert not at.exception, [e.value for e in at.exception]
    run = state(at).run
    assert (run.config.impl, run.config.dtype, run.status, run.step) == ("analytic", "float64", "completed", 1_000_001)
    assert at.session_state[f"{PAGE}:impl"] == "analytic"


def test_that_run_waits_for_a_second_click_when_its_long_estimate_was_not_shown_first() -> None:
    at = open_page()
    at.session_state["pace:rates"] = dict(EARLIER)  # learnt after the page was drawn: the user saw nothing
    at.button(key=f"{PAGE}:run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not state(at).training and state(at).run.step == 0
    buttons = pace_buttons(at)
    assert "Run anyway" in buttons and "Run with the exact engine" in buttons
    assert any("This run would take about 2 min 05 s" in w.value for w in at.warning)


def test_that_a_numpy_run_is_estimated_as_the_page_draws_without_any_framework() -> None:
    at = open_page(query={"impl": "numpy", "steps": "10000000"})
    rate = at.session_state["pace:rates"][rate_key(NOTEBOOK.replace(impl="numpy"))]
    assert rate.steps_per_second > 0 and rate.source.startswith("measured just now")
    assert any("This run would take" in w.value for w in at.warning)
    assert [b for b in pace_buttons(at)] == ["Run on the compiled path", "Run with the exact engine"]


def test_that_a_short_run_starts_at_once_and_leaves_its_rate_for_the_next_estimate() -> None:
    at = open_page(query={"impl": "numpy", "steps": "300"})
    at.button(key=f"{PAGE}:run").click().run()
    run = state(at).run
    assert run.status == "completed" and run.step == 300
    assert not pace_buttons(at)


def test_that_a_numpy_rate_timed_by_one_session_serves_the_next_without_timing_again(monkeypatch) -> None:
    import ui.panels.pace as pace

    pace.timed_on_this_server.clear()
    timed: list[RunConfig] = []
    real = pace.calibrate
    monkeypatch.setattr(pace, "calibrate", lambda config, **kw: timed.append(config) or real(config, **kw))
    query = {"impl": "numpy", "steps": "5000000"}
    first = open_page(query=query)
    assert timed, "the first session did not time its settings"
    count = len(timed)
    second = open_page(query=query)
    assert len(timed) == count
    assert at_rate(second) == at_rate(first)


def at_rate(at: AppTest) -> dict:
    return dict(at.session_state["pace:rates"])
