"""The four demos: each defined once, with the notebook's data and settings, and each notebook reproduced.

Expected values come from the notebooks in ../shared/seeds/ and from ../shared/reference/baseline.md;
data are regenerated here the way the notebooks wrote them.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

from fitcore import PROBLEMS, RunConfig, get_problem, make_dataset, train

from conftest import DEMOS, Quadratic, import_or_unavailable, require, seed_file


def notebook_data(problem_id: str, seed: int = 0):
    """(x, y, init) exactly as the notebooks build them, in float32 unless the notebook used float64."""
    if problem_id == "quadratic-bias":
        np.random.seed(seed)
        x = np.random.uniform(-10, 10, 50).astype(np.float32)
        return x, x**2 + 5.0, np.array([0.0])
    if problem_id == "linear-2x":
        x = np.array([1, 2, 3, 4], dtype=np.float32)
        return x, np.array([2, 4, 6, 8], dtype=np.float32), np.array([0.0])
    if problem_id == "quadratic-recovery":
        torch = import_or_unavailable("torch")
        torch.manual_seed(seed)
        x = torch.arange(0, 20).float()
        noise = 1 + torch.randn(20) * 3
        y = 0.75 * (x - 9.5) ** 2 + noise
        params = torch.randn(3)
        return x.numpy(), y.numpy(), params.numpy().astype(np.float64)
    if problem_id == "sine-cubic":
        x = np.linspace(-math.pi, math.pi, 2000)
        np.random.seed(seed)
        init = np.array([np.random.randn() for _ in range(4)])
        return x, np.sin(x), init
    raise KeyError(problem_id)


def notebook_data_float32(problem_id: str):
    """The float32 data: the notebooks' float32 arrays; sine-cubic's float64 grid rounded, sin taken in float32
    (as seed 004's torch cells do with y = torch.sin(x))."""
    x, y, init = notebook_data(problem_id)
    if problem_id == "sine-cubic":
        x = x.astype(np.float32)
        y = np.sin(x)
    return x.astype(np.float32), y.astype(np.float32), init.astype(np.float32)


# --- one definition per demo -------------------------------------------------------------------

def test_that_there_are_exactly_the_four_demos_of_the_notebooks() -> None:
    assert set(PROBLEMS) == set(DEMOS)
    assert {f for p in PROBLEMS.values() for f in p.seed_files} == {
        "000_4ee5308108e1f69b.txt", "001_4c9403ac5eb60673.txt", "002_74e8b9560e6de183.txt",
        "003_c5e7d112216a8321.txt", "004_cca55be47e3356f3.txt"}


def test_that_an_unknown_demo_is_refused_with_the_list_of_known_ones() -> None:
    with pytest.raises(KeyError, match="quadratic-bias"):
        get_problem("cubic-sine")


# The notebooks' own settings, typed from the seed files (not read from fitcore).
NOTEBOOK_SETTINGS = [
    ("quadratic-bias", "tensorflow", dict(impl="tf-tape", optimizer="sgd", lr=0.01, steps=2000, reduction="mean",
                                          dtype="float32"), 200, 0),
    ("quadratic-bias", "pytorch", dict(impl="torch-nn", optimizer="sgd", lr=0.01, steps=2000, reduction="mean",
                                       dtype="float32"), 200, 0),
    ("linear-2x", "numpy", dict(impl="numpy", optimizer="sgd", lr=0.01, steps=20, reduction="sum",
                                dtype="float32"), 2, 0),
    ("linear-2x", "pytorch", dict(impl="torch-autograd", optimizer="sgd", lr=0.01, steps=100, reduction="mean",
                                  dtype="float32"), 10, 0),
    # one step by hand, then learner(1000000, 100000, 1e-5), whose step i is the run's step i + 1
    ("quadratic-recovery", "pytorch", dict(impl="torch-autograd", optimizer="sgd", lr=1e-5, steps=1_000_001,
                                           reduction="mean", dtype="float32"), 100_000, 1),
    ("sine-cubic", "torch-2400", dict(impl="torch-autograd", optimizer="sgd", lr=1e-6, steps=2400, reduction="sum",
                                      dtype="float32"), 100, 99),
    ("sine-cubic", "numpy-5000", dict(impl="numpy", optimizer="sgd", lr=1e-6, steps=5000, reduction="sum",
                                      dtype="float64"), 100, 0),
    ("sine-cubic", "torch-manual-5000", dict(impl="torch-manual", optimizer="sgd", lr=1e-6, steps=5000,
                                             reduction="sum", dtype="float32"), 100, 99),
    ("sine-cubic", "torch-autograd-5000", dict(impl="torch-autograd", optimizer="sgd", lr=1e-6, steps=5000,
                                               reduction="sum", dtype="float32"), 100, 99),
    ("sine-cubic", "nn-rmsprop", dict(impl="torch-nn", optimizer="rmsprop", lr=1e-3, steps=2400, reduction="sum",
                                      dtype="float32"), 100, 99),
]


@pytest.mark.parametrize("problem_id, variant, settings, every, phase", NOTEBOOK_SETTINGS)
def test_that_each_notebook_variant_defaults_to_the_notebooks_settings(problem_id, variant, settings, every,
                                                                        phase) -> None:
    config = RunConfig.notebook(problem_id, variant)
    for name, value in settings.items():
        assert getattr(config, name) == value, name
    chosen = get_problem(problem_id).variant(variant)
    assert (chosen.log_every, chosen.log_phase) == (every, phase)


@pytest.mark.parametrize("problem_id, points, noise", [
    ("quadratic-bias", 50, 0.0), ("linear-2x", 4, 0.0), ("quadratic-recovery", 20, 3.0), ("sine-cubic", 2000, 0.0)])
def test_that_each_demo_defaults_to_the_notebooks_number_of_points_and_noise(problem_id, points, noise) -> None:
    problem = get_problem(problem_id)
    assert (problem.default_points, problem.default_noise) == (points, noise)


@pytest.mark.parametrize("problem_id", DEMOS)
def test_that_the_data_are_the_notebooks_data_in_float32(problem_id: str) -> None:
    problem = get_problem(problem_id)
    x, y, init = notebook_data_float32(problem_id)
    data = make_dataset(problem, 0, problem.default_points, problem.default_noise, "float32")
    assert data.x.dtype == data.y.dtype == data.init.dtype == np.float32
    np.testing.assert_array_equal(data.x, x)
    np.testing.assert_array_equal(data.y, y)
    np.testing.assert_array_equal(data.init, init)


def test_that_sine_cubics_float32_grid_is_torch_linspace_to_one_ulp_of_pi() -> None:
    torch = import_or_unavailable("torch")
    data = make_dataset(get_problem("sine-cubic"), 0, 2000, 0.0, "float32")
    grid = torch.linspace(-math.pi, math.pi, 2000).numpy()  # float32 start + i·step, rounded as it goes
    assert np.abs(data.x - grid).max() <= np.spacing(np.float32(math.pi))


@pytest.mark.parametrize("problem_id", DEMOS)
def test_that_float64_data_are_the_same_draws_computed_in_float64(problem_id: str) -> None:
    problem = get_problem(problem_id)
    x, y, init = notebook_data(problem_id)
    data = make_dataset(problem, 0, problem.default_points, problem.default_noise, "float64")
    assert data.x.dtype == np.float64
    np.testing.assert_array_equal(data.x, x.astype(np.float64))
    # float32 notebooks differ from float64 data by float32 rounding of y only
    np.testing.assert_allclose(data.y, y, rtol=2e-7, atol=4e-6)
    np.testing.assert_allclose(data.init, init, rtol=1e-7)


def test_that_seed_002_draws_its_noise_first_and_starts_from_the_baselines_parameters() -> None:
    data = make_dataset(get_problem("quadratic-recovery"), 0, 20, 3.0, "float32")
    np.testing.assert_allclose(data.init, [-0.892, -1.509, 0.370], atol=5e-4)


def test_that_sine_cubic_starts_from_numpy_seed_0_and_the_baselines_initial_loss() -> None:
    data = make_dataset(get_problem("sine-cubic"), 0, 2000, 0.0, "float64")
    np.testing.assert_allclose(data.init, [1.764, 0.400, 0.979, 2.241], atol=5e-4)
    initial_loss = Quadratic("sine-cubic", data.x, data.y, "sum").loss(data.init)
    assert initial_loss == pytest.approx(1.49e6, rel=5e-3)


def test_that_a_different_seed_draws_different_data_and_the_same_seed_the_same() -> None:
    problem = get_problem("quadratic-recovery")
    a = make_dataset(problem, 1, 20, 3.0, "float64")
    b = make_dataset(problem, 1, 20, 3.0, "float64")
    c = make_dataset(problem, 2, 20, 3.0, "float64")
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.init, b.init)
    assert not np.array_equal(a.y, c.y)


@pytest.mark.parametrize("problem_id", DEMOS)
def test_that_the_formula_as_code_computes_what_the_model_predicts(problem_id: str) -> None:
    problem = get_problem(problem_id)
    data = make_dataset(problem, 0, problem.default_points, problem.default_noise, "float64")
    theta = np.random.default_rng(3).normal(size=problem.n_params)
    namespace = {"x": data.x, **dict(zip(problem.param_names, theta))}
    from_code = eval(problem.formula_code, {}, namespace)  # the code string shown to users
    written_out = Quadratic(problem_id, data.x, data.y, "mean")
    np.testing.assert_allclose(problem.predict(data.x, theta), from_code, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(from_code, written_out.phi @ theta + written_out.offset, rtol=1e-12, atol=1e-12)
    assert all(name in problem.formula_latex for name in problem.param_names)


@pytest.mark.parametrize("problem_id", [p for p in DEMOS if get_problem(p).true_params is not None])
def test_that_the_true_parameters_generate_the_noise_free_curve(problem_id: str) -> None:
    problem = get_problem(problem_id)
    x = np.linspace(-3.0, 21.0, 50)
    np.testing.assert_allclose(problem.predict(x, np.array(problem.true_params)), problem.truth(x), rtol=1e-12,
                               atol=1e-10)


def test_that_quadratic_recovery_expects_d_minus_2de_and_de2_plus_1() -> None:
    assert get_problem("quadratic-recovery").true_params == (0.75, -2 * 0.75 * 9.5, 0.75 * 9.5**2 + 1)


@pytest.mark.parametrize("problem_id", DEMOS)
def test_that_the_reduction_is_a_setting_on_every_demo_and_sum_is_n_times_mean(problem_id: str) -> None:
    require("numpy")
    mean = train(RunConfig.notebook(problem_id, impl="numpy", reduction="mean", dtype="float64", steps=1,
                                    lr=1e-12))
    total = train(RunConfig.notebook(problem_id, impl="numpy", reduction="sum", dtype="float64", steps=1,
                                     lr=1e-12))
    n = len(mean.data.x)
    assert total.history.losses[0] == pytest.approx(n * mean.history.losses[0], rel=1e-12)
    assert total.quad.optimum_loss == pytest.approx(n * mean.quad.optimum_loss, rel=1e-9, abs=1e-12)


def test_that_quadratic_recovery_reports_d_hat_and_e_hat_from_the_parameters() -> None:
    a, b, c = 0.689, -12.845, 61.347
    derived = get_problem("quadratic-recovery").derived(np.array([a, b, c]))
    assert derived == {"d̂": pytest.approx(a), "ê": pytest.approx(-b / (2 * a))}
    assert derived["ê"] == pytest.approx(9.32, abs=5e-3)  # the notebook's last caption: ê = 9.32


# --- each notebook reproduced ------------------------------------------------------------------

@pytest.mark.parametrize("variant, impl", [("tensorflow", "tf-tape"), ("pytorch", "torch-nn"),
                                           ("pytorch", "torch-autograd")])
def test_that_seed_000_stalls_at_bias_4_9999886_in_float32(variant: str, impl: str) -> None:
    require(impl)
    run = train(RunConfig.notebook("quadratic-bias", variant, impl=impl))
    assert run.status == "completed" and run.step == 2000
    assert np.float32(run.current_params[0]) == np.float32(4.9999886)
    # loss before the first update is mean(5²) = 25; the update is −0.01·(−2·5) = +0.1
    assert run.log[0].text == "Step 0, Loss: 25.0000, Bias: 0.1000"
    assert [line.text for line in run.log].count("Step 1800, Loss: 0.0000, Bias: 5.0000") == 1
    assert run.log[-1].text == "Training complete, fitted bias ≈ 5.0000, true bias = 5.0"


# What seed 001 printed, copied from 001_4c9403ac5eb60673.txt (checked against the file when it is there).
NOTEBOOK_001_PRINTED = {
    "numpy": """\
Prediction before training: f(5) = 0.000
Epoch 1: w = 1.200, loss = 30.00000000
Epoch 3: w = 1.872, loss = 0.76800019
Epoch 5: w = 1.980, loss = 0.01966083
Epoch 7: w = 1.997, loss = 0.00050331
Epoch 9: w = 1.999, loss = 0.00001288
Epoch 11: w = 2.000, loss = 0.00000033
Epoch 13: w = 2.000, loss = 0.00000001
Epoch 15: w = 2.000, loss = 0.00000000
Epoch 17: w = 2.000, loss = 0.00000000
Epoch 19: w = 2.000, loss = 0.00000000
Prediction after training: f(5) = 10.000""".splitlines(),
    "pytorch": """\
Epoch 1: w = 0.300, loss = 30.00000000
Epoch 11: w = 1.665, loss = 1.16278565
Epoch 21: w = 1.934, loss = 0.04506890
Epoch 31: w = 1.987, loss = 0.00174685
Epoch 41: w = 1.997, loss = 0.00006770
Epoch 51: w = 1.999, loss = 0.00000262
Epoch 61: w = 2.000, loss = 0.00000010
Epoch 71: w = 2.000, loss = 0.00000000
Epoch 81: w = 2.000, loss = 0.00000000
Epoch 91: w = 2.000, loss = 0.00000000
Prediction after training: f(5) = 10.000""".splitlines(),
}


def notebook_001_lines(section: str) -> list[str]:
    return NOTEBOOK_001_PRINTED[section]


def test_that_the_copied_lines_are_what_the_notebook_file_printed() -> None:
    text = seed_file("001").read_text(encoding="utf-8")
    numpy_part, torch_part = text.split("## PyTorch Version")
    for section, part in (("numpy", numpy_part), ("pytorch", torch_part)):
        printed = [line.strip() for line in part.splitlines() if re.match(r"^(Epoch \d+:|Prediction )", line)]
        assert printed == NOTEBOOK_001_PRINTED[section]


@pytest.mark.parametrize("variant, w_after_step_1, impl", [("numpy", 1.2, "numpy"), ("pytorch", 0.3, "torch-autograd")])
def test_that_seed_001_moves_w_to_1_2_with_the_sum_and_0_3_with_the_mean(variant: str, w_after_step_1: float,
                                                                          impl: str) -> None:
    require(impl)
    run = train(RunConfig.notebook("linear-2x", variant))
    steps, losses, params = run.history.arrays()
    assert steps[1] == 1
    assert f"{params[1, 0]:.3f}" == f"{w_after_step_1:.3f}"
    assert params[1, 0] == pytest.approx(w_after_step_1, rel=1e-6)
    # mean((0 − 2x)²) = 4·(1 + 4 + 9 + 16)/4 = 30, the printed loss; the summed loss is 4 × 30
    assert losses[0] == (120.0 if run.config.reduction == "sum" else 30.0)
    first_epoch = next(line.text for line in run.log if line.text.startswith("Epoch"))
    assert first_epoch.startswith(f"Epoch 1: w = {w_after_step_1:.3f}, loss = 30.00000000")
    assert f"{run.problem.derived(run.current_params)['f(5)']:.3f}" == "10.000"


@pytest.mark.parametrize("variant", ["numpy", "pytorch"])
def test_that_seed_001s_run_prints_exactly_the_notebooks_lines(variant: str) -> None:
    require(RunConfig.notebook("linear-2x", variant).impl)
    run = train(RunConfig.notebook("linear-2x", variant))
    assert [line.text for line in run.log] == notebook_001_lines(variant)


@pytest.mark.parametrize("variant", ["numpy", "pytorch"])
def test_that_seed_001s_training_lines_and_final_prediction_equal_the_notebooks(variant: str) -> None:
    require(RunConfig.notebook("linear-2x", variant).impl)
    run = train(RunConfig.notebook("linear-2x", variant))
    expected = [line for line in notebook_001_lines(variant) if not line.startswith("Prediction before")]
    assert [line.text for line in run.log if not line.text.startswith("Prediction before")] == expected


def test_that_seed_002s_data_equal_torch_manual_seed_0_and_randn() -> None:
    x, y, init = notebook_data("quadratic-recovery")
    for dtype, tolerance in (("float32", 0.0), ("float64", 8e-6)):  # float64 y: one float32 rounding of ~70
        data = make_dataset(get_problem("quadratic-recovery"), 0, 20, 3.0, dtype)
        np.testing.assert_array_equal(data.x, x)
        np.testing.assert_allclose(data.y, y, rtol=0, atol=tolerance)
        np.testing.assert_allclose(data.init, init, rtol=0, atol=tolerance)


def test_that_seed_002s_million_steps_end_where_the_float64_loop_ends_and_report_d_and_e() -> None:
    # torch.manual_seed(0)'s data, which baseline.md measured, and the learner's 1,000,000 steps alone
    run = train(RunConfig.notebook("quadratic-recovery", impl="analytic", dtype="float64", seed=0, steps=1_000_000))
    assert run.status == "completed" and run.step == 1_000_000
    a, b, c = run.current_params
    # baseline.md, numpy f64 loop of the seed's 1,000,000 steps
    np.testing.assert_allclose([a, b, c], [0.6772698, -12.37961, 60.31424], rtol=2e-6)
    assert run.current_loss == pytest.approx(9.10207, rel=1e-5)
    assert run.problem.derived(run.current_params) == {"d̂": pytest.approx(a, rel=1e-15),
                                                       "ê": pytest.approx(-b / (2 * a), rel=1e-15)}
    # the notebook records every 100,000 steps: ten lines, "loss tensor([a, b, c], requires_grad=True)"
    loop = [line for line in run.log if line.kind == "step"]
    assert [line.step for line in loop] == list(range(1, 1_000_000, 100_000))  # the learner's i = step − 1
    assert all(re.fullmatch(r"[0-9.e+-]+ tensor\(\[ *-?[0-9.]+(, +-?[0-9.]+){2}\], requires_grad=True\)",
                            line.text) for line in loop)
    assert [line.kind for line in run.log[:2]] == ["intro", "intro"]  # its loss and gradient before the loop


@pytest.mark.parametrize("variant, impl", [("numpy-5000", "numpy"), ("torch-manual-5000", "torch-manual"),
                                           ("numpy-5000", "torch-autograd")])
def test_that_seed_004s_5000_steps_reach_loss_8_8172(variant: str, impl: str) -> None:
    require(impl)
    run = train(RunConfig.notebook("sine-cubic", variant, impl=impl, seed=0))  # baseline.md's start
    assert run.step == 5000
    assert f"{run.current_loss:.4f}" == "8.8172"
    if run.config.dtype == "float64":
        assert run.current_loss == pytest.approx(8.817232, abs=5e-7)  # baseline.md, numpy f64
    assert run.log[-1].text.startswith("Result: y = ")


def test_that_seed_003s_nn_linear_rmsprop_run_starts_from_nn_linears_own_init() -> None:
    require("torch-nn")
    import torch
    torch.manual_seed(0)
    layer = torch.nn.Linear(3, 1)
    expected = [layer.bias.item(), *layer.weight.detach().numpy().ravel()]
    run = train(RunConfig.notebook("sine-cubic", "nn-rmsprop", steps=1))
    np.testing.assert_array_equal(run.data.init, np.array(expected, dtype=np.float32))


def test_that_seed_003s_nn_linear_rmsprop_run_ends_near_8_91() -> None:
    require("torch-nn")
    run = train(RunConfig.notebook("sine-cubic", "nn-rmsprop"))
    assert run.step == 2400
    assert 8.85 < run.current_loss < 8.97  # the notebook printed 8.9236 at t = 2399; baseline 8.91233
