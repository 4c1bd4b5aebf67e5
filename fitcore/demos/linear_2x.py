"""Linear 2x (seed 001): one weight, four points, and why summing the gradient jumps where the mean steps."""
from __future__ import annotations

import numpy as np

from .. import notebook_prints as printed
from ..demo import X, Lesson, NotebookVariant, PageHints, Problem, Sample, ScriptParts


def _linear_sample(seed: int, points: int, noise: float) -> Sample:
    x = np.arange(1, points + 1, dtype=np.float64)
    z = np.random.RandomState(seed).standard_normal(points) if noise > 0 else np.zeros(points)
    return Sample(x=x, z=z, init=np.array([0.0]))


def _linear_target(x: np.ndarray, z: np.ndarray, noise: float) -> np.ndarray:
    y = 2 * x
    return y + (noise * z).astype(x.dtype) if noise > 0 else y


_S001_NOTE = "Seed 001's data and start are in its code: x = 1, 2, 3, 4, y = 2x, w = 0.0."


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "sum", "Mean vs sum: why the NumPy notebook's w jumps to 1.2",
        "The notebook's gradient `np.dot(2*x, y_pred - y).mean()` is a sum over the four points (np.dot already "
        "returns a number), so the first step is 0.01 × 2 × (1·2 + 2·4 + 3·6 + 4·8) = 1.2. Look at the first "
        "printed line and the parameter chart: w = 1.200, then 1.680, 1.872.",
        "What learning rate would make the summed loss take exactly the steps of the mean loss at lr 0.01?",
        "The sum is N = 4 times the mean, so its gradient is 4 times larger: lr 0.0025 with the sum moves w to "
        "0.3 first, as PyTorch's mean loss does at 0.01.",
        "completed", {"impl": "numpy", "reduction": "sum", "lr": 0.01, "steps": 20}, "numpy"),
    Lesson(
        "mean", "The same step with the mean: w moves to 0.3",
        "PyTorch's notebook averages the squared errors, so every gradient is a quarter of the NumPy one and the "
        "first step takes w to 0.300. The loss falls by the factor 0.85² per step instead of 0.4², so it needs about "
        "100 steps for what the summed loss does in 20.",
        "Which one is right, the mean or the sum?",
        "Both: they have the same minimum (w = 2) and differ only by the factor N. The learning rate absorbs "
        "that factor, which is why a rate tuned for one loss is wrong for the other.",
        "completed", {"impl": "numpy", "reduction": "mean", "lr": 0.01, "steps": 100}, "pytorch"),
    Lesson(
        "too-small", "Learning rate too small",
        "With the mean loss and lr 0.001, each step closes only 1.5 % of the gap to w = 2. After 100 steps w is "
        "1.56 and the prediction f(5) is 7.79 instead of 10.",
        "How many steps at this rate would bring f(5) within 0.01 of 10?",
        "The gap 2 − w shrinks by 0.985 per step; f(5) is within 0.01 when the gap is under 0.002, after "
        "ln(1000)/0.015 ≈ 460 steps.",
        "completed", {"impl": "numpy", "reduction": "mean", "lr": 0.001, "steps": 100}, "pytorch"),
    Lesson(
        "oscillating", "Oscillating: w overshoots 2",
        "With the summed loss (curvature λ = 60) lr 0.03 moves w 1.8 times the gap: 0 → 3.6 → 0.72 → 3.02. The "
        "parameter chart zig-zags around 2, closer each time, and the loss still falls.",
        "Which learning rate would land on w = 2 in one step?",
        "lr = 1/λ = 1/60 ≈ 0.0167 with the summed loss (1/15 with the mean).",
        "completed", {"impl": "numpy", "reduction": "sum", "lr": 0.03, "steps": 40}, "numpy"),
    Lesson(
        "diverging", "Diverging: just past 2/λ",
        "lr 0.04 is above 2/λ = 0.0333 for the summed loss: the gap is multiplied by −1.4 each step, so w "
        "swings 4.8, −1.92, 7.49 and out. The run stops at step 28, when the loss passes 10⁸ times its start.",
        "The PyTorch notebook uses the mean loss: would lr 0.04 diverge there?",
        "No: the mean loss has λ = 15, so its limit 2/λ is 0.133 and lr 0.04 converges without even "
        "oscillating (it is below 1/λ = 0.067).",
        "diverged", {"impl": "numpy", "reduction": "sum", "lr": 0.04, "steps": 60}, "numpy"),
)

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
    script=ScriptParts("parts/data/linear-2x.jinja", "parts/printers/linear-2x.jinja"),
    lessons=LESSONS,
    page=PageHints(icon="straighten", readout="before-after", by_hand=True),
)
