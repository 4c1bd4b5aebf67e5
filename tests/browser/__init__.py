"""Browser tests and the harness that drives the real dashboard (importable as tests.browser.harness)."""
