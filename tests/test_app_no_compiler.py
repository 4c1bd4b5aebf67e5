"""The dashboard on a machine without a C++ compiler (AppTest, $CXX naming one that does not exist): the
compiled PyTorch path is switched off and disabled with the reason and the fix, never offered as a faster
path, and the Speed page leaves its torch.compile rows out, saying why."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fitcore import RunConfig
from fitcore.estimate import Rate, rate_key
from fitcore.impl import toolchain

REPO = Path(__file__).resolve().parent.parent
PAGE = "quadratic-recovery"  # the seed's eager torch-autograd run
SLOW = {rate_key(RunConfig.notebook(PAGE)): Rate(8000.0, "measured in an earlier run")}


@pytest.fixture(autouse=True)
def no_compiler(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CXX", "/nonexistent/bin/g++")
    toolchain.forget()
    yield
    monkeypatch.delenv("CXX")
    toolchain.forget()


def open_page(path: str, query: dict | None = None, rates: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    at.query_params.update(query or {})
    if rates is not None:
        at.session_state["pace:rates"] = dict(rates)
    at.switch_page(path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_that_the_compiled_toggle_is_disabled_with_the_reason_and_the_fix() -> None:
    at = open_page(f"pages/{PAGE.replace('-', '_')}.py")
    toggle = at.toggle(key=f"{PAGE}:compiled")
    assert toggle.disabled and toggle.value is False
    assert any("Compiled path unavailable here" in c.value and "apt-get install g++" in c.value
               for c in at.sidebar.caption)


def test_that_a_shared_link_asking_for_the_compiled_path_gets_the_eager_one() -> None:
    at = open_page(f"pages/{PAGE.replace('-', '_')}.py", {"compiled": "1"})
    assert at.toggle(key=f"{PAGE}:compiled").value is False
    assert not any("C++ compiler" in e.value for e in at.error)  # switched off, so nothing blocks Run


def test_that_the_faster_path_offers_leave_out_the_compiled_path() -> None:
    at = open_page(f"pages/{PAGE.replace('-', '_')}.py", rates=SLOW)
    offers = [b.label for b in at.button if (b.key or "").startswith(f"{PAGE}:pace_")]
    assert "Run on the compiled path" not in offers and "Run with the exact engine" in offers


def test_that_the_speed_page_leaves_out_torch_compile_and_says_why() -> None:
    at = open_page("pages/speed.py")
    options = at.multiselect(key="speed:entries").options
    assert not any("torch.compile" in o for o in options) and "PyTorch autograd" in options
    assert any("Not measured here" in c.value and "apt-get install g++" in c.value for c in at.caption)
