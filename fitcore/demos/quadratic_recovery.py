"""Quadratic recovery (seed 002): fit a·x² + b·x + c and read off d̂ = a and ê = −b/2a, where a million steps
are still not enough."""
from __future__ import annotations

import math

import numpy as np

from .. import notebook_prints as printed
from ..demo import CONSTANT, SEED_0, X, X2, Dataset, Lesson, NotebookVariant, PageHints, Problem, Sample, ScriptParts
from ..notebook_starts import start_from_predictions
from ..torch_rng import TorchRandn


RECOVERY_D, RECOVERY_E = 0.75, 9.5


def _torch_style_vector(params: np.ndarray) -> str:
    cells = [f"{float(v):.4f}" for v in params]
    width = max(len(c) for c in cells)
    return "tensor([" + ", ".join(c.rjust(width) for c in cells) + "], requires_grad=True)"


def _float32_repr(value: float) -> str:
    # torch's loss.item() is a float32 turned into a Python float: print it the same way.
    return repr(float(np.float32(value)))


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


def _recovery_intro(params: np.ndarray, data: Dataset, scale: float) -> list[str]:
    # The notebook's `loss` and `params.grad` cells, printed before its first step: s·Σr² and 2s·Φᵀr.
    features, target = data.features.astype(np.float64), (data.y - data.offset).astype(np.float64)
    residual = features @ np.asarray(params, dtype=np.float64) - target
    backward = "MeanBackward0" if scale != 1 else "SumBackward0"
    gradient = ", ".join(f"{g:.4f}" for g in 2 * scale * (features.T @ residual))
    return [f"tensor({scale * (residual @ residual):.4f}, grad_fn=<{backward}>)", f"tensor([{gradient}])"]


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "slowest-direction", "Why 1,000,000 steps are still not enough",
        "The loss curves 56,499 in its steepest eigen-direction and 0.26 in its flattest, so lr 1e-5 (safe for the "
        "steep one) shrinks the flat one by only 1 − 2.6e-6 per step. After a million exact steps 7.5 % of that "
        "error is left: the loss is 9.10 against the optimum 5.92, and ê reads 9.14 instead of 9.29.",
        "How many steps would this rate need to bring the flat direction's error under 0.1 %?",
        "(1 − 1e-5 × 0.2586)ᵗ < 0.001 needs t > ln(1000)/2.586e-6 ≈ 2.7 million steps. The condition number "
        "λmax/λmin ≈ 218,000 is what makes plain gradient descent slow here.",
        "completed", {"impl": "analytic", "dtype": "float64", "lr": 1e-5, "steps": 1_000_000, **SEED_0}),
    Lesson(
        "momentum", "Momentum on the ill-conditioned quadratic",
        "Heavy-ball momentum with μ = 0.9 lets the flat direction build up speed: 100,000 steps end at a loss of "
        "9.0995, where plain SGD is after 1,000,000 (9.1021). Compare the loss curve's shape with the previous "
        "lesson's.",
        "Why exactly ten times faster?",
        "In a direction where lr·λ is tiny, the velocity settles at g/(1 − μ), so each step moves 1/(1 − μ) = 10 "
        "times as far as SGD's. The steep direction is not sped up: it was already fast.",
        "completed", {"impl": "analytic", "dtype": "float64", "optimizer": "momentum", "lr": 1e-5,
                      "steps": 100_000, **SEED_0}),
    Lesson(
        "edge", "As fast as plain SGD can go: just under 2/λmax",
        "lr 3.5e-5 is 99 % of 2/λmax = 3.54e-5: the steep direction now flips sign every step and barely shrinks, "
        "but the flat one moves 3.5 times faster than at 1e-5. After a million steps the loss is 5.921045, "
        "within 1e-5 of the optimum.",
        "Why can plain SGD not simply use a larger rate for the flat direction?",
        "One rate serves every direction. Above 2/λmax the steep direction's factor 1 − lr·λmax falls below −1 "
        "and the run diverges, however slow the flat one still is.",
        "completed", {"impl": "analytic", "dtype": "float64", "lr": 3.5e-5, "steps": 1_000_000, **SEED_0}),
    Lesson(
        "diverging", "Diverging: past 2/λmax",
        "lr 4e-5 is 13 % above 2/λmax: the steep direction is multiplied by 1 − 4e-5 × 56,499 = −1.26 each step. "
        "The run stops at step 40, when the loss passes 10⁸ times its starting 36,827.",
        "Which parameter blows up first, and why that one?",
        "Mostly a: the steep direction is almost along the x² coefficient, because x² reaches 361 where x reaches "
        "19. The other two directions are still shrinking when the run stops.",
        "diverged", {"impl": "analytic", "dtype": "float64", "lr": 4e-5, "steps": 2000, **SEED_0}),
    Lesson(
        "adam", "Adam ignores the conditioning",
        "Adam divides each coefficient's step by the running size of its own gradient, so a, b and c all move about "
        "lr per step whatever their curvature. At lr 0.1 the loss reaches the least-squares 5.92 by step 3,400, "
        "where plain SGD needs millions of steps.",
        "Set 20,000 steps and run again: why does the loss jump back up now and then?",
        "Near the optimum the gradients shrink and so do Adam's running averages m and v: m/√v stays about 1, "
        "so the steps stay about lr = 0.1 long. One such step along the steep direction (λ ≈ 56,500) throws the "
        "loss up until the averages catch up; float64 does the same.",
        "completed", {"impl": "numpy", "optimizer": "adam", "lr": 0.1, "steps": 5000, "dtype": "float32", **SEED_0}),
)

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
    script=ScriptParts("parts/data/quadratic-recovery.jinja", "parts/printers/quadratic-recovery.jinja"),
    lessons=LESSONS,
    page=PageHints(icon="explore", readout="versus-truth", record_panels=True, by_hand=True),
)
