"""Every setting refuses a wrong value and a wrong type the same way: a ConfigError whose message names the
setting, never a TypeError from deep inside (issue 13: a schedule's settings used to raise ValueError)."""
from __future__ import annotations

import pytest

from fitcore import ConfigError, RunConfig, Schedule, StopConditions


@pytest.mark.parametrize("kwargs, message", [
    (dict(loss_below="0.1"), "loss threshold"),
    (dict(loss_below=float("nan")), "loss threshold"),
    (dict(plateau_tol=[0.1]), "plateau tolerance"),
    (dict(plateau_tol=True), "plateau tolerance"),
    (dict(plateau_tol=1e-6, plateau_window=2.5), "plateau window"),
    (dict(plateau_tol=1e-6, plateau_window="100"), "plateau window"),
])
def test_that_a_stop_condition_of_the_wrong_type_or_value_raises_config_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        StopConditions(**kwargs)


@pytest.mark.parametrize("schedule", ["cosine", None, {"kind": "step"}])
def test_that_a_run_whose_schedule_is_not_a_schedule_raises_config_error(schedule: object) -> None:
    with pytest.raises(ConfigError, match="schedule must be a Schedule"):
        RunConfig.notebook("linear-2x", schedule=schedule)


def test_that_a_bad_schedule_setting_inside_a_run_raises_the_same_config_error() -> None:
    with pytest.raises(ConfigError, match="schedule gamma"):
        RunConfig.notebook("linear-2x", schedule=Schedule("step", gamma=2.0))


@pytest.mark.parametrize("start", [(1.0,), (1.0, 2.0), [0.1, 0.2, 0.3], (0.1, float("nan"), 0.3),
                                   (0.1, 2e6, 0.3), (0.1, "2", 0.3), (0.1, True, 0.3)])
def test_that_a_start_of_the_wrong_length_type_or_value_raises_config_error(start: object) -> None:
    with pytest.raises(ConfigError, match="start"):
        RunConfig.notebook("quadratic-recovery", start=start)


def test_that_a_chosen_start_replaces_theta0_and_keeps_the_data() -> None:
    import numpy as np
    from fitcore.config import dataset_of
    plain = RunConfig.notebook("quadratic-recovery")
    chosen = plain.replace(start=(0.5, -3.0, 2.0))
    before, after = dataset_of(plain), dataset_of(chosen)
    np.testing.assert_array_equal(after.init, np.array([0.5, -3.0, 2.0], dtype=before.init.dtype))
    np.testing.assert_array_equal(after.x, before.x)
    np.testing.assert_array_equal(after.y, before.y)
