"""NumPy's Gram path in blocks: powers of one step's linear map give the loop's iterates."""
from __future__ import annotations

import re

import numpy as np
import pytest

from fitcore import Run, RunConfig
from fitcore.impl.linear_steps import BLOCK, advances_in_blocks, iterate, powers, step_map
from fitcore.optim import Schedule, init_slots, update

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
RNG = np.random.default_rng(3)
PHI = RNG.normal(size=(40, 3))
GRAM2 = 2 * PHI.T @ PHI / 40
MOMENT2 = 2 * PHI.T @ RNG.normal(size=40) / 40


def loop(optimizer: str, lr: float, theta: np.ndarray, n: int) -> np.ndarray:
    """θ after each of n updates, by fitcore.optim's own update."""
    slots = init_slots(optimizer, lambda: np.zeros_like(theta))
    out = [theta]
    for t in range(n):
        theta, slots = update(optimizer, theta, GRAM2 @ theta - MOMENT2, slots, lr, t, np.sqrt)
        out.append(theta)
    return np.array(out)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
@pytest.mark.parametrize("n", [1, BLOCK - 1, BLOCK, 3 * BLOCK + 17])
def test_that_powers_of_the_step_map_follow_the_loop(optimizer: str, n: int) -> None:
    theta = RNG.normal(size=3)
    start = np.concatenate([theta, np.zeros(3) if optimizer == "momentum" else [], [1.0]])
    states = iterate(powers(step_map(optimizer, GRAM2, MOMENT2, 0.05)), start, n)
    expected = loop(optimizer, 0.05, theta, n)
    assert states.shape == (n + 1, len(start))
    np.testing.assert_allclose(states[:, :3], expected, rtol=0, atol=1e-12 * np.abs(expected).max())
    np.testing.assert_array_equal(states[:, -1], 1.0)


def test_that_only_linear_float64_steady_settings_advance_in_blocks() -> None:
    steady = Schedule()
    assert advances_in_blocks("sgd", "float64", steady) and advances_in_blocks("momentum", "float64", steady)
    assert not advances_in_blocks("adam", "float64", steady)
    assert not advances_in_blocks("rmsprop", "float64", steady)
    assert not advances_in_blocks("sgd", "float32", steady)  # float32 rounds the gradient every step
    assert not advances_in_blocks("sgd", "float64", Schedule("cosine"))
    assert not advances_in_blocks("sgd", "float64", Schedule("step", step_size=BLOCK - 1))
    assert advances_in_blocks("sgd", "float64", Schedule("step", step_size=BLOCK))


CASES = [dict(optimizer="sgd", lr=1e-6), dict(optimizer="momentum", lr=1e-7),
         dict(optimizer="sgd", lr=1e-6, schedule=Schedule("step", 0.5, 300))]


@pytest.mark.parametrize("settings", CASES)
def test_that_the_gram_path_in_blocks_records_what_the_eager_loop_records(settings: dict) -> None:
    config = RunConfig.notebook("sine-cubic", "numpy-2000", impl="numpy", dtype="float64", steps=1500, **settings)
    eager, blocks = Run(config), Run(config.replace(compiled=True))
    assert blocks.prepare().linear
    eager.advance(), blocks.advance()
    steps, losses, params = eager.history.arrays()
    block_steps, block_losses, block_params = blocks.history.arrays()
    np.testing.assert_array_equal(block_steps, steps)
    np.testing.assert_allclose(block_losses, losses, rtol=1e-10)
    np.testing.assert_allclose(block_params, params, rtol=0, atol=1e-11 * np.abs(params).max())
    assert len(blocks.log) == len(eager.log) > 0
    for block_line, eager_line in zip(blocks.log, eager.log):  # the notebook's lines, numbers to 1e-10
        assert NUMBER.sub("#", block_line.text) == NUMBER.sub("#", eager_line.text)
        block_numbers = [float(v) for v in NUMBER.findall(block_line.text)]
        assert block_numbers == pytest.approx([float(v) for v in NUMBER.findall(eager_line.text)], rel=1e-10)


def test_that_a_diverging_run_in_blocks_stops_at_the_eager_loops_step() -> None:
    config = RunConfig.notebook("linear-2x", impl="numpy", dtype="float64", lr=0.2, steps=2000)
    eager, blocks = Run(config), Run(config.replace(compiled=True))
    assert blocks.prepare().linear
    eager.advance(), blocks.advance()
    assert blocks.status == eager.status == "diverged"
    assert blocks.diverged_at == eager.diverged_at
    assert blocks.reason == eager.reason
