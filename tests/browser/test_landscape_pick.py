"""A click on the loss landscape sets the next run's start, in a real browser."""
from __future__ import annotations

import re

import pytest

from .harness import DashboardPage

pytestmark = pytest.mark.browser


def test_that_a_click_on_the_landscape_starts_the_next_run_there(dashboard: DashboardPage) -> None:
    dashboard.open("quadratic-recovery", {"impl": "numpy", "steps": "50"})
    landscape = dashboard.page.locator('[data-testid="stVegaLiteChart"][aria-label^="Filled contours"]')
    landscape.scroll_into_view_if_needed()
    box = landscape.locator("canvas").first.bounding_box()
    dashboard.page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.6 * box["height"])
    note = dashboard.page.get_by_text("Start you chose (on the landscape, by hand or in the link)")
    note.wait_for(timeout=60_000)
    dashboard.wait_until_idle()
    chosen = [float(v) for v in re.findall(r"= (-?\d+(?:\.\d+)?(?:e-?\d+)?)", note.inner_text())]
    assert len(chosen) == 3
    assert chosen[:2] != [-1.13, 0.2968]  # not the notebook's own start
    dashboard.click("Run")
    dashboard.wait_for_status("Completed", timeout=120)
    assert dashboard.exceptions() == []


def test_that_a_click_on_the_loss_curve_replays_that_step(dashboard: DashboardPage) -> None:
    dashboard.open("linear-2x", {"impl": "numpy", "steps": "20"})
    dashboard.click("Run")
    dashboard.wait_for_status("Completed", timeout=120)
    dashboard.wait_until_idle()
    loss = dashboard.page.locator('[data-testid="stVegaLiteChart"][aria-label^="Loss against step"]')
    loss.scroll_into_view_if_needed()
    box = loss.locator("canvas").first.bounding_box()
    dashboard.page.mouse.click(box["x"] + 0.4 * box["width"], box["y"] + 0.5 * box["height"])
    dashboard.page.get_by_text("Replaying step").first.wait_for(timeout=60_000)
    assert dashboard.exceptions() == []


def test_that_a_click_on_a_one_parameter_landscape_starts_the_next_run_at_that_w(dashboard: DashboardPage) -> None:
    dashboard.open("linear-2x", {"impl": "numpy", "steps": "20"})
    landscape = dashboard.page.locator('[data-testid="stVegaLiteChart"][aria-label^="Loss as a function of w"]')
    landscape.scroll_into_view_if_needed()
    box = landscape.locator("canvas").first.bounding_box()
    dashboard.page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + 0.7 * box["height"])
    note = dashboard.page.get_by_text("Start you chose (on the landscape, by hand or in the link)")
    note.wait_for(timeout=60_000)
    dashboard.wait_until_idle()
    [w] = [float(v) for v in re.findall(r"w = (-?\d+(?:\.\d+)?(?:e-?\d+)?)", note.inner_text())]
    assert w > 0.5  # far right of a frame that holds the start 0 and the optimum 2
    dashboard.click("Run")
    dashboard.wait_for_status("Completed", timeout=120)
    assert dashboard.exceptions() == []


def test_that_the_pointer_over_the_loss_curve_shows_that_step_until_it_leaves(dashboard: DashboardPage) -> None:
    dashboard.open("linear-2x", {"impl": "numpy", "steps": "20"})
    dashboard.click("Run")
    dashboard.wait_for_status("Completed", timeout=120)
    dashboard.wait_until_idle()
    loss = dashboard.page.locator('[data-testid="stVegaLiteChart"][aria-label^="Loss against step"]')
    loss.scroll_into_view_if_needed()
    box = loss.locator("canvas").first.bounding_box()
    for share in (0.3, 0.35, 0.4):  # the pointer moves onto the curve and rests there
        dashboard.page.mouse.move(box["x"] + share * box["width"], box["y"] + 0.5 * box["height"], steps=4)
    hovered = dashboard.page.get_by_text("under the pointer on the loss curve")
    hovered.wait_for(timeout=60_000)
    assert "w = " in hovered.inner_text()
    dashboard.page.mouse.move(box["x"] + box["width"] / 2, max(box["y"] - 150, 1), steps=4)  # off the chart
    hovered.wait_for(state="detached", timeout=60_000)
    dashboard.wait_until_idle()
    assert dashboard.exceptions() == []
