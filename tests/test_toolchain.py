"""Whether torch.compile can build here is known before it is offered: the C++ compiler is found the way
TorchInductor finds it ($CXX, else g++), once per process, without importing torch; where there is none,
the compiled PyTorch path is refused up front with the reason and the fix, and a compile that fails anyway
ends its run with a clear message."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fitcore import CompileFailed, CompilerMissing, Run, RunConfig, compiled_unavailable, is_available
from fitcore.stopping import Limits
from fitcore.estimate import alternatives
from fitcore.impl import toolchain
from fitcore.speed import Entry, left_out, lineup

REPO = Path(__file__).resolve().parent.parent
MISSING = "/nonexistent/bin/g++"


@pytest.fixture
def no_compiler(monkeypatch: pytest.MonkeyPatch):
    """This process as on a machine without a C++ compiler: $CXX names one that does not exist."""
    monkeypatch.setenv("CXX", MISSING)
    toolchain.forget()
    yield
    monkeypatch.delenv("CXX")
    toolchain.forget()


@pytest.fixture(autouse=True)
def fresh_detection():
    toolchain.forget()
    yield
    toolchain.forget()


@pytest.mark.skipif(shutil.which("g++") is None, reason="this machine has no g++")
def test_that_this_machines_g_plus_plus_is_found_and_the_compiled_torch_path_offered(monkeypatch) -> None:
    monkeypatch.delenv("CXX", raising=False)
    assert toolchain.compiler_problem() is None
    assert compiled_unavailable("torch-autograd") is None


def test_that_a_missing_compiler_is_named_with_the_fix_for_every_torch_implementation(no_compiler) -> None:
    for impl_id in ("torch-manual", "torch-autograd", "torch-nn"):
        reason = compiled_unavailable(impl_id)
        assert reason is not None and MISSING in reason and "apt-get install g++" in reason
    assert compiled_unavailable("numpy") is None and compiled_unavailable("tf-tape") is None  # no C++ needed


def test_that_only_the_cpu_needs_the_compiler(no_compiler) -> None:
    assert compiled_unavailable("torch-nn", "cpu") is not None
    assert compiled_unavailable("torch-nn", "cuda") is None and compiled_unavailable("torch-nn", "mps") is None


def test_that_a_compiler_that_does_not_run_counts_as_none(monkeypatch, tmp_path) -> None:
    broken = tmp_path / "g++"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("CXX", str(broken))
    assert "does not run" in toolchain.compiler_problem()


def test_that_missing_python_headers_count_as_no_compiler(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(toolchain.sysconfig, "get_path", lambda name: str(tmp_path))
    assert "Python's C headers are missing" in toolchain.compiler_problem()
    assert "python3-dev" in compiled_unavailable("torch-autograd")


def test_that_the_compiler_is_looked_for_once_per_process(monkeypatch) -> None:
    calls = []
    real_run = subprocess.run
    monkeypatch.setattr(toolchain.subprocess, "run", lambda *a, **k: calls.append(a) or real_run(*a, **k))
    monkeypatch.setenv("CXX", sys.executable)  # a program that answers --version
    for _ in range(3):
        assert toolchain.compiler_problem() is None
    assert len(calls) == 1


def test_that_a_compile_that_failed_for_want_of_a_compiler_is_remembered_and_other_failures_are_not(
        monkeypatch) -> None:
    monkeypatch.setenv("CXX", sys.executable)  # a program that answers --version
    assert not toolchain.record_compile_failure(RuntimeError("Dynamo does not support this op"))
    assert compiled_unavailable("torch-nn") is None
    assert toolchain.record_compile_failure(RuntimeError("InvalidCxxCompiler: No working C++ compiler found"))
    assert "C++ compiler failed" in compiled_unavailable("torch-nn")


def test_that_finding_the_compiler_imports_no_framework() -> None:
    code = ("import sys, fitcore; from fitcore.impl import toolchain; toolchain.compiler_problem(); "
            "fitcore.compiled_unavailable('torch-nn'); print('torch' in sys.modules, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_that_a_compiled_torch_run_without_a_compiler_is_refused_before_it_is_built(no_compiler) -> None:
    run = Run(RunConfig.notebook("linear-2x", impl="torch-autograd", compiled=True, steps=10), Limits())
    with pytest.raises(CompilerMissing, match=r"C\+\+ compiler.*without the compiled path"):
        run.prepare()
    assert run.status == "ready" and not run.prepared


def test_that_no_faster_path_offer_names_a_compiled_path_that_cannot_build(no_compiler) -> None:
    config = RunConfig.notebook("quadratic-recovery")  # eager torch-autograd
    assert [a.key for a in alternatives(config)] == ["analytic"]


def test_that_the_speed_lineup_leaves_out_torch_compile_and_says_why(no_compiler) -> None:
    entries = lineup()
    assert Entry("torch-autograd", True) not in entries and Entry("torch-autograd", False) in entries
    assert Entry("tf-tape", True) in entries and Entry("numpy", True) in entries
    ((reason, missing),) = left_out().items()
    assert {e.impl for e in missing} == {"torch-manual", "torch-autograd", "torch-nn"}
    assert "apt-get install g++" in reason


def test_that_the_speed_lineup_has_every_compiled_path_where_the_compiler_works(monkeypatch) -> None:
    monkeypatch.setenv("CXX", sys.executable)
    assert Entry("torch-nn", True) in lineup() and left_out() == {}


def test_that_the_cli_refuses_compile_without_a_compiler_in_one_line_with_exit_2() -> None:
    env = os.environ | {"CXX": MISSING}
    done = subprocess.run([sys.executable, "-m", "fitcore", "run", "quadratic-recovery", "--impl", "torch-autograd",
                           "--compile", "--steps", "2000"], capture_output=True, text=True, cwd=REPO, env=env)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert "internal error" not in done.stderr
    assert "apt-get install g++" in done.stderr and "drop --compile" in done.stderr


def test_that_the_cli_list_says_where_compile_is_unavailable() -> None:
    env = os.environ | {"CXX": MISSING}
    done = subprocess.run([sys.executable, "-m", "fitcore", "list"], capture_output=True, text=True, cwd=REPO,
                          env=env, check=True)
    torch_lines = [line for line in done.stdout.splitlines() if line.startswith("  torch-")]
    assert len(torch_lines) == 3 and all("no --compile here" in line for line in torch_lines)


RUNTIME_FAILURE = """
import fitcore
from fitcore.impl import toolchain
toolchain._detected_problem = lambda: None  # the detection missed it: the compile itself must fail cleanly
run = fitcore.Run(fitcore.RunConfig.notebook("linear-2x", impl="torch-manual", compiled=True, steps=10))
try:
    run.prepare()
except fitcore.CompileFailed as error:
    print(str(error))
print(run.status)
print(fitcore.compiled_unavailable("torch-nn"))
"""


@pytest.mark.skipif(not is_available("torch-manual"), reason="PyTorch is not installed")
def test_that_a_compile_that_fails_at_run_time_ends_with_a_clear_message_and_is_not_offered_again() -> None:
    env = os.environ | {"CXX": MISSING}
    done = subprocess.run([sys.executable, "-c", RUNTIME_FAILURE], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    message, status, after = done.stdout.strip().splitlines()
    assert message.startswith("torch.compile could not build this run's code: the C++ compiler failed")
    assert "apt-get install g++" in message and "turn the compiled path off" in message
    assert status == "ready"
    assert "C++ compiler failed" in after


def test_that_a_compile_failure_mid_run_stops_the_run_with_its_message(monkeypatch) -> None:
    run = Run(RunConfig.notebook("linear-2x", impl="numpy", steps=1000), Limits())
    stepper = run.prepare()

    def fail(*args, **kwargs):
        raise CompileFailed("torch.compile failed on this run (a recompile); turn the compiled path off")
    monkeypatch.setattr(stepper, "run", fail)
    snap = run.advance()
    assert (snap.status, snap.reason) == ("stopped", "compile") and "recompile" in snap.message
