"""Drive every page of the dashboard with one framework made impossible to import, and report what they show.

    python tests/without_framework.py torch        # or: tensorflow

Every import finder is wrapped, before anything else is imported, so that none finds the framework or its
submodules: exactly what an absent install looks like (find_spec answers None, import raises
ModuleNotFoundError), also to libraries that probe for it, as torch._dynamo probes for tensorflow. The pages are then driven with
Streamlit's AppTest in this process and the observations are printed as one JSON object on the last
line of stdout; tests/test_missing_frameworks.py runs this for each framework and checks them.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

BLOCKED = sys.argv[1] if len(sys.argv) > 1 else "torch"


def hidden(name: str) -> bool:
    return name == BLOCKED or name.startswith(BLOCKED + ".")


class Uninstalled:
    """Wraps an import finder so that it does not find BLOCKED, as when the package is not installed:
    ``importlib.util.find_spec`` answers None and ``import`` raises ModuleNotFoundError."""

    def __init__(self, finder: Any) -> None:
        self.finder = finder

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if hidden(name):
            return None
        find = getattr(self.finder, "find_spec", None)
        return find(name, path, target) if find is not None else None

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.finder, attribute)


sys.meta_path[:] = [Uninstalled(finder) for finder in sys.meta_path]
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from streamlit.testing.v1 import AppTest  # noqa: E402

import fitcore  # noqa: E402

DASHBOARD = str(REPO / "dashboard.py")
PAGES = {"quadratic-bias": "app_pages/quadratic_bias.py", "linear-2x": "app_pages/linear_2x.py",
         "quadratic-recovery": "app_pages/quadratic_recovery.py", "sine-cubic": "app_pages/sine_cubic.py",
         "custom": "app_pages/custom_data.py", "speed": "app_pages/speed.py", "home": "app_pages/home.py"}
SHORT = "20"


def opened(page: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=180)
    at.query_params.update(query or {})
    at.run()  # st.navigation registers the pages on a first run; then a page can be opened by file
    at.switch_page(PAGES[page])
    at.run()
    return at


def seen(at: AppTest) -> dict[str, Any]:
    return {"exceptions": [str(e.value) for e in at.exception], "errors": [e.value for e in at.error],
            "titles": [t.value for t in at.title]}


def demo_page(page: str) -> dict[str, Any]:
    """The page as it opens, then every implementation chosen in turn: a short run where it is installed."""
    at = opened(page, {"steps": SHORT})
    report = seen(at) | {"options": list(at.selectbox(key=f"{page}:impl").options), "impls": {}}
    for impl in fitcore.IMPLEMENTATIONS:
        at.selectbox(key=f"{page}:impl").set_value(impl).run()
        entry: dict[str, Any] = {"run_disabled": at.button(key=f"{page}:run").disabled,
                                 "errors": [e.value for e in at.error], "exceptions": [str(e.value) for e in at.exception]}
        if not entry["run_disabled"]:
            at.button(key=f"{page}:run").click().run()
            run = at.session_state[f"state:{page}"].run
            entry |= {"status": run.status if run is not None else None, "step": run.step if run is not None else None,
                      "after_run_exceptions": [str(e.value) for e in at.exception]}
        report["impls"][impl] = entry
    return report


def comparison(page: str) -> dict[str, Any]:
    at = opened(page, {"impl": "numpy", "steps": SHORT})
    at.button(key=f"{page}:compare_frameworks").click().run()
    result = at.session_state[f"state:{page}"].extras.get("compare:frameworks")
    return seen(at) | {"ran": {o.key: o.status for o in result.outcomes} if result else {},
                       "skipped": {s.key: s.reason for s in result.plan.skipped} if result else {}}


def custom_page() -> dict[str, Any]:
    at = opened("custom", {"impl": "numpy", "steps": SHORT})
    report = seen(at)
    at.button(key="custom:run").click().run()
    run = at.session_state["state:custom"].run
    return report | {"status": run.status if run is not None else None,
                     "after_run_exceptions": [str(e.value) for e in at.exception],
                     "options": list(at.selectbox(key="custom:impl").options)}


def speed_page() -> dict[str, Any]:
    at = opened("speed")
    report = seen(at) | {"entries": list(at.multiselect(key="speed:entries").options)}
    eager = [label for label in report["entries"] if "·" not in label][:3]
    at.multiselect(key="speed:entries").set_value(eager).run()
    at.select_slider(key="speed:budget").set_value(0.1).run()
    at.button(key="speed:go").click().run()
    measured = at.session_state["speed:results"]["quadratic-recovery"][1]
    return report | {"measured": {t.entry.label: t.error for t in measured},
                     "after_run_exceptions": [str(e.value) for e in at.exception]}


def main() -> None:
    report: dict[str, Any] = {"blocked": BLOCKED, "available": {i: fitcore.is_available(i) for i in fitcore.IMPLEMENTATIONS}}
    report["home"] = seen(opened("home"))
    report["demos"] = {page: demo_page(page) for page in ("quadratic-bias", "linear-2x", "quadratic-recovery",
                                                           "sine-cubic")}
    report["compare"] = comparison("linear-2x")
    report["custom"] = custom_page()
    report["speed"] = speed_page()
    report["imported"] = sys.modules.get(BLOCKED) is not None
    print(json.dumps(report))


if __name__ == "__main__":
    main()
