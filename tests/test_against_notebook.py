"""Every notebook cell that printed its numbers, run again from its own data and start, against those numbers.

The digits each cell is held to are what its printed inputs allow (measured here, with a margin for a
machine whose summation order differs): the float64 NumPy cells to 12 significant digits (13 measured),
the float32 PyTorch cells to 3 (4 measured), seed 002 to 2 in its losses (2 measured at the end, where
a million steps amplify the 4-decimal y) and 3 in its parameters.
"""
from __future__ import annotations

import pytest

from fitcore import RunConfig, train

from conftest import require

CELLS = [
    # problem, variant, implementation override, digits every line keeps (None: every printed digit)
    ("linear-2x", "numpy", None, None),
    ("linear-2x", "pytorch", None, None),
    ("sine-cubic", "numpy-5000", None, 12),
    ("sine-cubic", "numpy-2400", None, 12),
    ("sine-cubic", "numpy-2000", None, 12),
    ("sine-cubic", "torch-2400", None, 3),
    ("sine-cubic", "torch-manual-5000", None, 3),
    ("sine-cubic", "torch-autograd-5000", None, 3),
    ("quadratic-recovery", "pytorch", "analytic", 2),
]


@pytest.mark.parametrize("problem_id, variant, impl, digits", CELLS)
def test_that_a_cell_run_from_its_own_start_prints_the_notebooks_lines(problem_id, variant, impl, digits) -> None:
    overrides = {"impl": impl, "dtype": "float64"} if impl else {}
    config = RunConfig.notebook(problem_id, variant, **overrides)
    require(config.impl)
    run = train(config)
    compared = run.against_notebook()
    assert compared is not None
    reached = [line for line in compared.lines if line.ours is not None]
    printed_steps = run.variant.printed_steps
    expected = len(compared.cell.intro) + sum(step < config.steps for step in printed_steps) + \
        (len(compared.cell.final) if config.steps == compared.cell.steps else 0)
    assert len(reached) == expected
    if digits is None:
        assert all(line.exact for line in reached), compared.verdict
        assert compared.verdict == f"all {expected} lines agree to every printed digit"
    else:
        assert all(line.exact or line.digits >= digits for line in reached), compared.verdict


def test_that_seed_004s_numpy_cell_prints_its_first_and_last_loss_as_the_notebook_did() -> None:
    run = train(RunConfig.notebook("sine-cubic", "numpy-5000"))
    texts = [line.text for line in run.log]
    assert texts[0] == ("a = 0.5212317253221784, b = -0.9805915149858428, c = -0.027376927441378273, "
                        "d = -1.4262831777937377")
    assert texts[1].startswith("0 703371.25067247")
    assert texts[-2].startswith("4900 8.8171799039490")
    assert texts[-1].startswith("Result: y = 8.98975035502")


def test_that_seed_002s_records_agree_in_their_parameters_to_three_digits_and_end_at_d_0_689() -> None:
    run = train(RunConfig.notebook("quadratic-recovery", impl="analytic", dtype="float64"))
    compared = run.against_notebook()
    first = compared.lines[2]
    assert first.digits >= 4  # 8900.236 printed, 8900.19 here
    # the notebook's plots are titled with its recorded parameters: the last one, at learner step 900,000,
    # reads d = 0.689 e = 9.32 ("at the end of one million iterations")
    last_record = [line for line in run.log if line.kind == "step"][-1]
    derived = run.problem.derived(last_record.params)
    assert f"{derived['d̂']:.3f}" == "0.689" and f"{derived['ê']:.2f}" == "9.32"


def test_that_a_cell_whose_start_cannot_be_had_is_compared_and_says_why() -> None:
    require("torch-nn")
    run = train(RunConfig.notebook("sine-cubic", "nn-rmsprop", steps=300))
    compared = run.against_notebook()
    assert compared is not None and "never printed" in compared.verdict
    assert "never printed" in run.variant.start_note


def test_that_a_run_with_other_settings_or_fresh_data_is_not_compared() -> None:
    assert train(RunConfig.notebook("linear-2x", "numpy", lr=0.02)).against_notebook() is None
    assert train(RunConfig.notebook("linear-2x", "numpy", seed=0)).against_notebook() is None
    result = train(RunConfig.notebook("linear-2x", "numpy", lr=0.02)).result()["notebook"]
    assert result["verdict"] == "not compared: this run differs from the notebook in learning rate 0.02"


def test_that_seed_000_printed_nothing_and_its_variants_say_so() -> None:
    run = train(RunConfig.notebook("quadratic-bias", "tensorflow", impl="numpy", steps=10))
    assert run.against_notebook() is None
    assert run.result()["notebook"]["verdict"] == "the notebook printed nothing to compare"
    assert "none of its output" in run.variant.start_note
