"""Run settings: one frozen value, validated in one place for the CLI, the URL and the pages."""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .custom import CUSTOM_ID, CustomSource, DataSourceError, check_run_data, custom_problem
from .device import DEVICES, device_problem, memory_problem, resolve_device
from .errors import ConfigError
from .impl import IMPLEMENTATIONS
from .optim import OPTIMIZERS, SCHEDULES, Schedule
from .problems import DTYPES, REDUCTIONS, Dataset, Problem, get_problem, make_dataset
from .settings import FIELD, FIELDS, MAX_LR, MAX_NOISE, MAX_SEED, MAX_START, MAX_STEPS, bounds  # noqa: F401 (limits, re-exported)

# Points on an accelerator: sine-cubic and a typed function ("Your own data") may go this far when a
# PyTorch run computes on a GPU (the H200 table in fitcore.sweep: 20M points, ~1 ms per step).
ACCELERATED_MAX_POINTS = 20_000_000


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class StopConditions:
    """Ways to end a run before its step budget: a loss target, or a plateau.

    plateau: stop at step k when |loss(k) − loss(k − window)| ≤ tol·|loss(k − window)|.
    """

    loss_below: float | None = None
    plateau_tol: float | None = None
    plateau_window: int = 100

    def __post_init__(self) -> None:
        # A wrong type is refused like a wrong value (a ConfigError naming the setting), never a TypeError.
        below, tol, window = bounds("loss_below"), bounds("plateau_tol"), bounds("plateau_window")
        if self.loss_below is not None and not (_real(self.loss_below) and below.holds(self.loss_below)):
            raise ConfigError(f"loss threshold must be a finite number ≥ {below.low:g}, got {self.loss_below}")
        if self.plateau_tol is not None and not (_real(self.plateau_tol) and tol.holds(self.plateau_tol)):
            raise ConfigError(f"plateau tolerance must be in {tol.interval()}, got {self.plateau_tol}")
        if not isinstance(self.plateau_window, numbers.Integral) or isinstance(self.plateau_window, bool) \
                or not window.holds(self.plateau_window):
            raise ConfigError(f"plateau window must be {window.low:g}..{window.high:g} steps, got {self.plateau_window}")


@dataclass(frozen=True)
class RunConfig:
    problem: str
    variant: str
    impl: str
    optimizer: str
    lr: float
    steps: int
    reduction: str
    dtype: str
    points: int
    noise: float
    seed: int | None = 0  # None: the notebook's own data and start (RunConfig.notebook's default for a demo)
    compiled: bool = False
    schedule: Schedule = field(default_factory=Schedule)
    stop: StopConditions = field(default_factory=StopConditions)
    custom: CustomSource | None = None  # the data source of a "custom" run; None for the demos
    device: str = "cpu"  # PyTorch only: cpu, cuda, mps, or auto (the notebooks' accelerator line)
    # θ₀ chosen by the learner (a click on the loss landscape); None starts where the seed or notebook does.
    start: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        validate(self)

    @classmethod
    def notebook(cls, problem_id: str, variant: str | None = None, **overrides: Any) -> "RunConfig":
        """The settings a notebook used, with any of them overridden (a "custom" run passes custom=…).

        A demo's run starts from the notebook's own data and start (``seed=None``) unless a seed is given.
        """
        problem = _problem(problem_id, overrides.get("custom"))
        chosen = problem.variant(variant) if variant else problem.default_variant
        values: dict[str, Any] = dict(problem=problem.id, variant=chosen.key, points=problem.default_points,
                                      noise=problem.default_noise, **chosen.settings)
        if problem.source is None:  # other points or noise are fresh data: seed 0 unless a seed is given
            values["seed"] = 0 if needs_fresh_data(problem, chosen.key, values["points"], values["noise"]) else None
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def choices(name: str, problem: Problem) -> tuple[str, ...]:
    """The values a choice setting takes on this problem (its notebook variants, say)."""
    return {
        "variant": tuple(v.key for v in problem.variants),
        "impl": tuple(IMPLEMENTATIONS),
        "optimizer": tuple(OPTIMIZERS),
        "reduction": tuple(REDUCTIONS),
        "dtype": tuple(DTYPES),
        "schedule": tuple(SCHEDULES),
        "device": tuple(DEVICES),
    }[FIELD[name].name]


def setting_values(config: RunConfig) -> dict[str, Any]:
    """Every setting of the table in ``fitcore.settings``, by name, as this run has it."""
    return {f.name: getattr(getattr(config, f.part) if f.part else config, f.attribute) for f in FIELDS}


def _typed(kind: str, value: Any) -> Any:
    if value is None and kind.startswith("optional-"):
        return None
    return {"int": int, "optional-int": int, "float": float, "optional-float": float, "bool": bool}.get(
        kind, lambda v: v)(value)


def config_from_settings(problem_id: str, values: Any, custom: CustomSource | None = None) -> RunConfig:
    """The run that a full set of settings (by name, as ``setting_values`` gives them) describes."""
    typed = {f.name: _typed(f.kind, values[f.name]) for f in FIELDS}
    parts = {part: {FIELD[name].attribute: typed.pop(name) for name in list(typed) if FIELD[name].part == part}
             for part in ("schedule", "stop")}
    return RunConfig(problem=problem_id, **typed, schedule=Schedule(**parts["schedule"]),
                     stop=StopConditions(**parts["stop"]), custom=custom)


def dataset_of(config: RunConfig, dtype: str | None = None) -> Dataset:
    """The data and start a configuration trains on (in ``dtype`` if given, else the run's)."""
    problem = problem_of(config)
    data = make_dataset(problem, config.seed, config.points, config.noise, dtype or config.dtype,
                        problem.variant(config.variant))
    if config.start is None:
        return data
    # The data stay the seed's (or the notebook's); only θ₀ is the learner's, in the run's dtype.
    return dataclasses.replace(data, init=np.asarray(config.start, dtype=np.float64).astype(data.init.dtype))


def problem_of(config: RunConfig) -> Problem:
    """The problem a configuration trains on: a demo, or the one its custom data source defines."""
    return _problem(config.problem, config.custom)


def _problem(problem_id: str, custom: CustomSource | None) -> Problem:
    if problem_id != CUSTOM_ID:
        if custom is not None:
            raise ConfigError(f"only a {CUSTOM_ID!r} run takes a data source; {problem_id} has its own data")
        return get_problem(problem_id)
    if custom is None:
        raise ConfigError(f"a {CUSTOM_ID!r} run needs its data source: custom=CustomSource(...) "
                          "(a typed function or a CSV file's columns)")
    try:
        return custom_problem(custom)
    except DataSourceError as error:
        raise ConfigError(str(error)) from None


def accelerates(config: RunConfig, problem: Problem) -> bool:
    """Whether this run's data may grow to ``ACCELERATED_MAX_POINTS`` on an accelerator: sine-cubic and a
    typed function (a file fixes its rows; the other demos are about their few points)."""
    return problem_accelerates(problem)


def problem_accelerates(problem: Problem) -> bool:
    """Whether a problem's points may grow on an accelerator (see ``accelerates``): its definition says."""
    return problem.grows_on_accelerator


def points_range(config: RunConfig, problem: Problem | None = None) -> tuple[int, int]:
    """The points this run may have: the problem's range, raised on an accelerator where that pays."""
    problem = problem or problem_of(config)
    low, high = problem.points_range
    if accelerates(config, problem) and config.device != "cpu" \
            and IMPLEMENTATIONS[config.impl].framework == "torch" and resolve_device(config.device) != "cpu":
        high = max(high, ACCELERATED_MAX_POINTS)
    return low, high


def _check_choice(name: str, value: Any, choices: Any) -> None:
    if value not in choices:
        raise ConfigError(f"{name} {value!r} is not one of: {', '.join(map(str, choices))}")


def needs_fresh_data(problem: Problem, variant: str, points: int, noise: float) -> bool:
    """Whether these points and noise exist only as fresh data from a seed: the notebook's own data have
    no other noise, and a notebook that printed its data has no other number of points."""
    if problem.source is not None:
        return False
    printed = problem.variant(variant).data
    return noise != problem.default_noise or (printed is not None and points != len(printed()))


def _check_notebook_data(config: RunConfig, problem: Problem) -> None:
    """The notebook's own data (no seed) exist only as the notebook made them."""
    if problem.source is not None:
        raise ConfigError("your own data has no notebook behind it: give a seed (0 to "
                          f"{MAX_SEED}) for its noise, got seed {config.seed!r}")
    fresh = "give a seed for fresh data (e.g. seed 0) to change it"
    if config.noise != problem.default_noise:
        raise ConfigError(f"the notebook's own data have noise {problem.default_noise:g}, not {config.noise:g}: "
                          + fresh)
    variant = problem.variant(config.variant)
    if variant.data is not None and config.points != len(variant.data()):
        raise ConfigError(f"the notebook printed its {len(variant.data())} data points, so its own data have "
                          f"{len(variant.data())} points, not {config.points}: {fresh}")


def _check_start(start: Any, problem: Problem) -> None:
    if start is None:
        return
    names = ", ".join(problem.param_names)
    if not isinstance(start, tuple) or len(start) != problem.n_params:
        raise ConfigError(f"start must give one number for each of {problem.id}'s parameters ({names}), "
                          f"got {start!r}")
    within = bounds("start")
    if not all(_real(v) and within.holds(v) for v in start):
        raise ConfigError(f"start values ({names}) must be finite numbers within ±{within.high:g}, got {start!r}")


def validate(config: RunConfig) -> None:
    try:
        problem = problem_of(config)
    except KeyError as error:
        raise ConfigError(error.args[0]) from None
    _check_choice("variant", config.variant, [v.key for v in problem.variants])
    _check_choice("implementation", config.impl, list(IMPLEMENTATIONS))
    _check_choice("optimizer", config.optimizer, OPTIMIZERS)
    _check_choice("reduction", config.reduction, REDUCTIONS)
    _check_choice("dtype", config.dtype, DTYPES)
    _check_choice("device", config.device, DEVICES)
    lr, steps = bounds("lr"), bounds("steps")
    if isinstance(config.lr, bool) or not isinstance(config.lr, (int, float)) or not lr.holds(config.lr):
        raise ConfigError(f"learning rate must be a number in {lr.interval()}, got {config.lr!r}")
    if not isinstance(config.steps, int) or not steps.holds(config.steps):
        raise ConfigError(f"steps must be a whole number from {steps.low:,} to {steps.high:,}, got {config.steps!r}")
    device_error = device_problem(IMPLEMENTATIONS[config.impl].framework, config.device)
    if device_error is not None:
        raise ConfigError(device_error)
    low, high = points_range(config, problem)
    if config.custom is not None and config.custom.kind == "csv" and config.points != low:
        raise ConfigError(f"the file has {low:,} rows, so points must be {low:,}, got {config.points!r}")
    if not isinstance(config.points, int) or not low <= config.points <= high:
        more = "" if high >= ACCELERATED_MAX_POINTS or not accelerates(config, problem) else \
            f" ({ACCELERATED_MAX_POINTS:,} with a PyTorch implementation on a GPU)"
        raise ConfigError(f"points for {problem.id} must be a whole number from {low} to {high:,}{more}, "
                          f"got {config.points!r}")
    memory_error = memory_problem(config.points, problem.n_params, config.dtype,
                                  resolve_device(config.device) if config.device != "cpu" else "cpu",
                                  IMPLEMENTATIONS[config.impl].framework)
    if memory_error is not None:
        raise ConfigError(memory_error)
    noise, seed = bounds("noise"), bounds("seed")
    if not isinstance(config.noise, (int, float)) or not noise.holds(config.noise):
        raise ConfigError(f"noise must be a number from {noise.low:g} to {noise.high:g}, got {config.noise!r}")
    _check_start(config.start, problem)
    if config.seed is None:
        _check_notebook_data(config, problem)
    elif isinstance(config.seed, bool) or not isinstance(config.seed, int) or not seed.holds(config.seed):
        raise ConfigError(f"seed must be a whole number from {seed.low} to {seed.high}, got {config.seed!r}")
    if config.custom is not None:
        if config.custom.kind == "csv" and config.noise != 0:
            raise ConfigError("noise applies to generated data only; a file's y values are used as they are "
                              f"(noise must be 0, got {config.noise!r})")
        try:
            check_run_data(config.custom, config.points, config.noise, config.seed, config.dtype)
        except DataSourceError as error:
            raise ConfigError(str(error)) from None
    if not isinstance(config.schedule, Schedule):
        raise ConfigError(f"schedule must be a Schedule (e.g. Schedule('step', gamma=0.5, step_size=100)), "
                          f"got {config.schedule!r}")
    if config.impl == "analytic":
        if config.optimizer not in ("sgd", "momentum"):
            raise ConfigError(f"the analytic implementation is exact for sgd and momentum only, not "
                              f"{config.optimizer}; pick numpy with float64 for a reference run")
        if config.optimizer == "momentum" and not config.schedule.is_constant:
            raise ConfigError("the analytic implementation has no closed form for momentum with a changing "
                              "learning rate; use a constant schedule or the numpy implementation")


def notebook_differences(config: RunConfig) -> list[str]:
    """The settings in which a run departs from its notebook cell's printed run, as short phrases: the
    ``departs`` phrases of ``fitcore.settings`` (implementation, dtype, compiled path, step count and early
    stops have none: they change no printed number's meaning, so the comparison still applies to them)."""
    if config.custom is not None:
        return ["your own data"]
    mine, notebook = setting_values(config), setting_values(RunConfig.notebook(config.problem, config.variant))
    return [f.departs.format(mine[f.name]) for f in FIELDS
            if f.departs is not None and mine[f.name] != notebook[f.name]]
