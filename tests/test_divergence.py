"""Divergence: every implementation reports the same diverged step, the one a float64 reference loop
predicts, and the page's charts stop at the last finite point.

The learning rates sit just past each optimizer's stability limit (2/λmax for SGD, 3.8/λmax for heavy-ball
momentum with μ = 0.9) and well past it, so the loss takes tens to about a hundred steps to leave every
bound: far enough for the step to cross chunk boundaries. The expected step is computed here with the
reference optimizers of tests/conftest.py and the documented rule (a loss above 1e8 × the larger of the
initial and the optimal loss, or not finite).
"""
from __future__ import annotations

import numpy as np
import pytest

import fitcore
from fitcore import RunConfig

from conftest import ALL_IMPLS, DEMOS, quadratic_of, reference_run, require
from test_dashboard import assert_every_chart_finite, chart, demo_state, key, open_page, part

DIVERGES_ABOVE = 1e8
CASES = [(page, optimizer, factor, dtype) for page in DEMOS
         for optimizer, factor in (("sgd", 1.05), ("sgd", 1.5), ("momentum", 1.03 * 1.9))
         for dtype in ("float32", "float64")]
IDS = [f"{page}-{optimizer}-{factor:.3g}x-{dtype}" for page, optimizer, factor, dtype in CASES]
STEPS = 3000


def lr_past_the_limit(page: str, optimizer: str, factor: float, dtype: str) -> float:
    data = fitcore.Run(RunConfig.notebook(page, dtype=dtype)).data
    eigenvalues = quadratic_of(data, RunConfig.notebook(page).reduction).hessian_eigenvalues()
    return float(f"{factor * 2.0 / eigenvalues.max():.4g}")


def expected_diverged_step(config: RunConfig) -> int:
    """The first step whose loss leaves the bound, by the float64 reference loop."""
    data = fitcore.Run(config).data
    quad = quadratic_of(data, config.reduction)
    losses, _ = reference_run(quad, data.init, config.optimizer, np.full(STEPS, config.lr))
    limit = DIVERGES_ABOVE * max(losses[0], quad.optimum()[1], 1e-12)
    bad = ~np.isfinite(losses) | (losses > limit)
    assert bad.any(), "the reference run does not diverge: pick a larger factor"
    return int(np.argmax(bad))


@pytest.mark.parametrize("page, optimizer, factor, dtype", CASES, ids=IDS)
def test_that_every_implementation_reports_the_diverged_step_of_the_reference_loop_within_one(
        page: str, optimizer: str, factor: float, dtype: str) -> None:
    config = RunConfig.notebook(page, optimizer=optimizer, lr=lr_past_the_limit(page, optimizer, factor, dtype),
                                steps=STEPS, dtype=dtype)
    expected = expected_diverged_step(config)
    reported = {}
    for impl in ALL_IMPLS:
        if not fitcore.is_available(impl):
            continue
        run = fitcore.train(config.replace(impl=impl))
        assert run.status == "diverged", (impl, run.status)
        reported[impl] = run.diverged_at
        assert f"Diverged at step {run.diverged_at:,}" in run.message
    assert all(abs(step - expected) <= 1 for step in reported.values()), (expected, reported)
    assert max(reported.values()) - min(reported.values()) <= 1, reported


@pytest.mark.parametrize("impl", ("numpy", "tf-tape"))
def test_that_the_compiled_paths_diverge_at_the_same_step(impl: str) -> None:
    """NumPy's Gram-matrix path and TensorFlow's XLA loop (torch.compile takes tens of seconds on two cores;
    tests/test_implementations.py holds it to the eager path)."""
    require(impl)
    page = "linear-2x"
    config = RunConfig.notebook(page, impl=impl, lr=lr_past_the_limit(page, "sgd", 1.05, "float32"), steps=STEPS)
    compiled = fitcore.train(config.replace(compiled=True))
    assert compiled.status == "diverged"
    assert abs(compiled.diverged_at - expected_diverged_step(config)) <= 1


@pytest.mark.parametrize("page, impl", [("linear-2x", "numpy"), ("quadratic-recovery", "torch-autograd"),
                                        ("sine-cubic", "tf-tape"), ("quadratic-bias", "analytic")])
def test_that_the_charts_of_a_diverged_run_stop_at_its_last_finite_point(page: str, impl: str) -> None:
    require(impl)
    lr = lr_past_the_limit(page, "sgd", 1.05, "float32")
    at = open_page(page, {"impl": impl, "lr": repr(lr), "steps": str(STEPS), "dtype": "float32"})
    at.button(key=key(page, "run")).click().run()
    run = demo_state(at, page).run
    assert run.status == "diverged"
    last_finite = run.diverged_at - 1
    assert abs(run.diverged_at - expected_diverged_step(run.config)) <= 1

    loss = part(chart(at, "Loss"), "live")
    curve = loss[loss.kind == "curve"]
    assert curve.step.max() == last_finite and np.isfinite(curve.loss).all()
    steps, losses, params = run.history.arrays()
    assert steps[-1] == last_finite and np.isfinite(losses).all() and np.isfinite(params).all()
    assert loss[loss.kind == "marker"].step.tolist() == [last_finite]
    trajectory = part(chart(at, "Parameters"), "live")
    trajectory = trajectory[trajectory.kind == "trajectory"]
    assert trajectory.step.max() == last_finite and np.isfinite(trajectory.value).all()
    assert next(m.value for m in at.metric if m.label == "Step") == f"{last_finite:,}"
    assert_every_chart_finite(at)
