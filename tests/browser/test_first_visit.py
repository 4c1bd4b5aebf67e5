"""A fresh server's first visitor, arriving by a shared deep link: the right page and no "Page not found"
dialog; and when that visitor presses Run on a PyTorch page, the charts stay on screen with a status
naming the wait while the server imports PyTorch for the first time, and as the run begins.

Deliberately without the harness's warm-up (loading the home page first): this is the first session.
"""
from __future__ import annotations

import time

import pytest

from fitcore import framework_available

from .harness import ChromiumBrowser, StreamlitServer

pytestmark = pytest.mark.browser


def test_that_a_fresh_servers_first_visitor_lands_on_the_linked_page_and_sees_charts_while_pytorch_loads(
        browser: ChromiumBrowser) -> None:
    if not framework_available("torch"):
        pytest.skip("PyTorch is not installed: pip install torch==2.13.0, then rerun")
    with StreamlitServer() as fresh:
        dashboard = browser.dashboard(fresh, warm=False)
        try:
            dashboard.open("sine-cubic", {"impl": "torch-autograd", "steps": "20000"})
            dashboard.page.wait_for_timeout(500)  # the dialog, if any, comes with the first script run
            assert dashboard.page.get_by_text("Page not found").count() == 0
            assert dashboard.page.locator("h1").first.inner_text().strip() == "Sine cubic fit"
            assert dashboard.exceptions() == []
            charts = len(dashboard.visible_charts())
            assert charts >= 4

            dashboard.watch_charts()
            dashboard.click("Run")
            named, steps = False, set()
            deadline = time.monotonic() + 120
            # Through the wait and the run's first redraws: the charts that take clicks at rest are drawn afresh
            # as training starts, and took no room until Vega had drawn them (the CI run on afc9234 saw two go)
            while time.monotonic() < deadline and len(steps) < 4 and 20_000 not in steps:
                named = named or dashboard.page.get_by_text("Loading PyTorch (first run on this server)").count() > 0
                steps.add(dashboard.step() or 0)
                steps.discard(0)
                dashboard.page.wait_for_timeout(40)
            assert steps, "the run never started"
            assert dashboard.fewest_charts() == charts, "charts left the page while PyTorch loaded or as the run began"
            assert named, "no status said that PyTorch was loading"
            dashboard.click("Stop")
        finally:
            dashboard.page.close()
