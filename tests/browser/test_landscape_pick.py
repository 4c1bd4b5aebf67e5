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
    note = dashboard.page.get_by_text("Start you chose (on the landscape or by hand)")
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
