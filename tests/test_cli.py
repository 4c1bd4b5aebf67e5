"""``python -m fitcore``: list, run (readable and --json) and export, and one-line errors for bad input.

The CLI runs in-process through ``main(argv)``; one test starts a real interpreter.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fitcore
from fitcore import MAX_STEPS, RunConfig, export_script
from fitcore import cli

from conftest import require, seed_file

REPO = Path(__file__).resolve().parent.parent

# The documented keys of ``run --json`` and the JSON types each holds.
RESULT_TYPES: dict[str, tuple[type, ...]] = {
    "problem": (str,), "impl": (str,), "optimizer": (str,), "lr": (float,), "steps": (int,), "seed": (int, type(None)),
    "reduction": (str,), "dtype": (str,), "param_names": (list,), "data": (dict,), "init": (list,),
    "final": (dict,), "history": (list,), "status": (str,), "diverged_at": (int, type(None)), "optimum": (dict,),
    "elapsed_s": (float,), "notebook": (dict,),
}
RESULT_KEYS = set(RESULT_TYPES)


def call(argv: list[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``python -m fitcore *argv``, in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def strict_json(text: str) -> Any:
    def reject(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=reject)


# --- list ----------------------------------------------------------------------------------------

def test_that_list_names_every_demo_variant_implementation_optimizer_and_schedule() -> None:
    code, out, err = call(["list"])
    assert (code, err) == (0, "")
    for problem in fitcore.PROBLEMS.values():
        assert problem.id in out
        for variant in problem.variants:
            s = variant.settings
            assert re.search(rf"{re.escape(variant.key)} +{re.escape(variant.label)}: {s['impl']}, "
                             rf"{s['optimizer']}, lr {s['lr']:g}, {s['steps']:,} steps", out), variant.key
    for impl in fitcore.IMPLEMENTATIONS.values():
        state = "installed" if fitcore.is_available(impl.id) else f"not installed: {impl.pip_command}"
        assert f"{impl.id}" in out and f"[{state}]" in out
    for name in fitcore.OPTIMIZERS + fitcore.SCHEDULES:
        assert re.search(rf"^  {name} ", out, re.MULTILINE), name


def test_that_list_gives_the_pip_command_for_a_framework_that_is_missing() -> None:
    with mock.patch("fitcore.impl.framework_available", lambda framework: framework == "numpy"):
        code, out, _ = call(["list"])
    assert code == 0
    assert re.search(r"^  torch-autograd .*\[not installed: pip install torch==2\.13\.0\]$", out, re.MULTILINE)
    assert re.search(r"^  tf-tape .*\[not installed: pip install tensorflow-cpu==2\.21\.0\]$", out, re.MULTILINE)
    assert re.search(r"^  numpy .*\[installed\]$", out, re.MULTILINE)


# --- run --json ----------------------------------------------------------------------------------

def test_that_run_json_prints_one_strict_json_object_with_every_documented_key() -> None:
    code, out, err = call(["run", "linear-2x", "--json"])
    assert (code, err) == (0, "")
    assert out.count("\n") == 1
    result = strict_json(out)
    assert RESULT_KEYS <= set(result)
    for key, types in RESULT_TYPES.items():
        assert isinstance(result[key], types) and not isinstance(result[key], bool), key
    assert all(isinstance(name, str) for name in result["param_names"])
    assert all(isinstance(v, float) for v in result["data"]["x"] + result["data"]["y"] + result["init"])
    assert (result["problem"], result["impl"], result["optimizer"], result["steps"]) == ("linear-2x", "numpy",
                                                                                         "sgd", 20)
    assert isinstance(result["lr"], float) and result["seed"] is None  # the notebook's own data and start
    assert result["notebook"]["verdict"] == "all 12 lines agree to every printed digit"
    assert [line["notebook"] for line in result["notebook"]["lines"]] == result["log"]
    assert result["reduction"] == "sum" and result["dtype"] == "float32"
    assert result["param_names"] == ["w"]
    assert result["data"] == {"x": [1.0, 2.0, 3.0, 4.0], "y": [2.0, 4.0, 6.0, 8.0]}
    assert result["init"] == [0.0]
    assert set(result["final"]) == {"step", "loss", "params"} and result["final"]["step"] == 20
    assert result["status"] == "completed" and result["diverged_at"] is None
    assert set(result["optimum"]) == {"loss", "params"} and result["optimum"]["params"] == pytest.approx([2.0])
    assert isinstance(result["elapsed_s"], float) and result["elapsed_s"] >= 0
    assert [h["step"] for h in result["history"]] == list(range(21))
    for entry in result["history"] + [result["final"]]:
        assert isinstance(entry["loss"], float) and len(entry["params"]) == len(result["param_names"])


def test_that_a_long_run_keeps_at_most_2000_history_points_in_its_json() -> None:
    code, out, _ = call(["run", "sine-cubic", "--impl", "analytic", "--steps", "1000000", "--json"])
    assert code == 0
    result = strict_json(out)
    history = result["history"]
    assert 100 < len(history) <= 2000
    assert history[0]["step"] == 0 and history[-1]["step"] == result["final"]["step"] == 1_000_000
    assert all(len(h["params"]) == 4 for h in history)
    assert result["final"]["loss"] == pytest.approx(history[-1]["loss"])


def test_that_a_diverged_run_still_prints_strict_json() -> None:
    code, out, _ = call(["run", "linear-2x", "--lr", "0.2", "--dtype", "float64", "--json"])
    assert code == 0
    result = strict_json(out)
    assert result["status"] == "diverged" and isinstance(result["diverged_at"], int)
    assert all(math.isfinite(h["loss"]) for h in result["history"])


def test_that_non_finite_numbers_become_null_in_the_json() -> None:
    cleaned = cli.json_ready({"a": math.nan, "b": [np.float64(np.inf), -math.inf, 1.5], "c": np.arange(2),
                              "d": (np.float32(0.5), None, True)})
    assert cleaned == {"a": None, "b": [None, None, 1.5], "c": [0, 1], "d": [0.5, None, True]}
    json.dumps(cleaned, allow_nan=False)


# --- run, readable -------------------------------------------------------------------------------

def _notebook_lines(section: str) -> list[str]:
    """The lines seed 001's NumPy or PyTorch section printed."""
    numpy_part, torch_part = seed_file("001").read_text().split("## PyTorch Version")
    text = numpy_part if section == "numpy" else torch_part
    return [line for line in text.splitlines() if line.startswith(("Epoch ", "Prediction "))]


@pytest.mark.parametrize("variant", ["numpy", "pytorch"])
def test_that_run_prints_the_linear_notebooks_lines(variant: str) -> None:
    if variant == "pytorch":
        require("torch-autograd")
    code, out, err = call(["run", "linear-2x", "--variant", variant])
    assert (code, err) == (0, "")
    expected = _notebook_lines(variant)
    printed = out.split("\n\n")[0].splitlines()
    first = {"numpy": ["Prediction before training: f(5) = 0.000", "Epoch 1: w = 1.200, loss = 30.00000000"],
             "pytorch": ["Epoch 1: w = 0.300, loss = 30.00000000", "Epoch 11: w = 1.665, loss = 1.16278565"]}
    assert expected[:2] == first[variant]
    assert printed == expected


def test_that_run_ends_with_a_summary_against_the_least_squares_optimum() -> None:
    code, out, _ = call(["run", "sine-cubic", "--steps", "300"])
    assert code == 0
    summary = out.split("\n\n")[-1].splitlines()
    assert summary[0] == "status      completed (steps): Completed all 300 steps."
    assert re.match(r"final loss  [\d.e+-]+ at step 300; least-squares optimum 8\.817165\d* \(gap [\d.e+-]+\)$",
                    summary[1])
    assert summary[2].startswith("parameters  a = ") and summary[3].startswith("optimum     a = ")
    assert re.match(r"time        [\d.e+-]+ s, [\d,]+ steps/s", summary[4])


def test_that_a_run_that_reaches_the_optimum_exactly_says_so_and_never_prints_a_negative_gap() -> None:
    code, out, _ = call(["run", "linear-2x"])  # loss exactly 0; the computed optimum is 7.3e-30
    final = out.split("\n\n")[-1].splitlines()[1]
    assert code == 0 and final.endswith("(at the optimum, within rounding)") and "gap -" not in final


@pytest.mark.parametrize("loss, optimum, dtype, text", [
    (0.0, 7.3e-30, "float64", "at the optimum, within rounding"),
    (5.921038189, 5.921038189 + 1e-12, "float64", "at the optimum, within rounding"),
    (5.9210, 5.9210 * (1 + 4e-7), "float32", "at the optimum, within rounding"),
    (5.9210 * (1 + 1e-10), 5.9210, "float64", "gap 5.92e-10"),
    (583.7767944, 5.921038189, "float32", "gap 578"),
])
def test_that_the_gap_is_never_negative_and_rounding_reads_as_at_the_optimum(loss: float, optimum: float, dtype: str,
                                                                              text: str) -> None:
    assert cli.gap_text(loss, optimum, dtype) == text


def test_that_run_honours_every_option() -> None:
    code, out, _ = call(["run", "quadratic-recovery", "--impl", "numpy", "--optimizer", "adam", "--lr", "0.01",
                         "--steps", "50", "--seed", "3", "--reduction", "sum", "--dtype", "float64", "--compile",
                         "--points", "30", "--noise", "1.5", "--schedule", "step", "--gamma", "0.5",
                         "--step-size", "10", "--loss-below", "1e-9", "--json"])
    assert code == 0
    result = strict_json(out)
    expected = fitcore.train(RunConfig.notebook(
        "quadratic-recovery", impl="numpy", optimizer="adam", lr=0.01, steps=50, seed=3, reduction="sum",
        dtype="float64", compiled=True, points=30, noise=1.5, schedule=fitcore.Schedule("step", 0.5, 10),
        stop=fitcore.StopConditions(loss_below=1e-9)))
    assert (result["compiled"], result["schedule"], len(result["data"]["x"])) == (True, "step", 30)
    assert result["final"]["params"] == expected.current_params.tolist()


def test_that_export_prints_the_script_for_the_same_settings() -> None:
    code, out, err = call(["export", "sine-cubic", "--variant", "torch-2400", "--steps", "10", "--plateau-tol",
                           "1e-3", "--plateau-window", "5"])
    assert (code, err) == (0, "")
    assert out == export_script(RunConfig.notebook(
        "sine-cubic", "torch-2400", steps=10, stop=fitcore.StopConditions(plateau_tol=1e-3, plateau_window=5)))


# --- bad arguments --------------------------------------------------------------------------------

BAD_ARGUMENTS = {
    "no command": ([], "required"),
    "unknown command": (["train"], "invalid choice"),
    "unknown demo": (["run", "quadratic"], "choose from 'quadratic-bias'"),
    "unknown variant": (["run", "linear-2x", "--variant", "keras"], "choose one of: numpy, pytorch"),
    "unknown implementation": (["run", "linear-2x", "--impl", "jax"], "choose from 'numpy'"),
    "unknown optimizer": (["run", "linear-2x", "--optimizer", "lbfgs"], "choose from 'sgd'"),
    "unknown reduction": (["run", "linear-2x", "--reduction", "max"], "choose from 'mean', 'sum'"),
    "unknown dtype": (["run", "linear-2x", "--dtype", "float16"], "choose from 'float32', 'float64'"),
    "unknown schedule": (["run", "linear-2x", "--schedule", "linear"], "choose from 'constant'"),
    "learning rate zero": (["run", "linear-2x", "--lr", "0"], "learning rate must be a number in (0, 1e+06]"),
    "learning rate negative": (["run", "linear-2x", "--lr=-0.1"], "learning rate must be a number in (0"),
    "learning rate NaN": (["run", "linear-2x", "--lr", "nan"], "got nan"),
    "learning rate infinite": (["run", "linear-2x", "--lr", "inf"], "got inf"),
    "learning rate huge": (["run", "linear-2x", "--lr", "1e400"], "got inf"),
    "learning rate not a number": (["run", "linear-2x", "--lr", "fast"], "expected a number such as 0.01"),
    "negative value without =": (["run", "linear-2x", "--lr", "-inf"], "--lr=-1"),
    "zero steps": (["run", "linear-2x", "--steps", "0"], "steps must be a whole number from 1 to 10,000,000"),
    "too many steps": (["run", "linear-2x", "--steps", str(MAX_STEPS + 1)], "from 1 to 10,000,000"),
    "fractional steps": (["run", "linear-2x", "--steps", "2.5"], "expected a whole number"),
    "absurd steps": (["run", "linear-2x", "--steps", "9" * 5000], "expected a whole number"),
    "negative seed": (["run", "linear-2x", "--seed=-1"], "seed must be a whole number from 0"),
    "too few points": (["run", "sine-cubic", "--points", "2"], "points for sine-cubic must be"),
    "negative noise": (["run", "linear-2x", "--noise=-1"], "noise must be a number from 0"),
    "analytic with rmsprop": (["run", "linear-2x", "--impl", "analytic", "--optimizer", "rmsprop"],
                              "exact for sgd and momentum only"),
    "analytic with adam": (["run", "sine-cubic", "--impl", "analytic", "--optimizer", "adam"],
                           "exact for sgd and momentum only"),
    "analytic momentum with a schedule": (["run", "linear-2x", "--impl", "analytic", "--optimizer", "momentum",
                                           "--schedule", "cosine"], "use a constant schedule"),
    "gamma without its schedule": (["run", "linear-2x", "--gamma", "0.5"], "--gamma applies to --schedule step"),
    "gamma out of range": (["run", "linear-2x", "--schedule", "exponential", "--gamma", "2"],
                           "schedule gamma must be a number in (0, 1]"),
    "lr-min for a step schedule": (["run", "linear-2x", "--schedule", "step", "--lr-min", "0.1"],
                                   "--lr-min applies to --schedule cosine"),
    "plateau window alone": (["run", "linear-2x", "--plateau-window", "10"], "--plateau-window needs --plateau-tol"),
    "plateau tolerance of one": (["run", "linear-2x", "--plateau-tol", "1"], "plateau tolerance must be in [0, 1)"),
    "loss threshold NaN": (["run", "linear-2x", "--loss-below", "nan"], "loss threshold must be a finite number"),
    "unknown option": (["run", "linear-2x", "--epochs", "3"], "unrecognized arguments: --epochs 3"),
    "abbreviated option": (["run", "linear-2x", "--ste", "3"], "unrecognized arguments"),
    "stray word": (["run", "linear-2x", "please"], "unrecognized arguments: please"),
    "json for export": (["export", "linear-2x", "--json"], "unrecognized arguments: --json"),
    "newline in a value": (["run", "linear-2x", "--impl", "numpy\nnumpy"], "invalid choice"),
}


@pytest.mark.parametrize("argv,needle", BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_that_a_bad_argument_exits_2_with_one_line_saying_what_would_work(argv: list[str], needle: str) -> None:
    code, out, err = call(argv)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and err.endswith("\n")
    assert err.startswith("fitcore: ") and "Traceback" not in err
    assert needle in err


def test_that_a_missing_framework_exits_2_with_the_pip_command() -> None:
    with mock.patch("fitcore.impl.framework_available", lambda framework: framework == "numpy"):
        code, out, err = call(["run", "linear-2x", "--variant", "pytorch", "--steps", "3"])
    assert (code, out) == (2, "")
    assert err.splitlines() == ["fitcore: PyTorch is not installed here: pip install torch==2.13.0 "
                                "(or pick --impl numpy)"]


def test_that_help_exits_0_and_prints_to_stdout() -> None:
    code, out, err = call(["run", "--help"])
    assert (code, err) == (0, "")
    assert "--plateau-window" in out and "DEMO" in out


# --- random bad input never crashes ------------------------------------------------------------------

TOKENS = ["list", "run", "export", "--json", "--compile", "--help", "-h", "--"] + list(fitcore.PROBLEMS) \
    + ["--variant", "numpy", "pytorch", "nn-rmsprop", "--impl", *fitcore.IMPLEMENTATIONS, "--optimizer",
       *fitcore.OPTIMIZERS, "--lr", "--steps", "--seed", "--reduction", "mean", "sum", "--dtype", "float32",
       "float64", "--points", "--noise", "--schedule", *fitcore.SCHEDULES, "--gamma", "--step-size", "--lr-min",
       "--loss-below", "--plateau-tol", "--plateau-window", "--lr=", "--steps=", "--no-such-flag"]
NUMBERS = st.one_of(
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "-nan", "inf", "-inf", "Infinity", "1e309", "-0", "0x10", "1_000", "١٢", "1e-400",
                     "10000001", "9" * 400, "", " ", "3.", ".5"]),
)
ARGUMENT = st.one_of(st.sampled_from(TOKENS), NUMBERS, st.text(max_size=12),
                     st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
                     st.builds(lambda flag, value: f"{flag}={value}", st.sampled_from(TOKENS), NUMBERS))
OPTION = st.tuples(st.sampled_from([t for t in TOKENS if t.startswith("--") and not t.endswith("=")]),
                   st.one_of(NUMBERS, st.sampled_from(TOKENS)))
# Half the lists are junk from the first word; half start like a real command and go wrong later.
ARGV = st.one_of(
    st.lists(ARGUMENT, max_size=8),
    st.builds(lambda command, demo, options, tail: [command, demo, *[w for pair in options for w in pair], *tail],
              st.sampled_from(["run", "export"]), st.sampled_from([*fitcore.PROBLEMS, "sine", ""]),
              st.lists(OPTION, max_size=4), st.lists(ARGUMENT, max_size=1)),
)


def _quick_train(config: RunConfig, *args: Any, **kwargs: Any) -> fitcore.Run:
    # An accidentally valid command line must not start a million-step run: train briefly in NumPy.
    return fitcore.train(config.replace(impl="numpy", steps=min(config.steps, 3), points=min(config.points, 50)))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ARGV)
def test_that_no_command_line_ever_raises_or_prints_a_traceback(argv: list[str]) -> None:
    with mock.patch.object(cli, "train", _quick_train):
        code, out, err = call(argv)
    assert code in (0, 2), err
    assert "Traceback" not in err + out
    if code == 2:
        assert len(err.splitlines()) == 1 and out == ""
    else:
        assert err == ""


# --- a real interpreter ----------------------------------------------------------------------------

def test_that_python_m_fitcore_run_json_works_from_a_shell() -> None:
    done = subprocess.run([sys.executable, "-m", "fitcore", "run", "linear-2x", "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = strict_json(done.stdout)
    assert result["final"]["params"] == pytest.approx([2.0]) and RESULT_KEYS <= set(result)
    bad = subprocess.run([sys.executable, "-m", "fitcore", "run", "linear-2x", "--lr", "nan"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.splitlines() == ["fitcore: learning rate must be a number in (0, 1e+06], got nan"]


# --- --device ------------------------------------------------------------------------------------------------

@pytest.mark.skipif(not fitcore.is_available("torch-autograd"), reason="PyTorch is not installed")
def test_that_device_cpu_and_auto_run_and_report_where_they_ran() -> None:
    from fitcore.device import resolve_device
    for device in ("cpu", "auto"):
        code, out, err = call(["run", "sine-cubic", "--impl", "torch-autograd", "--steps", "20", "--device", device,
                               "--json"])
        assert code == 0, err
        result = strict_json(out)
        assert (result["device"], result["ran_on"]) == (device, resolve_device(device))


@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_that_an_absent_device_ends_with_exit_2_and_one_line(device: str) -> None:
    from fitcore.device import device_status
    status = device_status(device)
    if status.available:
        pytest.skip(f"{device} is available here")
    code, out, err = call(["run", "sine-cubic", "--impl", "torch-nn", "--device", device])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"device {device!r} is not available here: {status.reason}" in err and "Traceback" not in err


def test_that_a_device_for_numpy_or_an_unknown_device_ends_with_exit_2() -> None:
    code, _, err = call(["run", "linear-2x", "--impl", "numpy", "--device", "auto"])
    assert code == 2 and "PyTorch implementations only" in err and err.count("\n") == 1
    code, _, err = call(["run", "linear-2x", "--device", "tpu"])
    assert code == 2 and "invalid choice: 'tpu'" in err and err.count("\n") == 1


def test_that_list_names_each_device_and_why_one_is_absent() -> None:
    from fitcore.device import ACCELERATORS, device_status
    code, out, _ = call(["list"])
    assert code == 0 and "Devices (--device; PyTorch implementations only)" in out
    for device in ACCELERATORS:
        status = device_status(device)
        line = next(line for line in out.splitlines() if line.strip().startswith(device + " "))
        assert ("[available]" in line) if status.available else (status.reason in line)


# --- paths that used to end in "internal error" (issue 13's audit) ---------------------------------

@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [["list"], ["run", "sine-cubic", "--steps", "3000", "--json"], ["export", "linear-2x"]])
def test_that_output_that_cannot_be_written_ends_with_one_line_and_exit_1_not_an_internal_error(argv) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "fitcore", *argv], cwd=REPO, stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["fitcore: could not write the output: No space left on device"]


def test_that_a_framework_whose_shared_library_cannot_load_exits_2_with_the_reinstall_command() -> None:
    def broken(name: str, *args: Any) -> Any:
        raise OSError("libgomp.so.1: cannot open shared object file: No such file or directory")
    with mock.patch("fitcore.impl.importlib.import_module", broken):
        code, out, err = call(["run", "linear-2x", "--impl", "torch-manual", "--steps", "3"])
    assert (code, out) == (2, "") and len(err.splitlines()) == 1 and "internal error" not in err
    assert "PyTorch is installed but cannot be loaded here (libgomp.so.1" in err and "pip install torch" in err


def test_that_a_compile_that_fails_at_run_time_exits_1_with_its_message_not_an_internal_error() -> None:
    def failing(config: RunConfig, *args: Any, **kwargs: Any) -> fitcore.Run:
        raise fitcore.CompileFailed("torch.compile could not build this run's code: the C++ compiler failed")
    with mock.patch.object(cli, "train", failing), mock.patch("fitcore.impl.compiled_unavailable", lambda impl, device="cpu": None):
        code, out, err = call(["run", "linear-2x", "--impl", "torch-manual", "--compile", "--steps", "3"])
    assert (code, out) == (1, "")
    assert err.splitlines() == ["fitcore: torch.compile could not build this run's code: the C++ compiler failed"]
