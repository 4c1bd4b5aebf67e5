"""Fixtures for the browser tests: one Streamlit server and one Chromium for the session, a tab per test.

Without Debian's Chromium at /usr/bin/chromium (or the playwright package) every browser test skips,
saying how to enable it; under CI (CI=true) it fails instead.
"""
from __future__ import annotations

import importlib.util
import json
from typing import Any, Iterator

import pytest

from conftest import unavailable

from .harness import ENABLE_HINT, ChromiumBrowser, DashboardPage, StreamlitServer, chromium_available, \
    write_measurements


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed: pip install -r requirements-test.txt, then rerun"
    if not chromium_available():
        return ENABLE_HINT
    return None


@pytest.fixture(scope="session")
def server() -> Iterator[StreamlitServer]:
    why = _missing()
    if why:
        unavailable(why)
    with StreamlitServer() as running:
        yield running


@pytest.fixture(scope="session")
def browser(server: StreamlitServer) -> Iterator[ChromiumBrowser]:
    with ChromiumBrowser() as chromium:
        # Loading the home page once first is no longer needed (the pages live in app_pages/, see README; a
        # deep link on a fresh server is tested in test_first_visit.py); kept as a cheap server warm-up.
        chromium.dashboard(server).page.close()
        yield chromium


@pytest.fixture
def dashboard(server: StreamlitServer, browser: ChromiumBrowser) -> Iterator[DashboardPage]:
    page = browser.dashboard(server)
    yield page
    page.page.close()


@pytest.fixture(scope="session")
def measurements() -> Iterator[dict[str, Any]]:
    """Numbers the tests measured (latency, update rates), written to artifacts/browser-measurements.json."""
    collected: dict[str, Any] = {}
    yield collected
    if collected:
        path = write_measurements("browser-measurements", collected)
        print(f"\nbrowser measurements ({path}):\n{json.dumps(collected, indent=1, sort_keys=True)}")
