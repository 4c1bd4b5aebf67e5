"""Optimizer settings and learning-rate schedules, against the formulas and the frameworks' own classes."""
from __future__ import annotations

import math

import numpy as np
import pytest

from fitcore import OPTIMIZER_LABELS, OPTIMIZERS, SCHEDULE_LABELS, SCHEDULES, ConfigError, RunConfig, Schedule
from fitcore.impl import StepSettings
from fitcore.optim import KERAS_RESIDUALS, SLOTS, init_slots, update

from conftest import ALPHA, BETA1, BETA2, EPS, MU, import_or_unavailable, require


def gradients(n: int = 40, scale: float = 1.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 3)) * scale


def fitcore_trajectory(optimizer: str, grads: np.ndarray, lr: float, xp=np, sqrt=np.sqrt, wrap=np.asarray):
    params = wrap(np.zeros(3))
    slots = init_slots(optimizer, lambda: wrap(np.zeros(3)))
    out = []
    for t, g in enumerate(grads):
        params, slots = update(optimizer, params, wrap(g), slots, lr, t, sqrt)
        out.append(np.asarray(params, dtype=np.float64))
    return np.array(out)


def torch_trajectory(optimizer: str, grads: np.ndarray, lr: float) -> np.ndarray:
    torch = import_or_unavailable("torch")
    param = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = {"sgd": lambda: torch.optim.SGD([param], lr=lr),
           "momentum": lambda: torch.optim.SGD([param], lr=lr, momentum=0.9),
           "rmsprop": lambda: torch.optim.RMSprop([param], lr=lr, alpha=0.99, eps=1e-8),
           "adam": lambda: torch.optim.Adam([param], lr=lr, betas=(0.9, 0.999), eps=1e-8)}[optimizer]()
    out = []
    for g in grads:
        param.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        out.append(param.detach().numpy().copy())
    return np.array(out)


def keras_trajectory(optimizer: str, grads: np.ndarray, lr: float, dtype: str = "float64") -> np.ndarray:
    """fitcore's configured Keras optimizer applied to one variable."""
    require("tf-tape")
    import tensorflow as tf

    from fitcore.impl.tf_tape import make_keras_optimizer
    variable = tf.Variable(np.zeros(3), dtype=dtype)
    opt = make_keras_optimizer(StepSettings(optimizer=optimizer, lr=lr), tf.as_dtype(dtype))
    out = []
    for g in grads:
        opt.apply_gradients([(tf.constant(g, dtype=dtype), variable)])
        out.append(variable.numpy().astype(np.float64))
    return np.array(out)


# --- the shared settings -------------------------------------------------------------------------

def test_that_every_optimizer_has_a_label_and_its_slots() -> None:
    assert OPTIMIZERS == ("sgd", "momentum", "rmsprop", "adam")
    assert set(OPTIMIZER_LABELS) == set(SLOTS) == set(OPTIMIZERS)
    assert set(SCHEDULE_LABELS) == set(SCHEDULES)


def test_that_the_hyperparameters_are_the_ones_the_issue_names() -> None:
    from fitcore import optim
    assert (optim.MOMENTUM, optim.RMS_ALPHA, optim.ADAM_BETAS, optim.EPS) == (MU, ALPHA, (BETA1, BETA2), EPS)


def test_that_an_unknown_optimizer_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="sgd, momentum, rmsprop, adam"):
        update("lion", np.zeros(1), np.ones(1), {}, 0.1, 0, np.sqrt)
    with pytest.raises(ConfigError, match="optimizer 'lion'"):
        RunConfig.notebook("linear-2x", optimizer="lion")


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_that_the_written_out_update_equals_torch_optim(optimizer: str) -> None:
    grads, lr = gradients(), 0.05
    np.testing.assert_allclose(fitcore_trajectory(optimizer, grads, lr), torch_trajectory(optimizer, grads, lr),
                               rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_that_the_update_gives_the_same_numbers_on_numpy_torch_and_tensorflow(optimizer: str) -> None:
    torch = import_or_unavailable("torch")
    grads, lr = gradients(10), 0.05
    expected = fitcore_trajectory(optimizer, grads, lr)
    on_torch = fitcore_trajectory(optimizer, grads, lr, sqrt=torch.sqrt,
                                  wrap=lambda a: torch.tensor(a, dtype=torch.float64))
    np.testing.assert_allclose(on_torch, expected, rtol=1e-14, atol=1e-16)
    if optimizer in ("sgd", "adam"):  # TensorFlow's import is paid once by the tf-tape tests anyway
        require("tf-tape")
        import tensorflow as tf
        on_tf = fitcore_trajectory(optimizer, grads, lr, sqrt=tf.sqrt, wrap=lambda a: tf.constant(a, tf.float64))
        np.testing.assert_allclose(on_tf, expected, rtol=1e-14, atol=1e-16)


# --- Keras's formulas and their documented residuals --------------------------------------------

def test_that_every_documented_keras_residual_names_an_optimizer() -> None:
    assert set(KERAS_RESIDUALS) <= set(OPTIMIZERS)
    assert {"rmsprop", "adam"} <= set(KERAS_RESIDUALS)


def test_that_keras_sgd_in_float64_equals_torch_sgd() -> None:
    grads = gradients()
    np.testing.assert_allclose(keras_trajectory("sgd", grads, 0.05), torch_trajectory("sgd", grads, 0.05),
                               rtol=1e-14, atol=1e-16)


def test_that_keras_momentum_is_minus_lr_times_torchs_buffer_so_the_steps_agree() -> None:
    grads = gradients()
    np.testing.assert_allclose(keras_trajectory("momentum", grads, 0.05), torch_trajectory("momentum", grads, 0.05),
                               rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
def test_that_keras_and_torch_agree_while_gradients_are_far_above_epsilon(optimizer: str) -> None:
    grads = gradients(scale=1.0)
    keras_run, torch_run = keras_trajectory(optimizer, grads, 0.01), torch_trajectory(optimizer, grads, 0.01)
    # rmsprop: denominators differ by < ε = 1e-8 on √s ≳ 1e-2; adam: ε·(1 − √(1 − β₂ᵗ)) on √v̂ ≳ 1e-2;
    # 40 steps of ≤ 1e-6 relative each, measured on the trajectory's size
    assert np.abs(keras_run - torch_run).max() <= 1e-6 * np.abs(torch_run).max()


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
def test_that_the_keras_residual_is_real_when_gradients_are_near_epsilon(optimizer: str) -> None:
    grads = gradients(scale=1e-8)
    keras_run, torch_run = keras_trajectory(optimizer, grads, 0.01), torch_trajectory(optimizer, grads, 0.01)
    assert np.abs(keras_run - torch_run).max() > 1e-2 * np.abs(torch_run).max()


def test_that_keras_adam_in_float32_shortens_the_first_step_by_the_documented_7e_6() -> None:
    grads = gradients(1)
    first64 = keras_trajectory("adam", grads, 0.01, "float64")[0]
    first32 = keras_trajectory("adam", grads, 0.01, "float32")[0]
    shortening = 1 - first32 / first64
    assert np.all((5e-6 < shortening) & (shortening < 7e-6))  # β₂ rounded: √(1 − 0.99900001) / √0.001


# --- schedules -----------------------------------------------------------------------------------

def test_that_the_constant_schedule_is_the_learning_rate_at_every_step() -> None:
    np.testing.assert_array_equal(Schedule().values(0.3, 5, 4, 100), [0.3] * 4)


@pytest.mark.parametrize("gamma, step_size", [(0.5, 10), (0.9, 1), (0.1, 7)])
def test_that_step_decay_multiplies_by_gamma_every_k_steps(gamma: float, step_size: int) -> None:
    got = Schedule("step", gamma=gamma, step_size=step_size).values(0.2, 0, 50, 50)
    expected = [0.2 * gamma ** (t // step_size) for t in range(50)]
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_that_exponential_decay_multiplies_by_gamma_every_step_from_any_start() -> None:
    got = Schedule("exponential", gamma=0.97).values(0.2, 30, 20, 100)
    np.testing.assert_allclose(got, [0.2 * 0.97**t for t in range(30, 50)], rtol=1e-14)


@pytest.mark.parametrize("lr_min", [0.0, 0.01])
def test_that_cosine_goes_from_lr_to_lr_min_over_the_run_and_stays_there(lr_min: float) -> None:
    total = 40
    got = Schedule("cosine", lr_min=lr_min).values(0.1, 0, total + 10, total)
    expected = [lr_min + (0.1 - lr_min) * (1 + math.cos(math.pi * min(t, total) / total)) / 2
                for t in range(total + 10)]
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-18)
    assert got[0] == pytest.approx(0.1) and got[-1] == pytest.approx(lr_min, abs=1e-18)


def test_that_a_schedule_read_in_pieces_equals_one_read() -> None:
    schedule = Schedule("cosine", lr_min=0.001)
    whole = schedule.values(0.1, 0, 100, 100)
    pieces = np.concatenate([schedule.values(0.1, s, 25, 100) for s in range(0, 100, 25)])
    np.testing.assert_array_equal(whole, pieces)
    assert schedule.at(0.1, 37, 100) == whole[37]


@pytest.mark.parametrize("schedule", [Schedule("step", gamma=0.5, step_size=7), Schedule("exponential", gamma=0.95),
                                      Schedule("cosine", lr_min=0.0), Schedule("cosine", lr_min=0.002)],
                         ids=lambda s: s.describe())
def test_that_schedules_equal_torchs_lr_schedulers(schedule: Schedule) -> None:
    torch = import_or_unavailable("torch")
    lr, total = 0.1, 60
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=lr)
    scheduler = {"step": lambda: torch.optim.lr_scheduler.StepLR(opt, schedule.step_size, schedule.gamma),
                 "exponential": lambda: torch.optim.lr_scheduler.ExponentialLR(opt, schedule.gamma),
                 "cosine": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(opt, total, schedule.lr_min)}[
        schedule.kind]()
    seen = []
    for _ in range(total):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    np.testing.assert_allclose(schedule.values(lr, 0, total, total), seen, rtol=1e-12, atol=1e-17)


@pytest.mark.parametrize("schedule", [Schedule("step", gamma=0.5, step_size=7), Schedule("exponential", gamma=0.95),
                                      Schedule("cosine", lr_min=0.0), Schedule("cosine", lr_min=0.002)],
                         ids=lambda s: s.describe())
def test_that_schedules_equal_the_keras_schedules_fitcore_configures(schedule: Schedule) -> None:
    require("tf-tape")
    import tensorflow as tf

    from fitcore.impl.tf_tape import _keras_schedule
    lr, total = 0.1, 60
    keras_schedule = _keras_schedule(StepSettings(lr=lr, schedule=schedule, total_steps=total), np.float64)
    seen = [float(keras_schedule(tf.constant(t, tf.int64))) for t in range(total)]
    np.testing.assert_allclose(schedule.values(lr, 0, total, total), seen, rtol=1e-12, atol=1e-17)


@pytest.mark.parametrize("kwargs, message", [
    (dict(kind="warmup"), "schedule 'warmup' is not one of: constant, step"),
    (dict(kind=None), "is not one of"),
    (dict(kind="step", gamma=0.0), "gamma"),
    (dict(kind="step", gamma=1.5), "gamma"),
    (dict(kind="step", gamma=float("nan")), "gamma"),
    (dict(kind="step", gamma="0.5"), "gamma must be a number"),
    (dict(kind="step", step_size=0), "step size"),
    (dict(kind="step", step_size=2.5), "step size must be a whole number"),
    (dict(kind="step", step_size="10"), "step size must be a whole number"),
    (dict(kind="cosine", lr_min=-1.0), "lr_min"),
    (dict(kind="cosine", lr_min=float("inf")), "lr_min"),
    (dict(kind="cosine", lr_min=None), "lr_min"),
])
def test_that_an_impossible_schedule_raises_the_same_config_error_as_every_other_setting(kwargs: dict,
                                                                                          message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Schedule(**kwargs)


def test_that_numpy_numbers_make_a_schedule_as_python_ones_do() -> None:
    assert Schedule("step", np.float64(0.5), np.int64(10)) == Schedule("step", 0.5, 10)


@pytest.mark.parametrize("schedule, constant", [(Schedule(), True), (Schedule("step", gamma=1.0), True),
                                                (Schedule("exponential", gamma=1.0), True),
                                                (Schedule("step", gamma=0.5), False), (Schedule("cosine"), False)])
def test_that_a_schedule_knows_whether_it_changes_the_rate(schedule: Schedule, constant: bool) -> None:
    assert schedule.is_constant is constant
    values = schedule.values(0.1, 0, 500, 500)
    assert bool(np.all(values == values[0])) is constant
