"""Six implementations, one table: every demo × implementation × optimizer × dtype against a float64
reference written out in conftest.py (optax alias_test style), plus the compiled paths, hand-written
gradients against autograd, and frameworks that are imported only when needed.

Tolerances (relative to the size of the reference parameter vector, and for losses to L_ref + L_0):
- float64: 1e-11. Measured worst: 8e-14 (analytic's eigenbasis), 4e-16 elsewhere. A formula slip (a
  missing bias correction, a wrong β or μ, a float32-rounded lr or β) moves a run by 1e-8 or more;
  swapping torch's and Keras's ε placement moves quadratic-recovery's by 1e-10 (the other demos' large
  gradients hide it: test_optim checks the placement with gradients near ε).
- float32: 1e-5. Measured worst 5e-7: 50 contractive steps of a few float32 roundings (6e-8 each).
- float32, torch.compile: 3e-5. Inductor fuses and reorders the float32 arithmetic of 8 unrolled
  steps (vectorised sums, fused multiply-adds); measured worst 4e-6 (Adam).
- tf-tape Adam, float32: 3e-5, the documented Keras residual (fitcore.optim.KERAS_RESIDUALS["adam"]):
  Keras rounds β₂ to float32, shortening the first steps by 6.7e-6; measured worst 8e-6.
tf-tape's eager path is compared with Keras's own formulas (ε inside the square root for RMSprop,
before Adam's bias correction, velocity m = μm − lr·g); every other path with torch.optim's.
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fitcore
from fitcore.config import dataset_of
from fitcore import DTYPES, IMPLEMENTATIONS, OPTIMIZERS, FrameworkMissing, Run, RunConfig, get_problem, make_dataset
from fitcore import quadratic_loss
from fitcore.impl import StepSettings, TrainState, make_stepper

from conftest import (ALL_IMPLS, DEMOS, FRAMEWORK_IMPLS, REPO, assert_losses_close, assert_params_close, quadratic_of,
                      import_or_unavailable, reference_run, require)

STEPS = 50
TOLERANCE = {"float64": 1e-11, "float32": 1e-5}
TORCH_COMPILED_FLOAT32 = 3e-5
KERAS_FLOAT32_ADAM = 3e-5


def tolerance(impl: str, optimizer: str, dtype: str, compiled: bool = False) -> float:
    if dtype == "float32" and compiled and impl.startswith("torch-"):
        return TORCH_COMPILED_FLOAT32
    if impl == "tf-tape" and optimizer == "adam" and dtype == "float32" and not compiled:
        return KERAS_FLOAT32_ADAM
    return TOLERANCE[dtype]


@functools.lru_cache(maxsize=None)
def setting(problem_id: str, optimizer: str, dtype: str) -> tuple[RunConfig, float]:
    """The demo's notebook settings with a learning rate that keeps the run stable and moving.

    sgd: 0.1·(2/λmax), so the stiffest direction shrinks by 0.8 a step. momentum: a tenth of that
    (its steps add up to ~10 gradients). rmsprop/adam step ~lr per coordinate whatever the curvature
    (rmsprop up to 10·lr at first): lr is chosen so that no coordinate can cover more than half its
    distance to the optimum in STEPS steps, keeping every gradient well away from zero, where float32
    would decide the sign of a step.
    """
    # Seed 0's draws, whose start is far from the optimum in every coordinate (seed 004's printed start
    # sits 0.03 from it in c, which would leave rmsprop and adam a rate too small to move the loss).
    config = RunConfig.notebook(problem_id, dtype=dtype, steps=STEPS, seed=0)
    data = dataset_of(config, dtype)
    quad = quadratic_loss(data, config.reduction)
    distance = float(np.abs(data.init.astype(np.float64) - quad.optimum).min())
    lr = {"sgd": 0.1 * quad.max_stable_lr, "momentum": 0.01 * quad.max_stable_lr,
          "rmsprop": distance / (6 * STEPS), "adam": distance / (2 * STEPS)}[optimizer]
    return config.replace(optimizer=optimizer, lr=lr), lr


@functools.lru_cache(maxsize=None)
def reference(problem_id: str, optimizer: str, dtype: str, convention: str) -> tuple[np.ndarray, np.ndarray]:
    """Losses at θ_0..θ_STEPS and θ_0..θ_STEPS, float64, from the run's own data (float32 values upcast)."""
    config, lr = setting(problem_id, optimizer, dtype)
    data = dataset_of(config, dtype).as_float64()
    quad = quadratic_of(data, config.reduction)
    losses, params = reference_run(quad, data.init, optimizer, np.full(STEPS, lr), convention)
    return np.append(losses, quad.loss(params[-1])), params


TABLE = [(demo, impl, optimizer, dtype) for demo in DEMOS for impl in ALL_IMPLS for optimizer in OPTIMIZERS
         for dtype in DTYPES
         if impl != "analytic" or (optimizer in ("sgd", "momentum") and dtype == "float64")]


def run_and_compare(problem_id: str, impl: str, optimizer: str, dtype: str, compiled: bool = False) -> None:
    require(impl)
    config, _ = setting(problem_id, optimizer, dtype)
    run = Run(config.replace(impl=impl, compiled=compiled))
    run.advance()
    assert (run.status, run.step) == ("completed", STEPS), run.message
    steps, losses, params = run.history.arrays()
    np.testing.assert_array_equal(steps, np.arange(STEPS + 1))
    convention = "keras" if impl == "tf-tape" and not compiled else "torch"
    ref_losses, ref_params = reference(problem_id, optimizer, dtype, convention)
    assert ref_losses[-1] < 0.9 * ref_losses[0]  # the setting moves the run; nothing is trivially equal
    bound = tolerance(impl, optimizer, dtype, compiled)
    assert_params_close(params, ref_params, bound)
    assert_losses_close(losses, ref_losses, bound, ref_losses[0])
    assert_losses_close(np.array([run.current_loss]), ref_losses[-1:], bound, ref_losses[0])


@pytest.mark.parametrize("problem_id, impl, optimizer, dtype", TABLE)
def test_that_every_implementation_follows_the_float64_reference(problem_id: str, impl: str, optimizer: str,
                                                                  dtype: str) -> None:
    run_and_compare(problem_id, impl, optimizer, dtype)


def test_that_the_table_covers_six_implementations_four_optimizers_and_both_dtypes() -> None:
    assert set(ALL_IMPLS) == set(IMPLEMENTATIONS)
    assert {case[1] for case in TABLE} == set(IMPLEMENTATIONS)
    assert {case[2] for case in TABLE} == set(OPTIMIZERS) and {case[3] for case in TABLE} == set(DTYPES)
    assert len(TABLE) == len(DEMOS) * (5 * 4 * 2 + 2)


# torch.compile costs seconds per configuration: sgd and adam on one demo, float32 (the notebooks'),
# plus the cheap compiled paths (NumPy's Gram matrix, TensorFlow's XLA loop) in float64 too.
COMPILED = ([("quadratic-recovery", impl, optimizer, "float32") for impl in FRAMEWORK_IMPLS
             for optimizer in ("sgd", "adam")]
            + [("quadratic-recovery", impl, optimizer, "float64") for impl in ("numpy", "tf-tape")
               for optimizer in ("sgd", "adam")]
            + [("sine-cubic", impl, optimizer, dtype) for impl in ("numpy", "tf-tape")
               for optimizer in ("momentum", "rmsprop") for dtype in DTYPES])


@pytest.mark.parametrize("problem_id, impl, optimizer, dtype", COMPILED)
def test_that_every_compiled_path_follows_the_same_reference(problem_id: str, impl: str, optimizer: str,
                                                             dtype: str) -> None:
    run_and_compare(problem_id, impl, optimizer, dtype, compiled=True)


def test_that_one_process_can_compile_more_torch_configurations_than_dynamos_recompile_limit() -> None:
    # torch._dynamo allows 8 compilations per code object and fails hard past them under fullgraph:
    # a dashboard process compiles one configuration per demo, style, optimizer, dtype and size.
    require("torch-manual")
    import torch._dynamo
    with torch._dynamo.config.patch(recompile_limit=1):  # the limit reached at once
        for dtype in DTYPES:
            run_and_compare("linear-2x", "torch-manual", "sgd", dtype, compiled=True)


def test_that_the_analytic_implementation_refuses_nothing_it_can_compute() -> None:
    for optimizer in ("sgd", "momentum"):
        assert RunConfig.notebook("linear-2x", impl="analytic", optimizer=optimizer).impl == "analytic"


# --- hand-written gradients against autograd ------------------------------------------------------

def autograd_gradient(problem_id: str, data: fitcore.Dataset, reduction: str, theta: np.ndarray) -> np.ndarray:
    """torch autograd through the demo's formula as code, on float64 tensors."""
    torch = import_or_unavailable("torch")
    problem = get_problem(problem_id)
    params = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    x = torch.tensor(data.x, dtype=torch.float64)
    y = torch.tensor(data.y, dtype=torch.float64)
    names = dict(zip(problem.param_names, params.unbind()))
    y_pred = eval(problem.formula_code, {}, {"x": x, **names})
    squared = (y_pred - y) ** 2
    loss = squared.mean() if reduction == "mean" else squared.sum()
    (grad,) = torch.autograd.grad(loss, params)
    return grad.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl, compiled", [("numpy", False), ("numpy", True), ("torch-manual", False)])
@pytest.mark.parametrize("problem_id", DEMOS)
def test_that_hand_written_gradients_equal_autograds(problem_id: str, impl: str, compiled: bool, dtype: str) -> None:
    require(impl)
    require("torch-autograd")
    config = RunConfig.notebook(problem_id, dtype=dtype)
    data = dataset_of(config, dtype)
    rng = np.random.default_rng(11)
    for reduction in ("mean", "sum"):
        stepper = make_stepper(impl, data, StepSettings(optimizer="sgd", lr=1.0, reduction=reduction,
                                                        compiled=compiled))
        theta = rng.normal(size=data.features.shape[1]) * 2
        theta = theta.astype(dtype).astype(np.float64)  # representable in the run's dtype
        stepper.load(TrainState(theta, {}, 0))
        _, after = stepper.run(1, [1])
        grad = theta - after[0]  # one SGD step with lr = 1
        expected = autograd_gradient(problem_id, data, reduction, theta)
        scale = max(np.abs(expected).max(), np.abs(theta).max())
        worst = np.abs(grad - expected).max() / scale
        assert worst <= (1e-12 if dtype == "float64" else 2e-6), (reduction, worst)


# --- frameworks load lazily ------------------------------------------------------------------------

def python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=120)


def test_that_importing_fitcore_imports_no_framework_and_no_streamlit() -> None:
    result = python("""
        import sys
        import fitcore, fitcore.engine, fitcore.impl, fitcore.analytic, fitcore.torch_rng
        from fitcore import RunConfig, train
        train(RunConfig.notebook("quadratic-recovery", impl="numpy", steps=10))
        train(RunConfig.notebook("quadratic-recovery", impl="analytic", dtype="float64", steps=10))
        print(sorted(m for m in ("torch", "tensorflow", "keras", "streamlit", "altair") if m in sys.modules))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_that_building_a_torch_run_imports_torch_but_not_tensorflow() -> None:
    require("torch-autograd")
    result = python("""
        import sys
        from fitcore import RunConfig, train
        train(RunConfig.notebook("linear-2x", "pytorch", steps=3))
        print("torch" in sys.modules, "tensorflow" in sys.modules)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]


@pytest.mark.parametrize("module, impls, pip", [
    ("torch", ("torch-manual", "torch-autograd", "torch-nn"), "pip install torch==2.13.0"),
    ("tensorflow", ("tf-tape",), "pip install tensorflow-cpu==2.21.0"),
])
def test_that_a_missing_framework_is_reported_with_its_pip_command_and_numpy_still_runs(module: str, impls: tuple,
                                                                                       pip: str) -> None:
    result = python(f"""
        import sys
        sys.modules[{module!r}] = None  # as if it were not installed
        import fitcore
        from fitcore import FrameworkMissing, RunConfig, train
        for impl in {impls!r}:
            assert not fitcore.is_available(impl), impl
            for compiled in (False, True):
                try:
                    train(RunConfig.notebook("linear-2x", impl=impl, compiled=compiled))
                except FrameworkMissing as error:
                    assert isinstance(error, ImportError)
                    print("MISSING", impl, error)
                else:
                    print("BUILT", impl)
        assert fitcore.is_available("numpy") and fitcore.is_available("analytic")
        print("numpy", train(RunConfig.notebook("linear-2x", impl="numpy")).status)
        print("analytic", train(RunConfig.notebook("linear-2x", impl="analytic", dtype="float64")).status)
    """)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    missing = [line for line in lines if line.startswith("MISSING")]
    assert len(missing) == 2 * len(impls) and not any(line.startswith("BUILT") for line in lines)
    assert all(pip in line for line in missing)
    assert "numpy completed" in lines and "analytic completed" in lines


def test_that_the_missing_message_names_the_framework_and_the_command() -> None:
    assert fitcore.missing_message("tf-tape") == "TensorFlow is not installed here: pip install tensorflow-cpu==2.21.0"
    assert fitcore.missing_message("torch-nn") == "PyTorch is not installed here: pip install torch==2.13.0"
    assert issubclass(FrameworkMissing, ImportError)
