"""The dashboard in a real browser: `streamlit run dashboard.py` on 127.0.0.1, driven through Debian's Chromium.

Every page is visited and trains; its charts must be painted with data and no exception box may appear;
Pause must stop the displayed step; every page is saved as a 1280×720 screenshot in artifacts/screenshots/.
Measured numbers (Pause latency, updates per second) go to artifacts/browser-measurements.json.
"""
from __future__ import annotations

import math
import re
import time
from typing import Any

import pytest

from .harness import DashboardPage, ProcessGroupMemory

pytestmark = pytest.mark.browser

DEMOS = ("quadratic-bias", "linear-2x", "quadratic-recovery", "sine-cubic")
STEPS = 300
# The marks' colours (ui.charts): the loss curve is blue, "where the run is now" orange.
LOSS_LINE, NOW = "#4c78a8", "#f58518"


def charts_by_alt_text(dashboard: DashboardPage) -> dict[str, Any]:
    return {chart.get_attribute("aria-label") or "": chart for chart in dashboard.visible_charts()}


def screenshot_page(dashboard: DashboardPage, name: str) -> list[str]:
    """The top of the page, and the view scrolled to the charts, as a projector shows them."""
    dashboard.page.mouse.move(1, 1)  # no tooltip in the picture
    dashboard.page.wait_for_timeout(500)
    paths = [dashboard.screenshot(name)]
    charts = dashboard.visible_charts()
    if charts:
        charts[0].scroll_into_view_if_needed()
        dashboard.page.mouse.move(1, 1)
        dashboard.page.wait_for_timeout(300)
        paths.append(dashboard.screenshot(f"{name}-charts"))
    return [str(p) for p in paths]


def test_that_the_home_page_links_every_demo_without_an_exception(dashboard: DashboardPage,
                                                                 measurements: dict[str, Any]) -> None:
    dashboard.open("")
    assert dashboard.page.get_by_role("heading", name="See gradient descent").count() == 1
    for page in DEMOS:
        link = dashboard.page.locator(f'[data-testid="stPageLink"] a[href="{page}"], '
                                      f'[data-testid="stPageLink"] a[href$="/{page}"]')
        assert link.count() == 1, page
    assert dashboard.exceptions() == []
    measurements.setdefault("screenshots", []).extend(screenshot_page(dashboard, "home"))
    dashboard.page.locator('[data-testid="stPageLink"] a[href="linear-2x"]').click()
    dashboard.page.wait_for_url("**/linear-2x*", timeout=60_000)
    dashboard.wait_until_idle()
    assert dashboard.page.locator("h1").first.inner_text().strip() == "Linear 2x"
    assert dashboard.exceptions() == []


@pytest.mark.parametrize("page", DEMOS)
def test_that_every_page_trains_and_paints_its_charts_with_data(dashboard: DashboardPage, page: str,
                                                               measurements: dict[str, Any]) -> None:
    dashboard.open(page, {"steps": STEPS})
    assert dashboard.exceptions() == []
    assert dashboard.step() == 0
    dashboard.click("Run")
    dashboard.wait_for_status(f"Completed all {STEPS} steps.", timeout=150)
    dashboard.wait_until_idle()
    assert dashboard.step() == STEPS
    assert dashboard.exceptions() == []

    charts = charts_by_alt_text(dashboard)
    assert len(charts) >= 4, list(charts)
    for alt_text, chart in charts.items():
        assert alt_text, "a chart without alt text"
        ink = dashboard.canvas_ink(chart)
        assert ink is not None, f"no canvas in the chart {alt_text!r}"
        assert ink["painted"] > 0 and ink["colours"] > 20, (alt_text, ink["painted"], ink["colours"])
    loss = next(chart for text, chart in charts.items() if text.startswith("Loss against step"))
    assert f"at step {STEPS}" in (loss.get_attribute("aria-label") or "")
    assert LOSS_LINE in dashboard.canvas_ink(loss)["hex"], "the loss curve is not drawn"
    fit = next(chart for text, chart in charts.items() if text.startswith("Scatter of the"))
    assert NOW in dashboard.canvas_ink(fit)["hex"], "the current fit is not drawn"
    measurements.setdefault("screenshots", []).extend(screenshot_page(dashboard, page))


def wait_until_the_step_settles(dashboard: DashboardPage, quiet: float, timeout: float) -> bool:
    """Until the displayed step has not changed for ``quiet`` seconds (browser clock); False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = dashboard.page.evaluate("() => performance.now()") / 1000.0
        changes = dashboard.trace().changes
        if not changes or now - changes[-1][0] >= quiet:
            return True
        dashboard.page.wait_for_timeout(200)
    return False


def test_that_pause_halts_the_run_at_the_step_it_shows_and_resume_and_stop_go_on_from_there(dashboard: DashboardPage,
                                                                  measurements: dict[str, Any]) -> None:
    page = "quadratic-recovery"  # the notebook's 1,000,001 PyTorch steps: a run long enough to pause
    dashboard.open(page)
    dashboard.start_recording()
    dashboard.start_long_run()  # about 90 s of eager steps here: the page asks before it starts

    window = 3.0
    browser_start = dashboard.page.evaluate("() => performance.now()") / 1000.0
    start = time.monotonic()
    dashboard.page.wait_for_timeout(window * 1000)
    traffic = dashboard.received_between(start, time.monotonic())
    browser_end = dashboard.page.evaluate("() => performance.now()") / 1000.0
    running = dashboard.trace()
    measurements["while_running"] = {
        "page": page, "implementation": "torch-autograd (the notebook's)", "window_s": window,
        "displayed_step_updates_per_second": round(running.updates_per_second(browser_start, browser_end), 2),
        "chart_redraws_received_per_second": round(traffic.chart_updates_per_second(), 2),
        "megabytes_received_per_second": round(traffic.megabytes_per_second, 3),
    }
    assert len([t for t, _ in running.changes if t >= browser_start]) >= 2, "the step did not advance while running"

    assert dashboard.server.process is not None
    with ProcessGroupMemory(dashboard.server.process.pid, every=0.05) as server:
        dashboard.click("Pause")
        settled = wait_until_the_step_settles(dashboard, quiet=2.0, timeout=45)
    trace = dashboard.trace()
    clicked = trace.last_click("Pause")
    # The server logs when a script's training halts (unix time); the click's time is the page's clock
    # plus its time origin. Then the server redraws the page paused (its CPU is idle again after that),
    # and the browser may still paint updates it had queued.
    origin = dashboard.page.evaluate("() => performance.timeOrigin") / 1000.0 + clicked
    halts = [(float(when), int(step)) for step, when in
             re.findall(r"training halted at step (\d+) of \d+ \(\w+; unix time ([\d.]+)\)", dashboard.server.log())]
    halted_at, halted_step = next(((t, s) for t, s in halts if t >= origin - 0.05), (math.inf, -1))
    halted = halted_at - origin
    final = dashboard.step()
    idle = server.idle_from(origin)
    received = dashboard.received_on_page_clock()
    sent_steps = received.step_changes()
    replies = [t for t, _ in received.messages if t >= clicked]
    after = [t for t, _ in trace.changes if t > clicked]
    latency = after[-1] - clicked if after else 0.0
    sent = [t for t in dashboard.sent_times() if t >= clicked]
    measurements["pause"] = {
        "page": page, "settled": settled,
        "click_to_training_halted_s": round(halted, 3),
        "click_to_server_idle_s": round(idle - origin, 3) if idle is not None else None,
        "click_to_last_step_received_s": round(max((t for t, _ in sent_steps if t >= clicked), default=clicked)
                                               - clicked, 3),
        "click_to_first_reply_s": round(replies[0] - clicked, 3) if replies else None,
        "steps_received_after_click": [(round(t - clicked, 3), v) for t, v in sent_steps if t >= clicked],
        "click_to_last_step_change_painted_s": round(latency, 3),
        "click_to_message_sent_s": round(sent[0] - clicked, 3) if sent else None,
        "step_changes_painted_after_click": len(after),
        "step_received_by_the_click": next((v for t, v in reversed(sent_steps) if t <= clicked), 0),
        "step_painted_at_the_click": next((v for t, v in reversed(trace.changes) if t <= clicked), 0),
        "last_step_shown": trace.changes[-1][1] if trace.changes else None,
    }
    assert settled, (f"the displayed step was still changing {latency:.1f} s after the click on Pause: the browser "
                     f"draws {measurements['while_running']['displayed_step_updates_per_second']} updates/s while "
                     f"the server sends {measurements['while_running']['chart_redraws_received_per_second']} "
                     "chart redraws/s, so the display lags further behind the run the longer it trains")
    # How fast it halts (issues 3, 6, 11: within 0.5 s) is a time, measured by the live benchmark group
    # (`python -m benchmarks --only live`), not asserted here: on a shared machine it is noise-bound.
    assert math.isfinite(halted), f"the server logged no halt after the click on Pause ({halts})"
    assert halted_step == final, f"the page shows step {final:,}, the run halted at {halted_step:,}"
    dashboard.wait_until_idle()
    assert dashboard.step() == final == sent_steps[-1][1], "the page does not show the step the run stopped at"
    alerts = dashboard.page.locator('[data-testid="stAlert"]').all_inner_texts()
    assert any(f"Paused at step {final:,} of 1,000,001." in text for text in alerts), (alerts, trace.clicks)
    dashboard.page.wait_for_timeout(1000)
    assert dashboard.step() == final, "the step advanced after the page showed Paused"
    assert dashboard.exceptions() == []

    dashboard.click("Resume")  # the interrupted run goes on from where it stopped, then ends for good
    resumed = dashboard.wait_for_step_above(final, timeout=30)
    dashboard.click("Stop")
    dashboard.page.get_by_text(re.compile(r"Stopped by you at step [\d,]+\.")).first.wait_for(timeout=30_000)
    dashboard.wait_until_idle()
    assert dashboard.step() >= resumed > final
    assert dashboard.button("Resume").first.is_disabled()
    assert dashboard.exceptions() == []


def test_that_streamlits_header_stop_ends_the_run_as_our_stop_does(dashboard: DashboardPage) -> None:
    # The header's Stop and a click both stop the running script (runner.fastReruns); only the header's must
    # end the run (a click on Pause pauses it: the test above).
    dashboard.open("quadratic-recovery")
    first = dashboard.start_long_run()
    dashboard.wait_for_step_above(first, timeout=30)
    dashboard.page.locator('[data-testid="stStatusWidget"]').get_by_role("button", name="Stop").click()
    dashboard.page.wait_for_timeout(1500)
    dashboard.page.locator("body").press("r")  # Streamlit's own rerun key: the page redraws the run's state
    dashboard.wait_until_idle()
    stopped = dashboard.step()
    alerts = dashboard.page.locator('[data-testid="stAlert"]').all_inner_texts()
    assert any(f"Stopped by you at step {stopped:,}." in text for text in alerts), alerts
    dashboard.page.wait_for_timeout(1000)
    assert dashboard.step() == stopped, "the run trained on after the header's Stop"
    assert dashboard.exceptions() == []
