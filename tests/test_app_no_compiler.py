"""The dashboard on a machine without a C++ compiler (AppTest, $CXX naming one that does not exist): the
compiled PyTorch path is switched off and disabled with the reason and the fix, never offered as a faster
path, and the Speed page leaves its torch.compile rows out, saying why. Where the compiler is found but
the compile fails anyway, the run ends with a clear error and the page stays usable."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fitcore import RunConfig, is_available
from fitcore.estimate import Rate, rate_key
from fitcore.impl import toolchain

REPO = Path(__file__).resolve().parent.parent
PAGE = "quadratic-recovery"  # the seed's eager torch-autograd run
SLOW = {rate_key(RunConfig.notebook(PAGE)): Rate(8000.0, "measured in an earlier run")}


@pytest.fixture
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
    at.run()  # st.navigation registers the pages on a first run; then a page can be opened by file
    at.switch_page(path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_that_the_compiled_toggle_is_disabled_with_the_reason_and_the_fix(no_compiler) -> None:
    at = open_page(f"app_pages/{PAGE.replace('-', '_')}.py")
    toggle = at.toggle(key=f"{PAGE}:compiled")
    assert toggle.disabled and toggle.value is False
    assert any("Compiled path unavailable here" in c.value and "apt-get install g++" in c.value
               for c in at.sidebar.caption)


def test_that_a_shared_link_asking_for_the_compiled_path_gets_the_eager_one(no_compiler) -> None:
    at = open_page(f"app_pages/{PAGE.replace('-', '_')}.py", {"compiled": "1"})
    assert at.toggle(key=f"{PAGE}:compiled").value is False
    assert not any("C++ compiler" in e.value for e in at.error)  # switched off, so nothing blocks Run


def test_that_the_faster_path_offers_leave_out_the_compiled_path(no_compiler) -> None:
    at = open_page(f"app_pages/{PAGE.replace('-', '_')}.py", rates=SLOW)
    offers = [b.label for b in at.button if (b.key or "").startswith(f"{PAGE}:pace_")]
    assert "Run on the compiled path" not in offers and "Run with the exact engine" in offers


def test_that_the_speed_page_leaves_out_torch_compile_and_says_why(no_compiler) -> None:
    at = open_page("app_pages/speed.py")
    options = at.multiselect(key="speed:entries").options
    assert not any("torch.compile" in o for o in options) and "PyTorch autograd" in options
    assert any("Not measured here" in c.value and "apt-get install g++" in c.value for c in at.caption)


@pytest.mark.skipif(not is_available("torch-manual"), reason="PyTorch is not installed")
def test_that_a_compile_failing_at_run_time_ends_the_run_with_a_clear_error_and_the_page_stays_usable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from torch._dynamo.exc import TorchDynamoException

    from fitcore.impl import torch_compiled

    def chunk_that_cannot_build(*args, **kwargs):
        def chunk(*inputs):
            raise TorchDynamoException("InvalidCxxCompiler: No working C++ compiler found in "
                                       "torch._inductor.config.cpp.cxx: (None, 'g++')")
        return chunk
    monkeypatch.setenv("CXX", sys.executable)  # the detection finds a "compiler": only the compile fails
    monkeypatch.setattr(torch_compiled, "compiled_chunk", chunk_that_cannot_build)
    toolchain.forget()
    try:
        at = open_page("app_pages/linear_2x.py", {"impl": "torch-manual", "compiled": "1"})
        assert at.toggle(key="linear-2x:compiled").value is True
        at.button(key="linear-2x:run").click().run()
        assert not at.exception, [e.value for e in at.exception]
        # (the estimate's short calibration may be the first to try the compile; either way the page says why)
        assert any("the C++ compiler failed" in e.value and "apt-get install g++" in e.value for e in at.error), \
            [e.value for e in at.error]
        toggle = at.toggle(key="linear-2x:compiled")  # not offered again in this server
        assert toggle.disabled and toggle.value is False

        at.button(key="linear-2x:run").click().run()  # the same page trains eagerly
        assert not at.exception
        run = at.session_state["state:linear-2x"].run
        assert (run.config.impl, run.config.compiled, run.status) == ("torch-manual", False, "completed")
    finally:
        toolchain.forget()
