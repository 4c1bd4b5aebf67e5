"""The four demos, each defined once: data, model, parameter names and the notebook's settings.

Every model is linear in its parameters: prediction = Σ θᵢ·φᵢ(x) + offset(x). The features φᵢ
are plain Python callables built from ``+ - * **`` only, so the same definition evaluates on
NumPy arrays, torch tensors and TensorFlow tensors.

Its length is one idea: the four definitions (data, model, printed lines, starts, page hints) side by side,
so adding a demo is copying one block and a reader compares them in one place.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Sequence

import numpy as np

from . import notebook_prints as printed
from .notebook_prints import PrintedCell
from .notebook_starts import (printed_result, printed_start, start_from_losses, start_from_predictions,
                              start_from_result)
from .quadratic import QuadraticLoss, least_squares
from .torch_rng import TorchRandn, nn_linear_init

REDUCTIONS: tuple[str, ...] = ("mean", "sum")
DTYPES: tuple[str, ...] = ("float32", "float64")


@dataclass(frozen=True)
class Feature:
    """One column φ(x) of the design matrix: as code, as LaTeX, and as a callable."""

    code: str
    latex: str
    fn: Callable[[Any], Any]

    @property
    def is_constant(self) -> bool:
        return self.code == "1"


CONSTANT = Feature("1", "1", lambda x: 1.0)
X = Feature("x", "x", lambda x: x)
X2 = Feature("x**2", "x^2", lambda x: x**2)
X3 = Feature("x**3", "x^3", lambda x: x**3)


@dataclass(frozen=True)
class NotebookVariant:
    """One run exactly as a notebook wrote it: its settings, how often it printed, and what it printed.

    With no seed (``RunConfig.seed is None``) a run uses the notebook's own data and start: ``data`` and
    ``start`` where the notebook printed enough to fix them, the demo's seed-0 draw elsewhere.
    """

    key: str
    label: str
    seed_file: str
    settings: Mapping[str, Any]
    log_every: int
    log_phase: int = 0  # the notebook prints when step % log_every == log_phase
    prints_intro: bool = True  # whether this notebook cell prints the demo's lines before training
    # θ₀ for a seed when this notebook starts elsewhere than the demo's own draw (nn.Linear's init)
    init: Callable[[int], np.ndarray] | None = None
    cell: PrintedCell | None = None  # what the notebook printed; None where it printed nothing
    start: Callable[[], np.ndarray] | None = None  # the notebook's own θ₀, computed from what it printed
    data: Callable[[], np.ndarray] | None = None   # the notebook's own y, where it printed them
    # the lines printed before training, where this cell prints its own: (θ₀, data, loss scale s) -> lines
    intro: Callable[[np.ndarray, "Dataset", float], list[str]] | None = None
    start_note: str = ""  # one line: where the notebook's start comes from, or why it cannot be had

    @property
    def printed_steps(self) -> list[int]:
        """The steps at which the notebook printed its loop's lines."""
        count = len(self.cell.loop) if self.cell is not None else 0
        return [self.log_phase + k * self.log_every for k in range(count)]


@dataclass(frozen=True)
class Sample:
    """What a seed draws: x, standard-normal noise draws z, and the initial parameters (float64)."""

    x: np.ndarray
    z: np.ndarray
    init: np.ndarray


@dataclass(frozen=True)
class FeaturesAt:
    """A problem's features at fixed x. An eager loop pays per step only for θᵢ·φᵢ and the sum (each
    φᵢ(x) is the same number predict() would recompute): 2–40 µs saved per operation in eager torch
    and TensorFlow."""

    values: tuple[Any, ...]   # φᵢ(x), or None for a constant feature
    offset: Any               # offset(x), or None

    def predict(self, params: Sequence[Any]) -> Any:
        """Σ θᵢ·φᵢ + offset, left to right in the notebook's order. A constant feature's term is its
        parameter as it stands: θ·1 is θ bit for bit, so the multiply is left out."""
        terms = [p if value is None else p * value for p, value in zip(params, self.values)]
        if self.offset is not None:
            terms.insert(0, self.offset)
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total


@dataclass(frozen=True)
class PageHints:
    """How a demo's page shows it, beside the shared charts: pure data that the pages read, so a new
    demo needs no branch in ui/. Its page is ``app_pages/<id with underscores>.py`` at ``/<id>``."""

    icon: str = "show_chart"  # a Material Symbols name, for the navigation and the home page's link
    # the two parameters the landscape slices by default: the pair whose valley the lesson is about
    landscape_axes: tuple[int, int] = (0, 1)
    # how the page shows ``derived`` values: "before-after" (from θ₀ to the step shown), "versus-truth"
    # (beside the values the true parameters give), or "" (not at all)
    readout: Literal["", "before-after", "versus-truth"] = ""
    record_panels: bool = False  # one small fit per printed record, titled by ``derived`` (the notebook's plots)


@dataclass(frozen=True)
class Problem:
    id: str
    title: str
    teaches: str
    seed_files: tuple[str, ...]
    notebook_frameworks: tuple[str, ...]
    param_names: tuple[str, ...]
    features: tuple[Feature, ...]
    offset: Feature | None
    formula_code: str
    formula_latex: str
    data_latex: str
    true_params: tuple[float, ...] | None
    default_points: int
    points_range: tuple[int, int]
    default_noise: float
    rng: str  # "numpy" or "torch": whose generator the notebook seeded
    variants: tuple[NotebookVariant, ...]
    sample: Callable[[int, int, float], Sample]
    truth: Callable[[np.ndarray], np.ndarray]
    target: Callable[[np.ndarray, np.ndarray, float], np.ndarray]
    # (step, loss, mean squared error, θ after the step) -> the line the notebook printed
    log_line: Callable[[int, float, float, np.ndarray], str]
    intro_lines: Callable[[np.ndarray], list[str]] = field(default=lambda params: [])
    final_lines: Callable[[np.ndarray], list[str]] = field(default=lambda params: [])
    derived: Callable[[np.ndarray], dict[str, float]] = field(default=lambda params: {})
    page: PageHints = PageHints()
    # whether its points may grow on an accelerator (config.ACCELERATED_MAX_POINTS): a demo about many
    # points; the others are about their few
    grows_on_accelerator: bool = False
    # What a problem built at run time came from (a fitcore.custom.CustomSource); None for the demos.
    source: Any = None

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    @property
    def model(self) -> "Model":
        """The prediction formula as a cache key for compiled code (which depends on nothing else)."""
        key = (self.id, self.formula_code, *(f.code for f in self.features),
               self.offset.code if self.offset is not None else "")
        return Model(key, self)

    @property
    def default_variant(self) -> NotebookVariant:
        return self.variants[0]

    def variant(self, key: str) -> NotebookVariant:
        for variant in self.variants:
            if variant.key == key:
                return variant
        raise KeyError(f"{self.id} has no notebook variant {key!r}")

    def predict(self, x: Any, params: Sequence[Any]) -> Any:
        """Σ θᵢ·φᵢ(x) + offset(x), summed left to right in the notebook's order."""
        return self.features_at(x).predict(params)

    def features_at(self, x: Any) -> "FeaturesAt":
        """The features evaluated once at these x, for a loop that predicts at the same x every step."""
        return FeaturesAt(tuple(None if f.is_constant else f.fn(x) for f in self.features),
                          self.offset.fn(x) if self.offset is not None else None)

    def design(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The design matrix Φ (points × params) and the offset vector, in x's dtype."""
        columns = [np.broadcast_to(np.asarray(f.fn(x), dtype=x.dtype), x.shape) for f in self.features]
        offset = self.offset.fn(x) if self.offset is not None else np.zeros_like(x)
        return np.stack(columns, axis=1).astype(x.dtype), np.asarray(offset, dtype=x.dtype)


@dataclass(frozen=True)
class Model:
    """A problem's formula, hashable by its code alone: compiled chunks are cached per model, and two
    problems with the same features share them (the problem rides along, outside the comparison)."""

    key: tuple[str, ...]
    problem: Problem = field(compare=False, repr=False)


def _torch_style_vector(params: np.ndarray) -> str:
    cells = [f"{float(v):.4f}" for v in params]
    width = max(len(c) for c in cells)
    return "tensor([" + ", ".join(c.rjust(width) for c in cells) + "], requires_grad=True)"


def _float32_repr(value: float) -> str:
    # torch's loss.item() is a float32 turned into a Python float: print it the same way.
    return repr(float(np.float32(value)))


# --- quadratic bias (seed 000) -----------------------------------------------------------

def _quadratic_bias_sample(seed: int, points: int, noise: float) -> Sample:
    rng = np.random.RandomState(seed)
    x = rng.uniform(-10, 10, points).astype(np.float32).astype(np.float64)
    z = rng.standard_normal(points) if noise > 0 else np.zeros(points)
    return Sample(x=x, z=z, init=np.array([0.0]))


def _quadratic_bias_target(x: np.ndarray, z: np.ndarray, noise: float) -> np.ndarray:
    y = x**2 + 5.0
    return y + (noise * z).astype(x.dtype) if noise > 0 else y


_S000_NOTE = ("Seed 000 shows its code but none of its output, so there is nothing to check: the data are its "
              "np.random.seed(0) draw and the bias starts at 0.0, as its code says.")

QUADRATIC_BIAS = Problem(
    id="quadratic-bias",
    title="Quadratic bias",
    teaches="Gradient descent on a single number: recover the bias of y = x² + 5 and watch "
    "float32 stall a hair below 5.",
    seed_files=("000_4ee5308108e1f69b.txt",),
    notebook_frameworks=("TensorFlow", "PyTorch"),
    param_names=("bias",),
    features=(CONSTANT,),
    offset=X2,
    formula_code="x**2 + bias",
    formula_latex=r"\hat y = x^2 + \text{bias}",
    data_latex=r"y = x^2 + 5,\; x \sim U(-10, 10)",
    true_params=(5.0,),
    default_points=50,
    points_range=(1, 100_000),
    default_noise=0.0,
    rng="numpy",
    variants=(
        NotebookVariant("tensorflow", "TensorFlow notebook (GradientTape + Keras SGD)", "000_4ee5308108e1f69b.txt",
                        {"impl": "tf-tape", "optimizer": "sgd", "lr": 0.01, "steps": 2000, "reduction": "mean",
                         "dtype": "float32"}, log_every=200, start_note=_S000_NOTE),
        NotebookVariant("pytorch", "PyTorch notebook (torch.optim.SGD)", "000_4ee5308108e1f69b.txt",
                        {"impl": "torch-nn", "optimizer": "sgd", "lr": 0.01, "steps": 2000, "reduction": "mean",
                         "dtype": "float32"}, log_every=200, start_note=_S000_NOTE),
    ),
    sample=_quadratic_bias_sample,
    truth=lambda x: x**2 + 5.0,
    target=_quadratic_bias_target,
    log_line=lambda t, loss, mse, p: f"Step {t}, Loss: {loss:.4f}, Bias: {p[0]:.4f}",
    final_lines=lambda p: [f"Training complete, fitted bias ≈ {p[0]:.4f}, true bias = 5.0"],
    page=PageHints(icon="my_location"),
)


# --- linear 2x (seed 001) ----------------------------------------------------------------

def _linear_sample(seed: int, points: int, noise: float) -> Sample:
    x = np.arange(1, points + 1, dtype=np.float64)
    z = np.random.RandomState(seed).standard_normal(points) if noise > 0 else np.zeros(points)
    return Sample(x=x, z=z, init=np.array([0.0]))


def _linear_target(x: np.ndarray, z: np.ndarray, noise: float) -> np.ndarray:
    y = 2 * x
    return y + (noise * z).astype(x.dtype) if noise > 0 else y


_S001_NOTE = "Seed 001's data and start are in its code: x = 1, 2, 3, 4, y = 2x, w = 0.0."

LINEAR_2X = Problem(
    id="linear-2x",
    title="Linear 2x",
    teaches="One weight, four points, y = 2x: why the NumPy notebook's w jumps to 1.2 in one step "
    "(it sums the gradient) while PyTorch's moves to 0.3 (it averages).",
    seed_files=("001_4c9403ac5eb60673.txt",),
    notebook_frameworks=("NumPy", "PyTorch"),
    param_names=("w",),
    features=(X,),
    offset=None,
    formula_code="w * x",
    formula_latex=r"\hat y = w\,x",
    data_latex=r"y = 2x,\; x = 1, 2, 3, 4",
    true_params=(2.0,),
    default_points=4,
    points_range=(1, 1000),
    default_noise=0.0,
    rng="numpy",
    variants=(
        NotebookVariant("numpy", "NumPy notebook (hand-written gradient, summed)", "001_4c9403ac5eb60673.txt",
                        {"impl": "numpy", "optimizer": "sgd", "lr": 0.01, "steps": 20, "reduction": "sum",
                         "dtype": "float32"}, log_every=2, cell=printed.LINEAR_NUMPY, start_note=_S001_NOTE),
        NotebookVariant("pytorch", "PyTorch notebook (autograd, mean loss)", "001_4c9403ac5eb60673.txt",
                        {"impl": "torch-autograd", "optimizer": "sgd", "lr": 0.01, "steps": 100,
                         "reduction": "mean", "dtype": "float32"}, log_every=10, prints_intro=False,
                        cell=printed.LINEAR_PYTORCH, start_note=_S001_NOTE),
    ),
    sample=_linear_sample,
    truth=lambda x: 2 * x,
    target=_linear_target,
    log_line=lambda t, loss, mse, p: f"Epoch {t + 1}: w = {p[0]:.3f}, loss = {mse:.8f}",
    intro_lines=lambda p: [f"Prediction before training: f(5) = {5 * p[0]:.3f}"],
    final_lines=lambda p: [f"Prediction after training: f(5) = {5 * p[0]:.3f}"],
    derived=lambda p: {"f(5)": 5 * float(p[0])},
    page=PageHints(icon="straighten", readout="before-after"),
)


# --- quadratic recovery (seed 002) -------------------------------------------------------

RECOVERY_D, RECOVERY_E = 0.75, 9.5


def _recovery_sample(seed: int, points: int, noise: float) -> Sample:
    # The notebook draws the noise first, then the parameters, from one torch stream.
    stream = TorchRandn(seed)
    z = stream.randn(points)
    return Sample(x=np.arange(points, dtype=np.float64), z=z, init=stream.randn(3))


def _recovery_target(x: np.ndarray, z: np.ndarray, noise: float) -> np.ndarray:
    noise_term = (1 + z.astype(x.dtype) * x.dtype.type(noise)).astype(x.dtype)
    return RECOVERY_D * (x - RECOVERY_E) ** 2 + noise_term


def _recovery_derived(p: np.ndarray) -> dict[str, float]:
    a, b = float(p[0]), float(p[1])
    return {"d̂": a, "ê": -b / (2 * a) if a != 0 else math.nan}


def _recovery_start() -> np.ndarray:
    x = np.arange(len(printed.RECOVERY_YHAT), dtype=np.float64)
    return start_from_predictions(np.stack([x**2, x, np.ones_like(x)], axis=1), np.array(printed.RECOVERY_YHAT))


def _recovery_printed_y() -> np.ndarray:
    return np.array(printed.RECOVERY_Y, dtype=np.float64)


def _recovery_intro(params: np.ndarray, data: "Dataset", scale: float) -> list[str]:
    # The notebook's `loss` and `params.grad` cells, printed before its first step: s·Σr² and 2s·Φᵀr.
    features, target = data.features.astype(np.float64), (data.y - data.offset).astype(np.float64)
    residual = features @ np.asarray(params, dtype=np.float64) - target
    backward = "MeanBackward0" if scale != 1 else "SumBackward0"
    gradient = ", ".join(f"{g:.4f}" for g in 2 * scale * (features.T @ residual))
    return [f"tensor({scale * (residual @ residual):.4f}, grad_fn=<{backward}>)", f"tensor([{gradient}])"]


QUADRATIC_RECOVERY = Problem(
    id="quadratic-recovery",
    title="Quadratic recovery",
    teaches="Fit a·x² + b·x + c to noisy points and read off d̂ = a and ê = −b/2a: a million "
    "steps and the slowest eigen-direction has still not arrived.",
    seed_files=("002_74e8b9560e6de183.txt",),
    notebook_frameworks=("PyTorch",),
    param_names=("a", "b", "c"),
    features=(X2, X, CONSTANT),
    offset=None,
    formula_code="a*(x**2) + b*x + c",
    formula_latex=r"\hat y = a x^2 + b x + c",
    data_latex=r"y = 0.75\,(x - 9.5)^2 + 1 + 3\varepsilon,\; x = 0..19",
    true_params=(RECOVERY_D, -2 * RECOVERY_D * RECOVERY_E, RECOVERY_D * RECOVERY_E**2 + 1),
    default_points=20,
    points_range=(3, 1000),
    default_noise=3.0,
    rng="torch",
    variants=(
        # One step by hand, then learner(1000000, 100000, 1e-5): 1,000,001 updates, and the learner's
        # step i (printed when i % 100000 == 0) is this run's step i + 1.
        NotebookVariant("pytorch", "PyTorch notebook (one step by hand, then 1,000,000 steps)",
                        "002_74e8b9560e6de183.txt",
                        {"impl": "torch-autograd", "optimizer": "sgd", "lr": 1e-5, "steps": 1_000_001,
                         "reduction": "mean", "dtype": "float32"}, log_every=100_000, log_phase=1,
                        cell=printed.RECOVERY_LEARNER, start=_recovery_start, data=_recovery_printed_y,
                        intro=_recovery_intro,
                        start_note="The notebook's own data are its printed y (4 decimals); its start is the "
                                   "a·x² + b·x + c that best fits its 20 printed predictions ŷ."),
    ),
    sample=_recovery_sample,
    truth=lambda x: RECOVERY_D * (x - RECOVERY_E) ** 2 + 1,
    target=_recovery_target,
    log_line=lambda t, loss, mse, p: f"{_float32_repr(loss)} {_torch_style_vector(p)}",
    derived=_recovery_derived,
    page=PageHints(icon="explore", readout="versus-truth", record_panels=True),
)


# --- sine cubic (seeds 003 and 004) ------------------------------------------------------

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


def _using_cpu(params: np.ndarray, data: "Dataset", scale: float) -> list[str]:
    return ["Using cpu device"]  # seed 003's PyTorch cell names its device before training


def _sine_start_line(params: np.ndarray, data: "Dataset", scale: float) -> list[str]:
    # Seed 004's print(f'a = {a}, b = {b}, c = {c}, d = {d}') before its loop.
    return [", ".join(f"{name} = {float(value)!r}" for name, value in zip("abcd", params))]


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
    # b against d: x and x³ rise almost in step on [−π, π], so this slice is the long, narrow valley
    page=PageHints(icon="airwave", landscape_axes=(1, 3)),
    grows_on_accelerator=True,
)

PROBLEMS: Mapping[str, Problem] = {p.id: p for p in (QUADRATIC_BIAS, LINEAR_2X, QUADRATIC_RECOVERY, SINE_CUBIC)}


def get_problem(problem_id: str) -> Problem:
    try:
        return PROBLEMS[problem_id]
    except KeyError:
        raise KeyError(f"unknown demo {problem_id!r}; choose one of {', '.join(PROBLEMS)}") from None


@dataclass(frozen=True)
class Dataset:
    """The data one run trains on, in the run's dtype, plus the problem it came from."""

    problem: Problem
    x: np.ndarray
    y: np.ndarray
    init: np.ndarray
    features: np.ndarray  # Φ, points × params
    offset: np.ndarray

    @property
    def dtype(self) -> np.dtype:
        return self.x.dtype

    def as_float64(self) -> "Dataset":
        if self.dtype == np.float64:
            return self
        return Dataset(self.problem, self.x.astype(np.float64), self.y.astype(np.float64),
                       self.init.astype(np.float64), self.features.astype(np.float64),
                       self.offset.astype(np.float64))


def make_dataset(problem: Problem, seed: int | None, points: int, noise: float, dtype: str,
                 variant: NotebookVariant | None = None) -> Dataset:
    """Draw the problem's data for one seed in the run's dtype (float32 is what the notebooks use).

    ``seed=None`` asks for the notebook's own data and start: the variant's printed ``data`` and
    rebuilt ``start`` where it has them, and the seed-0 draw (the notebooks' ``np.random.seed(0)``, or
    data with no randomness at all) for the rest. With a seed, a variant with its own starting rule
    (``variant.init``, nn.Linear's initialisation) replaces the drawn θ₀.
    """
    np_dtype = np.dtype(dtype)
    own = seed is None and variant is not None
    sample = problem.sample(0 if seed is None else seed, points, noise)
    x = sample.x.astype(np_dtype)
    if own and variant.data is not None:
        y = variant.data().astype(np_dtype)
    else:
        y = np.asarray(problem.target(x, sample.z, noise), dtype=np_dtype)
    features, offset = problem.design(x)
    if own and variant.start is not None:
        init = variant.start()
    elif variant is not None and variant.init is not None:
        init = variant.init(0 if seed is None else seed)
    else:
        init = sample.init
    return Dataset(problem, x, y, np.asarray(init, dtype=np.float64).astype(np_dtype), features, offset)
