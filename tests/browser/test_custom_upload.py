"""The "Your own data" page in a real browser: upload a CSV through the file picker, train it, see its fit.

Uses the shared server and Chromium of tests/browser/conftest.py; skips without /usr/bin/chromium.
Screenshots go to artifacts/screenshots/custom-upload*.png.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from fitcore.csvfile import read_csv
from fitcore.custom import csv_source, custom_problem

from .harness import DashboardPage

pytestmark = pytest.mark.browser

CSV = Path(__file__).resolve().parents[1] / "fixtures" / "csv" / "measurements.csv"
NOW = "#f58518"  # ui.charts: the current fit


def test_that_an_uploaded_csv_trains_and_its_fit_is_drawn(dashboard: DashboardPage) -> None:
    dashboard.open("custom", {"steps": "300", "deg": "2"})
    page = dashboard.page
    page.locator('[data-testid="stRadio"] label').filter(has_text="A CSV file").click()
    dashboard.wait_until_idle()
    assert page.get_by_text("not the uploaded file").count() == 1

    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(CSV))
    page.get_by_text("6 rows × 2 columns").first.wait_for(timeout=60_000)
    dashboard.wait_until_idle()
    assert "src=csv" in page.url and "1.2" not in page.url  # the link names the kind of source, never the data

    # The page opened with a rate for its first function; for this file it is past 2/λmax, and the page
    # offers the file's own stable default before anything diverges.
    default = custom_problem(csv_source(read_csv(CSV.read_bytes(), CSV.name), degree=2)).default_variant.settings["lr"]
    assert page.get_by_text("plain SGD will diverge").count() == 1
    dashboard.click(f"Use {default:g}")
    dashboard.wait_until_idle()
    assert page.get_by_text("plain SGD will diverge").count() == 0

    dashboard.click("Run")
    dashboard.wait_for_status("Completed all 300 steps.", timeout=120)
    dashboard.wait_until_idle()
    assert dashboard.step() == 300
    assert dashboard.exceptions() == []
    fit = next(chart for chart in dashboard.visible_charts()
               if (chart.get_attribute("aria-label") or "").startswith("Scatter of the 6 data points"))
    ink = dashboard.canvas_ink(fit)
    assert ink is not None and NOW in ink["hex"], "the current fit is not drawn"
    dashboard.screenshot("custom-upload")
    fit.scroll_into_view_if_needed()
    dashboard.screenshot("custom-upload-charts")
