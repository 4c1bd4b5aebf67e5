"""Guided lessons: presets a presenter loads with one click, each with what to look at and a question.

Pure data. A lesson's settings override its notebook's (``RunConfig.notebook``), so loading one
sets every setting; each runs on NumPy or the closed form (one on PyTorch, for float32's own
arithmetic) and finishes in about a second. ``promise`` is how the run ends. Every number a lesson
quotes holds on every implementation that runs its settings (or on those ``holds_on`` names) and from a
start nudged by one unit in the last place: the tests run each lesson so, and quote nothing that
depends on last-bit rounding (where a run is chaotic, the lesson says so and quotes what survives).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .config import RunConfig

PROMISES = ("completed", "diverged")
# The lessons whose numbers were measured on fresh data from seed 0 (the notebook's own start differs in
# quadratic recovery and the sine fit); loading one switches the page to that data.
SEED_0 = {"seed": 0}


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    look: str                       # two sentences: what to look at
    question: str                   # something to think about before the answer
    answer: str                     # for the presenter
    promise: str                    # how the run ends: completed or diverged
    settings: Mapping[str, Any] = field(default_factory=dict)  # RunConfig fields over the notebook's
    variant: str | None = None      # which notebook's settings it starts from (the demo's first if None)
    # The implementations whose arithmetic the lesson is about; empty: every one that runs its settings.
    holds_on: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.promise not in PROMISES:
            raise ValueError(f"a lesson promises one of {PROMISES}, not {self.promise!r}")

    def config(self, problem_id: str) -> RunConfig:
        """Every setting of this lesson's run."""
        return RunConfig.notebook(problem_id, self.variant, **self.settings)


QUADRATIC_BIAS = (
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

LINEAR_2X = (
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

QUADRATIC_RECOVERY = (
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

SINE_CUBIC = (
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

LESSONS: Mapping[str, tuple[Lesson, ...]] = {
    "quadratic-bias": QUADRATIC_BIAS,
    "linear-2x": LINEAR_2X,
    "quadratic-recovery": QUADRATIC_RECOVERY,
    "sine-cubic": SINE_CUBIC,
}


def lessons_for(problem_id: str) -> tuple[Lesson, ...]:
    """The lessons of one demo, in the order a presenter walks through them."""
    try:
        return LESSONS[problem_id]
    except KeyError:
        raise KeyError(f"no lessons for {problem_id!r}; demos with lessons: {', '.join(LESSONS)}") from None
