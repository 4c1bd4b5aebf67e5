"""A click on the loss landscape sets the next run's start, in a real browser."""
from __future__ import annotations

import re

import pytest

from .harness import DashboardPage

pytestmark = pytest.mark.browser
CHOSEN_START_NOTE = "Start you chose (on the landscape, by hand or in the link)"


def chart_box(dashboard: DashboardPage, alt_text_start: str) -> dict[str, float]:
    """The canvas box of the chart whose alt text starts so, scrolled into view."""
    chart = dashboard.page.locator(f'[data-testid="stVegaLiteChart"][aria-label^="{alt_text_start}"]')
    chart.scroll_into_view_if_needed()
    return chart.locator("canvas").first.bounding_box()


def click_at(dashboard: DashboardPage, box: dict[str, float], across: float, down: float) -> None:
    dashboard.page.mouse.click(box["x"] + across * box["width"], box["y"] + down * box["height"])


def chosen_start_text(dashboard: DashboardPage) -> str:
    note = dashboard.page.get_by_text(CHOSEN_START_NOTE)
    note.wait_for(timeout=60_000)
    dashboard.wait_until_idle()
    return note.inner_text()


def run_to_completion(dashboard: DashboardPage) -> None:
    dashboard.click("Run")
    dashboard.wait_for_status("Completed", timeout=120)


def test_that_a_click_on_the_landscape_starts_the_next_run_there(dashboard: DashboardPage) -> None:
    dashboard.open("quadratic-recovery", {"impl": "numpy", "steps": "50"})
    click_at(dashboard, chart_box(dashboard, "Filled contours"), 0.3, 0.6)
    chosen = [float(v) for v in re.findall(r"= (-?\d+(?:\.\d+)?(?:e-?\d+)?)", chosen_start_text(dashboard))]
    assert len(chosen) == 3
    assert chosen[:2] != [-1.13, 0.2968]  # not the notebook's own start
    run_to_completion(dashboard)
    assert dashboard.exceptions() == []


def test_that_a_click_on_the_loss_curve_replays_that_step(dashboard: DashboardPage) -> None:
    dashboard.open("linear-2x", {"impl": "numpy", "steps": "20"})
    run_to_completion(dashboard)
    dashboard.wait_until_idle()
    click_at(dashboard, chart_box(dashboard, "Loss against step"), 0.4, 0.5)
    dashboard.page.get_by_text("Replaying step").first.wait_for(timeout=60_000)
    assert dashboard.exceptions() == []


def test_that_a_click_on_a_one_parameter_landscape_starts_the_next_run_at_that_w(dashboard: DashboardPage) -> None:
    dashboard.open("linear-2x", {"impl": "numpy", "steps": "20"})
    click_at(dashboard, chart_box(dashboard, "Loss as a function of w"), 0.8, 0.7)
    [w] = [float(v) for v in re.findall(r"w = (-?\d+(?:\.\d+)?(?:e-?\d+)?)", chosen_start_text(dashboard))]
    assert w > 0.5  # far right of a frame that holds the start 0 and the optimum 2
    run_to_completion(dashboard)
    assert dashboard.exceptions() == []


def test_that_the_pointer_over_the_loss_curve_shows_that_step_until_it_leaves(dashboard: DashboardPage) -> None:
    dashboard.open("linear-2x", {"impl": "numpy", "steps": "20"})
    run_to_completion(dashboard)
    dashboard.wait_until_idle()
    box = chart_box(dashboard, "Loss against step")
    for share in (0.3, 0.35, 0.4):  # the pointer moves onto the curve and rests there
        dashboard.page.mouse.move(box["x"] + share * box["width"], box["y"] + 0.5 * box["height"], steps=4)
    hovered = dashboard.page.get_by_text("under the pointer on the loss curve")
    hovered.wait_for(timeout=60_000)
    assert "w = " in hovered.inner_text()
    dashboard.page.mouse.move(box["x"] + box["width"] / 2, max(box["y"] - 150, 1), steps=4)  # off the chart
    hovered.wait_for(state="detached", timeout=60_000)
    dashboard.wait_until_idle()
    assert dashboard.exceptions() == []
