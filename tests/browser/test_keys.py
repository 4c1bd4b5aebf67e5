"""The control bar's keyboard shortcuts in a real browser: a key press does what its button does."""
from __future__ import annotations

import pytest

from ui.page.controls import SHORTCUTS

from .harness import DashboardPage

pytestmark = pytest.mark.browser


def test_that_the_step_key_advances_one_step_and_the_reset_key_forgets_the_run(dashboard: DashboardPage) -> None:
    dashboard.open("linear-2x", {"impl": "numpy", "steps": "20"})
    assert dashboard.step() == 0
    dashboard.page.locator("h1").first.click()  # focus on the page, not in a field
    dashboard.page.keyboard.press(SHORTCUTS["step1"])
    assert dashboard.wait_for_step_above(0, timeout=60) == 1
    dashboard.wait_until_idle()
    dashboard.page.keyboard.press(SHORTCUTS["reset"])
    dashboard.wait_for_status("Ready: press", timeout=60)
    assert dashboard.step() == 0
    assert dashboard.exceptions() == []
