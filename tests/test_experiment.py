"""The prepared experiment (fitcore.experiment): its facts are what a run's constructor computed from the
settings, it is built once per configuration, and every caller — runs, comparisons, exports, explanations —
shares that one."""
from __future__ import annotations

import math

import numpy as np
import pytest

import fitcore.experiment as experiment_module
from fitcore import PROBLEMS, Run, RunConfig, export_script, get_problem, quadratic_loss, train
from fitcore.compare import loss_of
from fitcore.config import dataset_of
from fitcore.custom import function_source
from fitcore.experiment import Experiment, ExperimentCache, build_experiment, experiment_of
from fitcore.explain import numpy_state
from fitcore.history import record_steps

SETTINGS = [RunConfig.notebook(problem_id, variant.key) for problem_id in PROBLEMS
            for variant in get_problem(problem_id).variants] + [
    RunConfig.notebook("sine-cubic", seed=3, points=500, noise=0.2, steps=123_456, reduction="mean"),
    RunConfig.notebook("quadratic-recovery", seed=7, dtype="float64", steps=1_000_001),
    RunConfig.notebook("custom", custom=function_source("sin(x)", -3, 3, degree=3, standardise=True)),
]


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> ExperimentCache:
    cache = ExperimentCache()
    monkeypatch.setattr(experiment_module, "EXPERIMENTS", cache)
    return cache


@pytest.mark.parametrize("config", SETTINGS, ids=lambda c: f"{c.problem}-{c.variant}-{c.seed}")
def test_that_an_experiments_facts_are_those_computed_directly_from_its_settings(config: RunConfig) -> None:
    # The reference is the computation Run's constructor did before the experiment existed, written out.
    experiment = build_experiment(config)
    problem = get_problem(config.problem) if config.custom is None else experiment.problem
    variant = problem.variant(config.variant)
    data = dataset_of(config)
    quad = quadratic_loss(data, config.reduction)
    init = data.init.astype(np.float64)
    initial = float(quad.loss(init))
    for name in ("x", "y", "init", "features", "offset"):
        np.testing.assert_array_equal(getattr(experiment.data, name), getattr(data, name))
    assert experiment.data.dtype == data.dtype
    np.testing.assert_array_equal(experiment.quad.optimum, quad.optimum)
    np.testing.assert_array_equal(experiment.quad.eigvals, quad.eigvals)
    assert (experiment.quad.optimum_loss, experiment.quad.max_stable_lr) == (quad.optimum_loss, quad.max_stable_lr)
    assert experiment.initial_loss == initial
    assert experiment.divergence_limit == 1e8 * max(initial, quad.optimum_loss, 1e-12)
    np.testing.assert_array_equal(experiment.record_plan, record_steps(config.steps))
    every = variant.log_every * max(1, math.ceil(config.steps / variant.log_every / 200))
    assert (experiment.log_every, experiment.log_phase) == (every, variant.log_phase)
    intro = [] if not variant.prints_intro else (variant.intro(init, data, quad.scale) if variant.intro is not None
                                                  else problem.intro_lines(init))
    assert list(experiment.intro_lines) == intro
    np.testing.assert_array_equal(experiment.init, init)
    settings = experiment.step_settings()
    assert (settings.optimizer, settings.lr, settings.reduction, settings.schedule, settings.total_steps,
            settings.compiled, settings.device) == (config.optimizer, config.lr, config.reduction, config.schedule,
                                                    config.steps, config.compiled, "cpu")


def test_that_a_configuration_is_prepared_once_and_every_caller_reads_that_one(fresh_cache: ExperimentCache) -> None:
    config = RunConfig.notebook("sine-cubic", impl="numpy", steps=50)
    shared = experiment_of(config)
    assert experiment_of(RunConfig.notebook("sine-cubic", impl="numpy", steps=50)) is shared  # equal settings: same one
    assert Run(config).experiment is shared and Run(config).experiment is shared
    assert loss_of(config) is shared.quad
    export_script(config)
    numpy_state(config, 3)
    train(config)
    assert fresh_cache.built == 1
    assert experiment_of(config.replace(lr=1e-7)) is not shared and fresh_cache.built == 2


def test_that_runs_sharing_an_experiment_train_exactly_as_runs_on_their_own_and_leave_it_unchanged() -> None:
    config = RunConfig.notebook("quadratic-recovery", impl="numpy", steps=3000, optimizer="momentum", lr=1e-6)
    shared = experiment_of(config)
    before = [getattr(shared.data, name).copy() for name in ("x", "y", "init", "features", "offset")]
    first, second = Run(shared), Run(shared)
    first.advance()
    second.advance(max_steps=1000)
    second.advance()
    alone = Run(build_experiment(config))
    alone.advance()
    for run in (first, second):
        np.testing.assert_array_equal(run.current_params, alone.current_params)
        assert run.current_loss == alone.current_loss and run.log_text() == alone.log_text()
        np.testing.assert_array_equal(run.history.arrays()[2], alone.history.arrays()[2])
    for name, array in zip(("x", "y", "init", "features", "offset"), before):
        np.testing.assert_array_equal(getattr(shared.data, name), array)
    assert not shared.record_plan.flags.writeable


def test_that_a_run_built_from_settings_and_one_built_from_their_experiment_are_the_same_run() -> None:
    config = RunConfig.notebook("linear-2x", "numpy")
    by_settings, by_experiment = Run(config), Run(experiment_of(config))
    assert isinstance(by_settings.experiment, Experiment) and by_settings.config is config
    assert by_settings.experiment is by_experiment.experiment
    assert (by_settings.config, by_settings.problem, by_settings.data, by_settings.quad) == \
        (by_experiment.config, by_experiment.problem, by_experiment.data, by_experiment.quad)


def test_that_the_cache_keeps_the_latest_experiments_within_its_count_and_its_bytes() -> None:
    configs = [RunConfig.notebook("linear-2x", impl="numpy", lr=lr) for lr in (0.01, 0.02, 0.03)]
    cache = ExperimentCache(entries=2)
    first = cache.get(configs[0])
    cache.get(configs[1])
    assert cache.get(configs[0]) is first            # used again: now the latest
    cache.get(configs[2])                           # evicts configs[1], the least recently used
    assert len(cache) == 2 and cache.built == 3
    assert cache.get(configs[0]) is first and cache.built == 3
    cache.get(configs[1])
    assert cache.built == 4

    big = RunConfig.notebook("sine-cubic", impl="numpy", points=20_000)
    small = ExperimentCache(max_bytes=build_experiment(big).nbytes - 1)
    built = small.get(big)
    assert built.config == big and len(small) == 0  # too large to keep: built, handed out, not held
