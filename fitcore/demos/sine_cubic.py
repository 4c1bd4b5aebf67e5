"""Sine cubic (seeds 003 and 004): a + b·x + c·x² + d·x³ fitted to sin x on 2000 points with the summed loss."""
from __future__ import annotations

import functools
import math
from typing import Callable

import numpy as np

from .. import notebook_prints as printed
from ..demo import CONSTANT, SEED_0, X, X2, X3, Dataset, Lesson, NotebookVariant, PageHints, Problem, Sample, ScriptParts, make_dataset
from ..notebook_prints import PrintedCell
from ..notebook_starts import printed_result, printed_start, start_from_losses, start_from_result
from ..quadratic import QuadraticLoss, least_squares
from ..torch_rng import nn_linear_init


def _sine_sample(seed: int, points: int, noise: float) -> Sample:
    rng = np.random.RandomState(seed)
    init = rng.randn(4)  # a, b, c, d = np.random.randn() four times
    z = rng.standard_normal(points) if noise > 0 else np.zeros(points)
    return Sample(x=np.linspace(-math.pi, math.pi, points), z=z, init=init)


def _nn_linear_start(seed: int) -> np.ndarray:
    # Seed 003's nn cell starts from nn.Linear(3, 1)'s own initialisation, not from randn.
    weight, bias = nn_linear_init(seed, 3)
    return np.array([bias, *weight])


def _sine_target(x: np.ndarray, z: np.ndarray, noise: float) -> np.ndarray:
    y = np.sin(x)
    return y + (noise * z).astype(x.dtype) if noise > 0 else y


_SINE_SGD = {"optimizer": "sgd", "lr": 1e-6, "reduction": "sum"}
_REBUILT_NOTE = ("The start is rebuilt from the cell's printed numbers: plain gradient descent is affine in its "
                 "start, so every direction that had not decayed below rounding can be recovered (from the Result "
                 "in float64, from the printed losses in float32).")


@functools.cache
def _sine_notebook_quad(dtype: str) -> QuadraticLoss:
    """The summed loss over the notebooks' 2000 points, in the cell's dtype."""
    data = make_dataset(SINE_CUBIC, 0, SINE_CUBIC.default_points, 0.0, dtype)
    return least_squares(data.features.astype(np.float64), (data.y - data.offset).astype(np.float64), 1.0)


def _rebuilt(cell: PrintedCell, dtype: str) -> Callable[[], np.ndarray]:
    """θ₀ of a plain-SGD sine cell: run back from its printed Result in float64, fitted to its printed
    losses in float32 (whose rounding the Result's inversion would magnify)."""
    losses = [(int(step), float(loss)) for step, loss in (line.split() for line in cell.loop)]

    @functools.cache
    def start() -> np.ndarray:
        quad, result = _sine_notebook_quad(dtype), printed_result(cell.final[0])
        if dtype == "float32":
            return start_from_losses(quad, _SINE_SGD["lr"], losses, result, cell.steps)
        return start_from_result(quad, _SINE_SGD["lr"], cell.steps, result, early=losses[0])
    return start


def _using_cpu(params: np.ndarray, data: Dataset, scale: float) -> list[str]:
    return ["Using cpu device"]  # seed 003's PyTorch cell names its device before training


def _sine_start_line(params: np.ndarray, data: Dataset, scale: float) -> list[str]:
    # Seed 004's print(f'a = {a}, b = {b}, c = {c}, d = {d}') before its loop.
    return [", ".join(f"{name} = {float(value)!r}" for name, value in zip("abcd", params))]


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "notebook", "The notebook: heading for 8.817165",
        "With the summed loss over 2,000 points, the curvature runs from 1,728 to 562,122, and lr 1e-6 is safe "
        "for the steepest. From seed 003's own start, watch the loss fall to about 1,600 by step 100 (the "
        "notebook printed 1617.7 at step 99) and then creep toward the least-squares 8.817165: 2,000 steps end "
        "at 9.47.",
        "What still has to happen after step 2,000?",
        "The two flattest eigen-directions (λ ≈ 1,728 and 2,066) shrink by about 0.998 per step: 3 % of their "
        "error is left. Those are mostly the constant a and the slope b.",
        "completed", {"impl": "numpy", "lr": 1e-6, "steps": 2000, "reduction": "sum", "dtype": "float64"},
        "numpy-2000"),
    Lesson(
        "mean", "Mean vs sum: the same rate crawls",
        "With the mean loss every gradient is 2,000 times smaller, so lr 1e-6 hardly moves the coefficients. "
        "After 2,000 steps the loss is 259, down from 743, and the fit is still far from sin x.",
        "Which learning rate makes the mean-loss run retrace the summed run exactly?",
        "2,000 × 1e-6 = 0.002: the mean is the sum divided by N = 2,000, so lr·N gives the same steps and the "
        "same coefficients (the loss reads N times smaller).",
        "completed", {"impl": "numpy", "lr": 1e-6, "steps": 2000, "reduction": "mean", "dtype": "float64",
                      **SEED_0}, "numpy-2000"),
    Lesson(
        "diverging", "Diverging: lr 4e-6",
        "2/λmax is 3.56e-6 here, and lr 4e-6 is above it: the steepest direction, mostly the x³ coefficient d, is "
        "multiplied by −1.25 each step. The run stops at step 42 when the loss passes 10⁸ times its start.",
        "The notebook's rate 1e-6 is less than a third of the limit: why not use 3.5e-6?",
        "You can: it converges, with the steep direction oscillating. It runs the flat directions 3.5 times "
        "faster; try it from the sidebar or see the Compare tab's sweep.",
        "diverged", {"impl": "numpy", "lr": 4e-6, "steps": 500, "reduction": "sum", "dtype": "float64", **SEED_0},
        "numpy-2000"),
    Lesson(
        "momentum", "Momentum gets to 8.817165 in 2,000 steps",
        "The same rate with heavy-ball momentum (μ = 0.9) moves the flat directions ten times as far per step. "
        "The loss reaches the least-squares 8.817165 within 2,000 steps; plain SGD from the same start is still at "
        "11.09 after them.",
        "Momentum's steps are ten times longer: why does it not diverge at the same rate?",
        "Heavy-ball momentum stays stable up to lr = 2(1 + μ)/λmax = 3.8/λmax, almost twice SGD's limit; "
        "lr 1e-6 is far below either.",
        "completed", {"impl": "numpy", "optimizer": "momentum", "lr": 1e-6, "steps": 2000, "reduction": "sum",
                      "dtype": "float64", **SEED_0}, "numpy-2000"),
    Lesson(
        "rmsprop", "RMSprop on nn.Linear (seed 003)",
        "The notebook's last cell: RMSprop at lr 1e-3 from nn.Linear's initialisation, here in NumPy. RMSprop "
        "moves every coefficient by about lr per step whatever the curvature, so the loss gets near 8.82 and "
        "then wanders around 8.9 instead of settling.",
        "Why does RMSprop need lr 1e-3 where SGD needed 1e-6?",
        "RMSprop divides the gradient by its own running size, so its steps are about lr long whatever the "
        "loss's scale. SGD's steps are lr × gradient, and with the summed loss over 2,000 points the gradients "
        "are in the hundreds of thousands.",
        "completed", {"impl": "numpy"}, "nn-rmsprop"),
)

SINE_CUBIC = Problem(
    id="sine-cubic",
    title="Sine cubic fit",
    teaches="Fit a + b·x + c·x² + d·x³ to sin x on 2000 points with the summed loss: NumPy by hand, "
    "torch by hand, autograd, and nn.Linear with RMSprop, all heading for 8.817165.",
    seed_files=("003_c5e7d112216a8321.txt", "004_cca55be47e3356f3.txt"),
    notebook_frameworks=("NumPy", "PyTorch"),
    param_names=("a", "b", "c", "d"),
    features=(CONSTANT, X, X2, X3),
    offset=None,
    formula_code="a + b*x + c*x**2 + d*x**3",
    formula_latex=r"\hat y = a + b x + c x^2 + d x^3",
    data_latex=r"y = \sin x,\; 2000 \text{ points on } [-\pi, \pi]",
    true_params=None,
    default_points=2000,
    points_range=(4, 100_000),
    default_noise=0.0,
    rng="numpy",
    variants=(
        NotebookVariant("numpy-5000", "NumPy by hand, 5000 steps (seed 004)", printed.S004,
                        _SINE_SGD | {"impl": "numpy", "steps": 5000, "dtype": "float64"}, log_every=100,
                        log_phase=0, cell=printed.SINE_004_NUMPY, intro=_sine_start_line,
                        start=lambda: printed_start(printed.SINE_004_NUMPY.intro[0]),
                        start_note="Seed 004 printed its random start in full; the run starts there."),
        NotebookVariant("numpy-2000", "NumPy by hand, 2000 steps (seed 003's cell, stopped early)", printed.S003,
                        _SINE_SGD | {"impl": "numpy", "steps": 2000, "dtype": "float64"}, log_every=100,
                        log_phase=99, cell=printed.SINE_003_NUMPY, start=_rebuilt(printed.SINE_003_NUMPY, "float64"),
                        start_note=_REBUILT_NOTE),
        NotebookVariant("numpy-2400", "NumPy by hand, 2400 steps (seed 003)", printed.S003,
                        _SINE_SGD | {"impl": "numpy", "steps": 2400, "dtype": "float64"}, log_every=100,
                        log_phase=99, cell=printed.SINE_003_NUMPY, start=_rebuilt(printed.SINE_003_NUMPY, "float64"),
                        start_note=_REBUILT_NOTE),
        NotebookVariant("torch-2400", "PyTorch autograd, 2400 steps (seed 003)", printed.S003,
                        _SINE_SGD | {"impl": "torch-autograd", "steps": 2400, "dtype": "float32"}, log_every=100,
                        log_phase=99, cell=printed.SINE_003_TORCH, intro=_using_cpu,
                        start=_rebuilt(printed.SINE_003_TORCH, "float32"), start_note=_REBUILT_NOTE),
        NotebookVariant("torch-manual-5000", "PyTorch tensors by hand, 5000 steps (seed 004)", printed.S004,
                        _SINE_SGD | {"impl": "torch-manual", "steps": 5000, "dtype": "float32"}, log_every=100,
                        log_phase=99, cell=printed.SINE_004_MANUAL, start=_rebuilt(printed.SINE_004_MANUAL, "float32"),
                        start_note=_REBUILT_NOTE),
        NotebookVariant("torch-autograd-5000", "PyTorch autograd, 5000 steps (seed 004)", printed.S004,
                        _SINE_SGD | {"impl": "torch-autograd", "steps": 5000, "dtype": "float32"}, log_every=100,
                        log_phase=99, cell=printed.SINE_004_AUTOGRAD,
                        start=_rebuilt(printed.SINE_004_AUTOGRAD, "float32"), start_note=_REBUILT_NOTE),
        NotebookVariant("nn-rmsprop", "nn.Linear + RMSprop lr 1e-3, 2400 steps (seed 003)", printed.S003,
                        {"impl": "torch-nn", "optimizer": "rmsprop", "lr": 1e-3, "steps": 2400,
                         "reduction": "sum", "dtype": "float32"}, log_every=100, log_phase=99,
                        init=_nn_linear_start, cell=printed.SINE_003_NN,
                        start_note="This cell's nn.Linear start was never printed and RMSprop cannot be run "
                                   "backwards to find it: the run starts from nn.Linear's initialisation after "
                                   "torch.manual_seed of the seed (0 when none is set)."),
    ),
    sample=_sine_sample,
    truth=np.sin,
    target=_sine_target,
    log_line=lambda t, loss, mse, p: f"{t} {loss!r}",
    final_lines=lambda p: [f"Result: y = {float(p[0])!r} + {float(p[1])!r} x + {float(p[2])!r} x^2 + "
                           f"{float(p[3])!r} x^3"],
    script=ScriptParts("parts/data/sine-cubic.jinja", "parts/printers/sine-cubic.jinja"),
    lessons=LESSONS,
    # b against d: x and x³ rise almost in step on [−π, π], so this slice is the long, narrow valley
    page=PageHints(icon="airwave", landscape_axes=(1, 3)),
    grows_on_accelerator=True,
)
