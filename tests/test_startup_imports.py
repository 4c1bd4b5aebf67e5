"""Start-up: the home page, the Speed page before Measure, and NumPy and exact runs on every page never
import PyTorch or TensorFlow. Checked in a fresh Python (this test process may have loaded them already)
that drives the real dashboard script with Streamlit's AppTest."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES = {"quadratic-bias": "app_pages/quadratic_bias.py", "linear-2x": "app_pages/linear_2x.py",
         "quadratic-recovery": "app_pages/quadratic_recovery.py", "sine-cubic": "app_pages/sine_cubic.py",
         "custom": "app_pages/custom_data.py"}

SCRIPT = textwrap.dedent("""
    import json, sys
    from streamlit.testing.v1 import AppTest
    PAGES = json.loads(sys.argv[1])

    def loaded():
        return [name for name in ("torch", "tensorflow") if name in sys.modules]

    def app(page, query=None):
        at = AppTest.from_file("dashboard.py", default_timeout=120)
        at.query_params.update(query or {})
        if page:
            at.run()  # st.navigation registers the pages on a first run; then a page can be opened by file
            at.switch_page(page)
        return at

    report = {}
    at = app(None)
    at.run()
    report["home page"] = {"loaded": loaded(), "exceptions": len(at.exception), "status": "drawn"}
    for page_id, path in PAGES.items():
        for impl in ("numpy", "analytic"):
            at = app(path, {"impl": impl, "steps": "250"})
            at.run()
            at.button(key=page_id + ":run").click().run()
            run = at.session_state["state:" + page_id].run
            status = f"{run.config.impl} {run.status} {run.step}" if run is not None else "no run"
            report[f"{page_id} {impl}"] = {"loaded": loaded(), "exceptions": len(at.exception), "status": status}
    at = app("app_pages/speed.py")
    at.run()
    report["speed page"] = {"loaded": loaded(), "exceptions": len(at.exception), "status": "drawn"}
    print(json.dumps(report))
""")


def test_that_the_home_page_and_numpy_and_exact_runs_never_import_torch_or_tensorflow() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(PAGES)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(report) == 2 + 2 * len(PAGES)
    for stage, seen in report.items():
        assert seen["loaded"] == [], f"{stage} imported {seen['loaded']}"
        assert seen["exceptions"] == 0, stage
    for page_id in PAGES:
        for impl in ("numpy", "analytic"):
            assert report[f"{page_id} {impl}"]["status"] == f"{impl} completed 250", (page_id, impl)
