"""The challenges of each demo and of "Your own data": pure data over ``fitcore.challenges``.

Each runs a lesson's settings (or two runs side by side) and is judged from those runs; the
tests hold every judged answer on every implementation that runs the settings and from nudged starts.
"""
from __future__ import annotations

from typing import Mapping

from .challenges import (BEHAVIOURS, ONE_RUN, Challenge, Outcome, Setup, behaviour, converges_or_diverges, divergence_step,
                         final_param, furthest_behind, loss_band, lower_loss, steps_until_within)
from .custom import CUSTOM_ID
from .custom_lessons import CUSTOM_LESSONS
from .engine import Run
from .lessons import Lesson, lessons_for


def _lesson(problem_id: str, key: str) -> Lesson:
    lessons = CUSTOM_LESSONS if problem_id == CUSTOM_ID else lessons_for(problem_id)
    return next(lesson for lesson in lessons if lesson.key == key)


def _from(problem_id: str, key: str) -> tuple[Setup, ...]:
    return (Setup.of(_lesson(problem_id, key)),)


def _larger_w(runs: Mapping[str, Run]) -> Outcome:
    numpy_w, torch_w = (float(runs[label].current_params[0]) for label in ("numpy", "pytorch"))
    answer = "the same" if abs(numpy_w - torch_w) <= 1e-6 * max(abs(numpy_w), abs(torch_w)) else \
        ("NumPy's" if numpy_w > torch_w else "PyTorch's")
    return Outcome(answer, f"After one step NumPy's w is {numpy_w:.4f} and PyTorch's {torch_w:.4f}.")


def _reaches_optimum(runs: Mapping[str, Run]) -> Outcome:
    run = runs[ONE_RUN]
    gap = run.current_loss / run.quad.optimum_loss - 1
    return Outcome("yes" if gap <= 0.01 else "no",
                   f"The loss ended at {run.current_loss:.6g} after {run.step:,} steps, {gap:.2%} above the "
                   f"least-squares {run.quad.optimum_loss:.6g}.")


BIAS = "quadratic-bias"
QUADRATIC_BIAS = (
    Challenge(
        "bias-1.1", "At lr 1.1 the bias starts at 0 and its best value is 5. What does it do?",
        "Each step multiplies the gap 5 − bias by 1 − 2·lr. At lr 1.1 that factor is −1.2: the bias jumps past 5 "
        "by more than it was short, every step, so the gap and the loss grow until the run stops. Any rate "
        "above 2/λ = 1 does this here.",
        _from(BIAS, "diverging"), behaviour("the bias"), BEHAVIOURS, lesson="diverging"),
    Challenge(
        "bias-0.9", "At lr 0.9, what does the bias do on its way to 5?",
        "The factor 1 − 2·lr is −0.8: negative, so each step overshoots 5, but smaller than 1 in size, so each "
        "overshoot is shorter than the last. Rates between 1/λ = 0.5 and 2/λ = 1 zig-zag and converge; below "
        "0.5 the bias creeps up without passing 5.",
        _from(BIAS, "oscillating"), behaviour("the bias"), BEHAVIOURS, lesson="oscillating"),
    Challenge(
        "bias-0.0005", "At lr 0.0005 for 2,000 steps, where does the bias end (it starts at 0, the best is 5)?",
        "The gap shrinks by the factor 1 − 2·lr = 0.999 per step, so after 2,000 steps 0.999²⁰⁰⁰ ≈ 13.5 % of it "
        "is left: the bias is about 5 − 0.68. Small rates are safe but slow: the number of steps needed grows as "
        "1/lr.",
        _from(BIAS, "too-small"), final_param(0, "the bias"), tolerance=0.05, lesson="too-small"),
    Challenge(
        "bias-0.5", "At lr 0.5, how many steps until the bias is within 0.001 of 5?",
        "The loss (bias − 5)² has curvature λ = 2 everywhere, and lr = 1/λ = 0.5 makes the factor 1 − 2·lr zero: "
        "the first step closes the whole gap. This is Newton's method in one dimension; with more parameters "
        "one rate can do it for one eigen-direction only.",
        _from(BIAS, "one-step"), steps_until_within(0, "The bias", 0.001), lesson="one-step"),
)

LINEAR = "linear-2x"
LINEAR_2X = (
    Challenge(
        "first-step", "Both notebooks start from w = 0 at lr 0.01. After one step, whose w is larger?",
        "The NumPy notebook's gradient `np.dot(2*x, y_pred - y).mean()` is a sum over the four points (np.dot "
        "already returns one number), while PyTorch's loss is the mean. The sum's gradient is N = 4 times "
        "larger, so at the same rate NumPy's first step is four times as long: w = 1.2 against 0.3.",
        (Setup("numpy", {"impl": "numpy", "steps": 1}, "numpy"), Setup("pytorch", {"impl": "numpy", "steps": 1},
                                                                        "pytorch")),
        _larger_w, ("NumPy's", "PyTorch's", "the same")),
    Challenge(
        "sum-0.04", "With the summed loss at lr 0.04, what does w do on its way to 2?",
        "The summed loss has curvature λ = 2·Σx² = 60, so one step multiplies the gap 2 − w by 1 − 60·lr = −1.4: "
        "an overshoot larger than the gap, growing every step. The limit is 2/λ = 0.033. With the mean loss "
        "(λ = 15) the same rate would converge without even overshooting.",
        _from(LINEAR, "diverging"), behaviour("w"), BEHAVIOURS, lesson="diverging"),
    Challenge(
        "sum-0.03", "With the summed loss at lr 0.03, what does w do?",
        "1 − 60·lr = −0.8: each step overshoots 2 by 80 % of the previous gap, so w swings 3.6, 0.72, 3.02 and "
        "settles. Between 1/λ and 2/λ a rate zig-zags and still converges.",
        _from(LINEAR, "oscillating"), behaviour("w"), BEHAVIOURS, lesson="oscillating"),
    Challenge(
        "f5-0.001", "With the mean loss at lr 0.001 for 100 steps, what does the model predict for x = 5 "
        "(the right answer is 10)?",
        "Each step closes 15 · 0.001 = 1.5 % of the gap to w = 2, so after 100 steps 0.985¹⁰⁰ ≈ 22 % is left: "
        "w ≈ 1.56 and f(5) = 5·w ≈ 7.8. The notebook's rate 0.01 closes 15 % a step and gets there in 100.",
        _from(LINEAR, "too-small"), final_param(0, "w", scale=5.0, what="f(5) = 5·w"), tolerance=0.1,
        lesson="too-small"),
)

RECOVERY = "quadratic-recovery"
QUADRATIC_RECOVERY = (
    Challenge(
        "arrives-last", "After 1,000,000 steps at lr 1e-5, which coefficient is still furthest from its "
        "least-squares value?",
        "Every step shrinks each eigen-direction of the error by 1 − lr·λ. After a million steps only the "
        "flattest (λ = 0.26, factor 1 − 2.6e-6) has any error left, 7.5 % of it, and that direction is almost "
        "pure c (0.98, with −0.20 of b and 0.009 of a): x runs 0 to 19, so moving the parabola's level costs "
        "little loss. So c arrives last, then b; a, whose x² reaches 361, arrived long ago.",
        _from(RECOVERY, "slowest-direction"), furthest_behind("abc", "Distance from the least-squares values"),
        ("a", "b", "c"), lesson="slowest-direction"),
    Challenge(
        "blows-up-first", "At lr 4e-5 the run diverges. Which coefficient is furthest from its least-squares "
        "value when it stops?",
        "The steepest eigen-direction (λ = 56,499) is almost exactly a, because x² reaches 361 where x reaches "
        "19. At lr 4e-5 only that direction's factor 1 − lr·λ = −1.26 is past −1, so a swings wider each step "
        "while the other directions still shrink.",
        _from(RECOVERY, "diverging"), furthest_behind("abc", "Distance from the least-squares values"),
        ("a", "b", "c"), lesson="diverging"),
    Challenge(
        "momentum-or-more-steps", "Momentum (μ = 0.9) for 100,000 steps, or plain SGD for 1,000,000 steps at the "
        "same lr 1e-5: which ends at the lower loss?",
        "Where lr·λ is tiny, momentum's velocity settles at g/(1 − μ): ten times SGD's step. So 100,000 momentum "
        "steps go about as far along the flat direction as 1,000,000 SGD steps, and a little further (9.0995 "
        "against 9.1021), because momentum's first steps build speed along the flat direction sooner.",
        (Setup.of(_lesson(RECOVERY, "momentum"), "momentum"), Setup.of(_lesson(RECOVERY, "slowest-direction"), "sgd")),
        lower_loss({"momentum": "momentum, 100,000 steps", "sgd": "plain SGD, 1,000,000 steps"}),
        ("momentum, 100,000 steps", "plain SGD, 1,000,000 steps"), lesson="momentum"),
    Challenge(
        "edge", "lr 3.5e-5 is 99 % of the largest stable rate 2/λmax. Does the run converge or diverge?",
        "Below 2/λmax the steepest direction's factor 1 − lr·λmax is −0.98: it flips sign every step but shrinks "
        "a little, so the run converges, and the flat directions move 3.5 times as fast as at 1e-5. Stability "
        "has a sharp edge: at 4e-5 the same factor is −1.26.",
        _from(RECOVERY, "edge"), converges_or_diverges, ("converges", "diverges"), lesson="edge"),
)

SINE = "sine-cubic"
SINE_CUBIC = (
    Challenge(
        "notebook-2000", "Seed 003's notebook run: 2,000 steps at lr 1e-6 from a loss of about 110,000. Where does "
        "the loss end?",
        "The steep directions are gone within a hundred steps (loss ≈ 1,600), but the two flattest (λ ≈ 1,728 "
        "and 2,066, mostly a and b) shrink by only 0.998 per step: after 2,000 steps 3 % of their error is left, "
        "worth about 0.65 of loss above the least-squares 8.817.",
        _from(SINE, "notebook"), loss_band(((8.83, "at the optimum, 8.817"), (100.0, "about 9.5"),
                                            (float("inf"), "about 1,600"))),
        ("at the optimum, 8.817", "about 9.5", "about 1,600"), lesson="notebook"),
    Challenge(
        "diverges-at", "At lr 4e-6 the steepest direction is multiplied by −1.25 each step. At which step does the "
        "loss pass 10⁸ times its start (where the run stops)?",
        "The loss in that direction grows by 1.25² = 1.56 per step, so it passes 10⁸ after ln(10⁸)/ln(1.56) ≈ 41 "
        "steps; the other directions shrink meanwhile, which costs a step or so.",
        _from(SINE, "diverging"), divergence_step, tolerance=3.0, lesson="diverging"),
    Challenge(
        "mean-same-rate", "The same run with the mean loss instead of the sum (lr 1e-6, 2,000 steps) starts at a "
        "loss of 743. Where does it end?",
        "The mean is the sum divided by N = 2,000, so every gradient and every step is 2,000 times shorter: "
        "2,000 steps of it move as far as one step of the summed run. The loss falls to about 260 and the fit is "
        "still far from sin x.",
        _from(SINE, "mean"), loss_band(((10.0, "below 10"), (500.0, "between 10 and 500"),
                                        (float("inf"), "above 500"))),
        ("below 10", "between 10 and 500", "above 500"), lesson="mean"),
    Challenge(
        "momentum-or-sgd", "From the same start, 2,000 steps at lr 1e-6: which ends nearer the least-squares loss "
        "8.817165, heavy-ball momentum or plain SGD?",
        "Momentum moves the flat directions ten times as far per step (its velocity settles at g/(1 − μ)), so "
        "in 2,000 steps it does what plain SGD would need about 20,000 for. Both rates are far below their "
        "stability limits.",
        (Setup.of(_lesson(SINE, "momentum"), "momentum"),
         Setup.of(_lesson(SINE, "momentum"), "sgd", optimizer="sgd")),
        lower_loss({"momentum": "momentum", "sgd": "plain SGD"}, against=8.817165),
        ("momentum", "plain SGD"), lesson="momentum"),
)

CUSTOM_CHALLENGES = (
    Challenge(
        "raw-diverges-at", "The raw degree-6 fit at lr 1e-6: the steepest direction is multiplied by about −1.9 "
        "each step. At which step does the loss pass 10⁸ times its start?",
        "The loss in that direction grows by about 1.9² ≈ 3.6 per step, so 10⁸ takes ln(10⁸)/ln(3.6) ≈ 14.4 "
        "steps: the run stops at the 15th. x⁶ reaching 4,096 on [0, 4] is what makes that direction so steep.",
        _from(CUSTOM_ID, "raw-diverges"), divergence_step, tolerance=2.0, lesson="raw-diverges"),
    Challenge(
        "raw-crawls", "The raw fit at lr 6.3e-7 (just under the limit) for 5,000 steps starts at a loss of 145. "
        "Where does it end?",
        "The steep directions settle within a few hundred steps, but λmax/λmin is 3.3 × 10¹⁰: the flattest "
        "directions shrink by 1 − 5 × 10⁻¹¹ per step and hardly move. The loss stalls near 1, a hundred times "
        "the least-squares 0.0094.",
        _from(CUSTOM_ID, "raw-crawls"), loss_band(((0.02, "near the optimum, 0.0094"), (10.0, "about 1"),
                                                   (float("inf"), "above 10"))),
        ("near the optimum, 0.0094", "about 1", "above 10"), lesson="raw-crawls"),
    Challenge(
        "standardised", "Standardise x and fit again at lr 0.013 for 10,000 steps. Does the loss reach the "
        "least-squares optimum (within 1 %)?",
        "Powers of z = (x − 2)/1.155 stay within ±1.73, so λmax/λmin drops from 3.3 × 10¹⁰ to 9,900 and the "
        "stable rate rises 20,000-fold. The flattest direction now shrinks by 1 − 0.013·λmin per step, fast "
        "enough to reach the optimum well within 10,000 steps.",
        _from(CUSTOM_ID, "standardised"), _reaches_optimum, ("yes", "no"), lesson="standardised"),
)

CHALLENGES: Mapping[str, tuple[Challenge, ...]] = {
    BIAS: QUADRATIC_BIAS, LINEAR: LINEAR_2X, RECOVERY: QUADRATIC_RECOVERY, SINE: SINE_CUBIC,
    CUSTOM_ID: CUSTOM_CHALLENGES,
}


def challenges_for(problem_id: str) -> tuple[Challenge, ...]:
    """The challenges of one page, in the order its lessons come."""
    try:
        return CHALLENGES[problem_id]
    except KeyError:
        raise KeyError(f"no challenges for {problem_id!r}; pages with some: {', '.join(CHALLENGES)}") from None


def has_challenges(problem_id: str) -> bool:
    """Whether a page has challenges: every demo here does; a demo added without any shows no Predict tab."""
    return problem_id in CHALLENGES
