"""Lessons for "Your own data": why raw powers of x make gradient descent crawl, and what helps.

Pure data, in the shape of ``fitcore.demo.Lesson``: each lesson's settings include its data
source (``custom``), so ``lesson_config(lesson, "custom")`` is the whole run. All four fit a degree-6
polynomial to y = 0.5·x³ − sin 2x on [0, 4] with noise 0.1 and finish in about a second on NumPy;
the tests hold every number quoted here to the runs, on every implementation and from a start nudged
by one unit in the last place. Adam on raw x is chaotic after its first spike (near step 1,600, the
implementations agree to 15 digits before it and only to about 2 after): that lesson quotes the run
up to the spike and the spike itself, not how the run ends.
"""
from __future__ import annotations

from .custom import CustomSource
from .demo import Lesson

TARGET = "0.5*x**3 - sin(2*x)"
RAW = CustomSource("function", degree=6, standardise=False, expression=TARGET, x_min=0.0, x_max=4.0)
STANDARDISED = RAW.replace(standardise=True)
COMMON = {"impl": "numpy", "reduction": "mean", "dtype": "float64", "points": 200, "noise": 0.1, "seed": 0}

CUSTOM_LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "raw-crawls", "Raw x⁶ crawls",
        "On [0, 4] the column x⁶ reaches 4,096 while the constant column is 1, and x⁴, x⁵, x⁶ rise almost in "
        "step: λmax/λmin is 3.3 × 10¹⁰. The largest stable rate is 2/λmax = 7.0e-7; at 6.3e-7 the loss falls "
        "from 145 to 1.09 in 5,000 steps and then barely moves, more than a hundred times the least-squares "
        "0.0094.",
        "At this rate, how many steps would the flattest direction need to shrink tenfold?",
        "It shrinks by 1 − ηλmin ≈ 1 − 5.4 × 10⁻¹¹ per step: about 4 × 10¹⁰ steps per tenfold. The data panel's "
        "estimate at η = 1/λmax says 7.7 × 10¹⁰.",
        "completed", {**COMMON, "custom": RAW, "optimizer": "sgd", "lr": 6.3e-7, "steps": 5000}),
    Lesson(
        "raw-diverges", "A hair past 2/λmax diverges",
        "The same raw fit at lr 1e-6, just over 2/λmax = 7.0e-7: the steepest direction, almost all x⁶, is "
        "multiplied by 1 − 1e-6 × 2.86 × 10⁶ ≈ −1.9 each step. The run stops at step 14.",
        "Why is the stable rate so tiny when every other direction would take rates thousands of times larger?",
        "One learning rate serves every direction, and the steepest one (λmax = 2.9 × 10⁶, from x⁶'s size) "
        "caps it. The flat directions would need rates around 1/λmin ≈ 10⁴.",
        "diverged", {**COMMON, "custom": RAW, "optimizer": "sgd", "lr": 1e-6, "steps": 5000}),
    Lesson(
        "standardised", "Standardise x: the same fit, conditioned",
        "Now the features are powers of z = (x − 2)/1.155, which stays within ±1.73: λmax/λmin drops to 9,900 "
        "and the stable rate rises to 0.014. At lr 0.013 the loss reaches 0.0094, the least-squares optimum, "
        "within 10,000 steps.",
        "The fitted curve is the same polynomial as the raw fit's optimum: why are the coefficients w so "
        "different?",
        "They are coefficients of powers of z, not of x: expanding (x − 2)ᵏ/1.155ᵏ turns them back into the raw "
        "ones. Same model, better-shaped loss.",
        "completed", {**COMMON, "custom": STANDARDISED, "optimizer": "sgd", "lr": 0.013, "steps": 10000}),
    Lesson(
        "adam-raw", "Adam on raw x: fast, then a spike",
        "Adam divides each coordinate's step by that coordinate's own gradient size, which undoes the raw "
        "columns' different scales: at lr 0.01 the loss falls from 145 to 0.18 by step 1,500, six times lower "
        "than SGD reaches in 5,000 steps. Then, near step 1,600, watch the loss jump more than tenfold and fall "
        "back within about a hundred steps.",
        "Why does the loss jump, and why does the height of the jump differ between NumPy, PyTorch and "
        "TensorFlow?",
        "Rescaling each coordinate removes differences of size, not the near-parallel columns: x⁴, x⁵ and x⁶ "
        "still point almost the same way, so some directions stay flat. There the gradient is tiny, Adam's "
        "running size √v shrinks with it and the steps stay about lr long, until one overshoots a steep "
        "direction and the loss jumps while v catches up. A jump amplifies last-bit rounding: every "
        "implementation jumps near step 1,600, but how high (3 to 10 here) and when the later jumps come differ "
        "from one to another, so a longer run ends somewhere different on each. Standardising the features "
        "changes the directions themselves.",
        "completed", {**COMMON, "custom": RAW, "optimizer": "adam", "lr": 0.01, "steps": 2000}),
)


def custom_lessons() -> tuple[Lesson, ...]:
    """The lessons of the "Your own data" page, in the order a presenter walks through them."""
    return CUSTOM_LESSONS

