"""Quadratic bias (seed 000): one number, the bias of y = x² + 5, and float32 stalling a hair below 5."""
from __future__ import annotations

import numpy as np

from ..demo import CONSTANT, X2, Lesson, NotebookVariant, PageHints, Problem, Sample, ScriptParts


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


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "too-small", "Learning rate too small",
        "Every step moves the bias by lr × 2 × (5 − bias), and at lr 0.0005 that is a tenth of a percent of the "
        "gap. After all 2,000 steps the bias stands at 4.32 and the loss chart is still sloping down.",
        "How many steps would this rate need to get the bias within 0.001 of 5?",
        "The gap shrinks by the factor 1 − 2·lr = 0.999 per step, so it takes ln(5/0.001)/0.001 ≈ 8,500 steps. "
        "Twenty times the rate (0.01, the notebook's) needs about 420.",
        "completed", {"impl": "numpy", "lr": 0.0005, "steps": 2000}),
    Lesson(
        "one-step", "Just right: one step to the answer",
        "The loss is (bias − 5)², whose curvature λ = 2 is the same everywhere, so lr = 1/λ = 0.5 cancels the "
        "whole gap at once. Look at the parameter chart: the bias is 5 after the first step and stays there (to "
        "five decimals: the float32 data round the last digits).",
        "Why does no learning rate do this for the 3- and 4-parameter demos?",
        "There the loss curves differently in each eigen-direction (λ from 0.26 to 56,500 in the quadratic "
        "recovery). One rate can be 1/λ for only one of them; the others are then too slow or overshoot.",
        "completed", {"impl": "numpy", "lr": 0.5, "steps": 20}),
    Lesson(
        "oscillating", "Oscillating: overshooting every step",
        "At lr 0.9 each step moves the bias 1.8 times the gap, so it jumps past 5 to 9, back to 1.8, then 7.56, "
        "each time a little closer. The parameter chart zig-zags around 5 while the loss still falls by the "
        "factor 0.64 per step.",
        "Between which two learning rates does the bias zig-zag but still converge?",
        "The gap is multiplied by 1 − 2·lr each step: it flips sign once lr > 1/λ = 0.5 and grows once "
        "lr > 2/λ = 1. So 0.5 < lr < 1 oscillates and converges.",
        "completed", {"impl": "numpy", "lr": 0.9, "steps": 100}),
    Lesson(
        "diverging", "Diverging: past 2/λ",
        "At lr 1.1 every step overshoots by more than it corrects: the gap is multiplied by −1.2 and the loss by "
        "1.44. The run stops at step 51, when the loss passes 10⁸ times where it started.",
        "What is the largest learning rate that does not diverge here, and where does it come from?",
        "2/λ = 1: with λ = 2 the gap's factor 1 − 2·lr reaches −1 at lr = 1. The divergence message and the "
        "Compare tab's sweep both mark it.",
        "diverged", {"impl": "numpy", "lr": 1.1, "steps": 300}),
    Lesson(
        "float32-stall", "float32 stalls a hair below 5",
        "This is the notebooks' own arithmetic: PyTorch (and TensorFlow) keep the bias in float32. Watch the bias "
        "panel stop about 1.2e-5 short of 5 and the loss flatten a little above 1e-10, while extra steps change "
        "nothing.",
        "Switch dtype to float64 and run again: why does that run reach 5?",
        "Each update moves the bias by 0.02 × (5 − bias). float32 numbers near 5 are 4.8e-7 apart, so once the "
        "update is under half that (a gap below about 1.2e-5) bias − update rounds back to the bias. float64's "
        "spacing near 5 is 8.9e-16.",
        "completed", {"impl": "torch-autograd", "lr": 0.01, "steps": 2000, "dtype": "float32"}, "pytorch",
        # NumPy keeps θ in float64, as the notebooks' Python floats do: only the frameworks' float32 θ stalls
        ("torch-manual", "torch-autograd", "torch-nn", "tf-tape")),
)

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
    script=ScriptParts("parts/data/quadratic-bias.jinja", "parts/printers/quadratic-bias.jinja"),
    lessons=LESSONS,
    page=PageHints(icon="my_location", by_hand=True),
)
