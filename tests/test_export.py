"""Exported scripts reproduce ``fitcore.train``: the same log lines, the same final loss and θ.

Every script runs in a separate interpreter whose working directory holds no fitcore, so a script
that leaned on fitcore would fail. One interpreter per framework runs a whole batch of scripts
(TensorFlow's import alone takes ~3 s), and the three batches run side by side while this process
trains the same configurations with fitcore.

Tolerances. Each style mirrors its ``fitcore.impl`` module operation for operation, so the numbers
agree to the last bit on this machine; the tolerances only leave room for other BLAS and SIMD
builds: float64 rtol 1e-9, float32 rtol 1e-5 (a few float32 ulps amplified over ≤ 200 steps).
Two cases are looser by construction, not by drift:
- the analytic style evaluates the closed form step by step while the engine jumps chunk by chunk,
  so float64 round-off differs at the 1e-15 level: rtol 1e-9 whatever the data's dtype;
- quadratic-recovery in a torch script draws its data from torch's own generator, whose vectorised
  randn agrees with fitcore's NumPy replay (fitcore/torch_rng.py) only to ≤ 3 float32 ulps: rtol 1e-5
  even in float64, and its log lines are compared number by number at that tolerance.
"""
from __future__ import annotations

import ast
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import numpy as np
import pytest

import fitcore
from fitcore import RunConfig, Schedule, StopConditions, export_script
from fitcore.cli import main

from conftest import unavailable

RUNNER = textwrap.dedent('''
    """Run each script of a batch in this interpreter; record what it printed and what it imported."""
    import contextlib, io, json, runpy, sys, traceback

    jobs = json.load(open(sys.argv[1]))
    results = {}
    for key, path in jobs.items():
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                runpy.run_path(path, run_name="__main__")
            error = None
        except BaseException:
            error = traceback.format_exc()
        loaded = sorted(name for name in ("torch", "tensorflow", "keras", "fitcore") if name in sys.modules)
        results[key] = {"stdout": out.getvalue(), "stderr": err.getvalue(), "error": error, "loaded": loaded}
    json.dump(results, open(sys.argv[2], "w"))
''')

FINAL = re.compile(r"^FINAL loss=(?P<loss>\S+) params=\[(?P<params>.*)\]$")
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf")


@dataclass(frozen=True)
class Case:
    id: str
    config: RunConfig
    notebook_log: bool = False  # a notebook variant's own settings: the log must match exactly
    ending: str | None = None   # the rule meant to end the run early: loss_below, plateau or diverged

    @property
    def framework(self) -> str:
        return fitcore.IMPLEMENTATIONS[self.config.impl].framework

    @property
    def torch_data(self) -> bool:
        return self.config.problem == "quadratic-recovery" and self.framework == "torch"

    @property
    def rtol(self) -> float:
        if self.torch_data:
            return 1e-5
        if self.config.impl == "analytic" or self.config.dtype == "float64":
            return 1e-9
        return 1e-5


def _case(demo: str, variant: str | None = None, notebook_log: bool = False, ending: str | None = None,
          **overrides: object) -> Case:
    config = RunConfig.notebook(demo, variant, **overrides)
    c = config
    parts = [c.problem, c.variant, c.impl + ("+compiled" if c.compiled else "")
             + (f"@{c.device}" if c.device != "cpu" else ""), c.optimizer, f"lr{c.lr:g}",
             f"{c.steps}steps", c.reduction, c.dtype, c.schedule.kind, f"seed{c.seed}", f"{c.points}points",
             f"noise{c.noise:g}"]
    if c.start is not None:
        parts.append("start" + ",".join(f"{v:g}" for v in c.start))
    if c.stop.loss_below is not None:
        parts.append(f"below{c.stop.loss_below:g}")
    if c.stop.plateau_tol is not None:
        parts.append(f"plateau{c.stop.plateau_tol:g}")
    return Case("-".join(parts), config, notebook_log, ending)


DEMO_LR = {"quadratic-bias": 0.01, "linear-2x": 0.01, "quadratic-recovery": 1e-5, "sine-cubic": 1e-6}
IMPLS = tuple(fitcore.IMPLEMENTATIONS)
STEP_DECAY, EXPONENTIAL = Schedule("step", 0.5, 7), Schedule("exponential", 0.97)
COSINE = Schedule("cosine", lr_min=1e-7)


def _cases() -> list[Case]:
    cases = []
    # every implementation on every demo, with the demo's default notebook settings
    for demo, impl in itertools.product(fitcore.PROBLEMS, IMPLS):
        cases.append(_case(demo, impl=impl, steps=60))
    # every optimizer with every implementation that has it
    for impl in IMPLS:
        if impl != "analytic":
            cases.append(_case("sine-cubic", impl=impl, optimizer="rmsprop", lr=1e-3, steps=50, dtype="float32"))
            cases.append(_case("linear-2x", impl=impl, optimizer="adam", lr=0.05, steps=50))
        cases.append(_case("quadratic-recovery", impl=impl, optimizer="momentum", lr=2e-6, steps=50))
    # every schedule, with the framework schedulers (torch-nn, tf-tape) and the formula written out
    for (impl, optimizer), schedule in itertools.product(
            [("numpy", "momentum"), ("torch-autograd", "adam"), ("torch-nn", "momentum"), ("tf-tape", "adam"),
             ("analytic", "sgd")], [STEP_DECAY, EXPONENTIAL, COSINE]):
        lr = 0.05 if optimizer == "adam" else 0.004
        cases.append(_case("quadratic-bias", impl=impl, optimizer=optimizer, lr=lr, steps=40, schedule=schedule))
    # float64 where the demo's default is float32, including Keras's float64 hyperparameters
    cases += [_case("quadratic-bias", impl="tf-tape", optimizer="adam", lr=0.05, steps=40, dtype="float64"),
              _case("linear-2x", variant="pytorch", impl="torch-nn", steps=40, dtype="float64"),
              _case("quadratic-recovery", impl="torch-manual", optimizer="rmsprop", lr=1e-2, steps=40,
                    dtype="float64")]
    # noise, the data's size and seed, and a notebook cell with its own θ₀ (nn.Linear's) run elsewhere
    cases += [_case("quadratic-bias", impl="numpy", noise=0.5, points=80, seed=11, steps=40),
              _case("linear-2x", impl="torch-autograd", noise=0.1, points=9, seed=5, lr=0.002, steps=40),
              _case("sine-cubic", impl="tf-tape", noise=0.2, points=500, seed=2, steps=40, dtype="float32"),
              _case("quadratic-recovery", impl="torch-manual", noise=0.0, points=50, seed=4, lr=1e-7, steps=40),
              _case("quadratic-recovery", impl="analytic", noise=7.0, points=16, seed=9, steps=40),
              _case("sine-cubic", "nn-rmsprop", impl="numpy", noise=0.2, seed=1, steps=40),
              _case("sine-cubic", "nn-rmsprop", impl="tf-tape", seed=1, steps=40)]
    # a start chosen on the page (a click on the landscape) over the notebook's data and over a seed's
    cases += [_case("quadratic-recovery", impl="numpy", start=(0.5, -3.0, 2.0), steps=40),
              _case("quadratic-recovery", impl="torch-autograd", start=(0.5, -3.0, 2.0), steps=40),
              _case("sine-cubic", impl="tf-tape", seed=3, start=(0.1, 0.8, -0.2, -0.1), steps=40, dtype="float32")]
    # compiled paths: the Gram matrix, XLA, torch.compile (the last costs seconds per configuration)
    cases += [_case("sine-cubic", impl="numpy", compiled=True, steps=60, dtype="float32"),
              _case("quadratic-recovery", impl="numpy", compiled=True, optimizer="adam", lr=1e-2, steps=60,
                    dtype="float64", schedule=COSINE),
              _case("sine-cubic", impl="tf-tape", compiled=True, steps=60, dtype="float32"),
              _case("quadratic-bias", impl="tf-tape", compiled=True, optimizer="rmsprop", lr=0.05, steps=60,
                    dtype="float64", schedule=STEP_DECAY),
              _case("sine-cubic", impl="torch-autograd", compiled=True, optimizer="adam", lr=1e-3, steps=30,
                    dtype="float32", schedule=EXPONENTIAL),
              _case("quadratic-recovery", impl="torch-nn", compiled=True, optimizer="momentum", lr=2e-6,
                    steps=30),
              _case("linear-2x", impl="torch-manual", compiled=True, optimizer="sgd", steps=30, dtype="float64")]
    # the notebooks' accelerator line (device auto): the CPU here, the same numbers wherever it picks the CPU
    cases += [_case("sine-cubic", impl=impl, device="auto", steps=40, dtype="float32")
              for impl in ("torch-manual", "torch-autograd", "torch-nn")]
    cases += [_case("quadratic-recovery", impl="torch-nn", device="auto", steps=30),
              _case("quadratic-bias", "pytorch", device="auto", steps=30),
              _case("sine-cubic", impl="torch-manual", compiled=True, device="auto", optimizer="adam", lr=1e-3,
                    steps=30, dtype="float32")]
    # stop conditions, and a run that diverges (within the engine's first 8-step chunk)
    below, plateau = StopConditions(loss_below=1e-3), StopConditions(plateau_tol=0.05, plateau_window=10)
    for impl, compiled in [("numpy", False), ("numpy", True), ("analytic", False), ("torch-manual", False),
                           ("torch-nn", False), ("tf-tape", False), ("tf-tape", True)]:
        cases.append(_case("linear-2x", impl=impl, compiled=compiled, steps=100, stop=below, ending="loss_below"))
        cases.append(_case("sine-cubic", impl=impl, compiled=compiled, steps=300, dtype="float32", stop=plateau,
                           ending="plateau"))
        cases.append(_case("linear-2x", impl=impl, compiled=compiled, lr=0.2, steps=50, dtype="float64",
                           ending="diverged"))
    # the notebooks themselves: all steps where that is quick, fewer where the notebook ran for minutes
    short = {("quadratic-bias", "tensorflow"): 400, ("quadratic-bias", "pytorch"): 400,
             ("quadratic-recovery", "pytorch"): 300}
    for problem in fitcore.PROBLEMS.values():
        for variant in problem.variants:
            steps = short.get((problem.id, variant.key), variant.settings["steps"])
            cases.append(_case(problem.id, variant.key, notebook_log=True, steps=steps))
    return cases


CASES = _cases()


def _available(case: Case) -> bool:
    return fitcore.is_available(case.config.impl)


@dataclass(frozen=True)
class Outcome:
    script: dict                   # stdout, stderr, error and the modules the script loaded
    run: fitcore.Run | Exception   # fitcore.train of the same configuration, or what it raised


def _train(config: RunConfig) -> fitcore.Run | Exception:
    try:
        return fitcore.train(config)
    except Exception as error:  # reported by the case's own tests, not by the whole batch
        return error


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every case's script, run in one interpreter per framework (three batches side by side) while
    this process trains the same configurations with fitcore."""
    folder = tmp_path_factory.mktemp("exported")
    (folder / "runner.py").write_text(RUNNER)
    cases = [c for c in CASES if _available(c)]
    batches: dict[str, dict[str, str]] = {}
    for index, case in enumerate(cases):
        path = folder / f"script_{index:03d}.py"
        path.write_text(export_script(case.config))
        batches.setdefault(case.framework, {})[case.id] = str(path)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)
    running = []
    try:
        for framework, jobs in batches.items():
            jobs_file, results_file = folder / f"{framework}.jobs.json", folder / f"{framework}.results.json"
            jobs_file.write_text(json.dumps(jobs))
            log = open(folder / f"{framework}.stderr.txt", "w")
            # -I and a working directory without fitcore: a script that imported fitcore would fail.
            process = subprocess.Popen([sys.executable, "-I", str(folder / "runner.py"), str(jobs_file),
                                        str(results_file)], cwd=folder, env=env, stdout=subprocess.DEVNULL,
                                       stderr=log)
            running.append((framework, process, results_file, log))
        runs = {case.id: _train(case.config) for case in cases}
        scripts: dict[str, dict] = {}
        for framework, process, results_file, log in running:
            process.wait(timeout=900)
            log.close()
            stderr = (folder / f"{framework}.stderr.txt").read_text()
            assert process.returncode == 0, f"the {framework} batch failed:\n{stderr[-3000:]}"
            scripts.update(json.loads(results_file.read_text()))
    finally:
        for _, process, _, log in running:
            if process.poll() is None:
                process.kill()
            log.close()
    return {case.id: Outcome(scripts[case.id], runs[case.id]) for case in cases}


def _outcome(case: Case, outcomes: dict[str, Outcome]) -> Outcome:
    if not _available(case):
        unavailable(fitcore.missing_message(case.config.impl))
    outcome = outcomes[case.id]
    if isinstance(outcome.run, Exception):
        raise outcome.run
    assert outcome.script["error"] is None, f"the exported script raised:\n{outcome.script['error']}"
    return outcome


def _final(stdout: str) -> tuple[float, np.ndarray]:
    last = stdout.rstrip("\n").splitlines()[-1]
    match = FINAL.match(last)
    assert match, f"the last line is not FINAL ...: {last!r}"
    params = [float(v) for v in match["params"].split(", ")] if match["params"] else []
    return float(match["loss"]), np.array(params)


def _numbers_match(got: str, want: str, rtol: float) -> bool:
    """Same text around the numbers, and the numbers equal to rtol plus one unit of their last printed digit."""
    if NUMBER.sub("#", got) != NUMBER.sub("#", want):
        return False
    for a, b in zip(NUMBER.findall(got), NUMBER.findall(want)):
        decimals = len(b.split(".")[1].split("e")[0]) if "." in b else 0
        if not np.isclose(float(a), float(b), rtol=rtol, atol=10.0 ** -decimals, equal_nan=True):
            return False
    return True


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_that_an_exported_script_prints_the_engine_final_loss_and_params(
        case: Case, outcomes: dict[str, Outcome]) -> None:
    outcome = _outcome(case, outcomes)
    run = outcome.run
    loss, params = _final(outcome.script["stdout"])
    assert np.isclose(loss, run.current_loss, rtol=case.rtol, atol=0.0), (loss, run.current_loss)
    scale = float(np.max(np.abs(run.current_params)))
    np.testing.assert_allclose(params, run.current_params, rtol=case.rtol, atol=case.rtol * scale)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_that_an_exported_script_prints_the_engine_log_lines(case: Case, outcomes: dict[str, Outcome]) -> None:
    outcome = _outcome(case, outcomes)
    printed = outcome.script["stdout"].rstrip("\n").splitlines()[:-1]
    expected = [line.text for line in outcome.run.log]
    if case.notebook_log and not case.torch_data:
        assert printed == expected
        return
    assert len(printed) == len(expected)
    mismatched = [(a, b) for a, b in zip(printed, expected) if a != b and not _numbers_match(a, b, case.rtol)]
    assert not mismatched, mismatched[:3]


def _engine_ending(run: fitcore.Run) -> str | None:
    """What the script should report on stderr: where and why the engine ended early, if it did."""
    if run.status == "diverged":
        return f"stopped at step {run.diverged_at}: diverged"
    if run.reason in ("loss_below", "plateau"):
        return f"stopped at step {run.step}: {run.reason}"
    return None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_that_an_exported_script_ends_where_the_engine_ends(case: Case, outcomes: dict[str, Outcome]) -> None:
    outcome = _outcome(case, outcomes)
    expected = _engine_ending(outcome.run)
    stderr = outcome.script["stderr"]
    assert (expected in stderr) if expected else "stopped at step" not in stderr, (expected, stderr[-300:])


ENDING_CASES = [c for c in CASES if c.ending]


@pytest.mark.parametrize("case", ENDING_CASES, ids=[c.id for c in ENDING_CASES])
def test_that_the_stop_rule_cases_do_end_early(case: Case, outcomes: dict[str, Outcome]) -> None:
    # Guards the table: a case meant to exercise a rule must trigger it, else it tests nothing.
    run = _outcome(case, outcomes).run
    if case.ending == "diverged":
        assert run.status == "diverged" and run.diverged_at < case.config.steps
    else:
        assert (run.status, run.reason) == ("completed", case.ending) and run.step < case.config.steps


def _imported_modules(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


def test_that_a_numpy_export_imports_neither_torch_nor_tensorflow(outcomes: dict[str, Outcome]) -> None:
    numpy_cases = [c for c in CASES if c.framework == "numpy"]
    assert {c.config.impl for c in numpy_cases} == {"numpy", "analytic"}
    for case in numpy_cases:
        assert outcomes[case.id].script["loaded"] == [], case.id
        assert _imported_modules(export_script(case.config)) == {"math", "sys", "numpy"}, case.id


def test_that_a_framework_export_imports_numpy_and_its_own_framework_only(outcomes: dict[str, Outcome]) -> None:
    allowed = {"torch": {"math", "sys", "numpy", "torch"}, "tensorflow": {"math", "os", "sys", "numpy", "keras",
                                                                          "tensorflow"}}
    for case in CASES:
        if case.framework in allowed and case.id in outcomes:
            assert _imported_modules(export_script(case.config)) <= allowed[case.framework], case.id
            assert "fitcore" not in outcomes[case.id].script["loaded"], case.id


EVERY_SETTING = list(itertools.product(
    fitcore.PROBLEMS, IMPLS, fitcore.OPTIMIZERS, [Schedule(), STEP_DECAY, EXPONENTIAL, COSINE],
    [False, True], fitcore.DTYPES))


def _valid(impl: str, optimizer: str, schedule: Schedule) -> bool:
    if impl == "analytic":
        return optimizer in ("sgd", "momentum") and (optimizer == "sgd" or schedule.is_constant)
    return True


def test_that_every_combination_of_settings_exports_a_script_that_parses() -> None:
    stop = StopConditions(loss_below=1e-3, plateau_tol=1e-4, plateau_window=20)
    count = 0
    for demo, impl, optimizer, schedule, compiled, dtype in EVERY_SETTING:
        if not _valid(impl, optimizer, schedule):
            continue
        config = RunConfig.notebook(demo, impl=impl, optimizer=optimizer, schedule=schedule, compiled=compiled,
                                    dtype=dtype, steps=10, stop=stop if count % 2 else StopConditions())
        source = export_script(config)
        ast.parse(source)
        count += 1
        assert source.splitlines()[0].startswith(f"# {fitcore.get_problem(demo).title}:")
    assert count > 600


def _header_command(script: str) -> list[str]:
    lines = script.splitlines()
    first = lines.index("# Regenerate this file with:") + 1
    command = []
    for line in lines[first:]:
        if line == "#":
            break
        command.append(line[1:].strip().removesuffix("\\"))
    return shlex.split(" ".join(command))


def test_that_the_header_command_exports_the_same_script_again(capsys: pytest.CaptureFixture[str]) -> None:
    config = RunConfig.notebook("sine-cubic", "nn-rmsprop", steps=123, seed=7, points=300, noise=0.25,
                                dtype="float64", compiled=True, schedule=COSINE, start=(0.25, -1.5, 0.0, 0.125),
                                stop=StopConditions(loss_below=0.5, plateau_tol=1e-3, plateau_window=17))
    script = export_script(config)
    command = _header_command(script)
    assert command[:4] == ["python", "-m", "fitcore", "export"]
    assert main(command[3:]) == 0
    assert capsys.readouterr().out == script


def _literal(script: str, name: str) -> object:
    for node in ast.parse(script).body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not assigned in the script")


def test_that_a_numpy_script_writes_out_fitcores_replay_of_the_torch_draws() -> None:
    script = export_script(RunConfig.notebook("quadratic-recovery", impl="numpy", seed=3, points=37))
    sample = fitcore.get_problem("quadratic-recovery").sample(3, 37, 3.0)
    assert _literal(script, "Z") == sample.z.tolist()
    assert _literal(script, "THETA0") == sample.init.tolist()


def test_that_an_auto_device_export_uses_the_notebooks_accelerator_line() -> None:
    from fitcore.device import NOTEBOOK_LINE
    for impl, compiled in [("torch-manual", False), ("torch-autograd", False), ("torch-nn", False),
                           ("torch-autograd", True)]:
        script = export_script(RunConfig.notebook("sine-cubic", impl=impl, compiled=compiled, device="auto"))
        assert NOTEBOOK_LINE in script.splitlines()[[i for i, line in enumerate(script.splitlines())
                                                     if line.startswith("device = ")][0]]
        assert "--device auto" in script  # the header's command rebuilds the same settings
        assert ".numpy()" not in script.replace(".cpu().numpy()", "")  # every read-back leaves the device
    compiled = export_script(RunConfig.notebook("sine-cubic", impl="torch-nn", compiled=True, device="auto"))
    assert 'mode="reduce-overhead" if device == "cuda"' in compiled and "cudagraph_mark_step_begin" in compiled


def test_that_a_cpu_export_names_the_cpu_and_no_accelerator() -> None:
    script = export_script(RunConfig.notebook("sine-cubic", impl="torch-autograd"))
    assert 'device = "cpu"' in script and "torch.accelerator" not in script and "--device" not in script
