"""Every page setting in one table: its widget, its query-string key, its bounds and default.

Pure (no Streamlit): the sidebar renders this table, shareable URLs are parsed and written
with it, and the tests drive it directly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from fitcore import ConfigError, Problem, RunConfig
from fitcore.config import choices, config_from_settings, needs_fresh_data, problem_accelerates, setting_values
from fitcore.device import accelerator_statuses, resolve_device
from fitcore.impl import IMPLEMENTATIONS
from fitcore.settings import FALSE_WORDS, FIELDS, TRUE_WORDS
from fitcore.settings import MIN_LR  # noqa: F401 (the smallest rate the page offers)

from ui.custom.settings import SOURCE_KEYS, source_query
from ui.page.limits import accelerated_points

# Chart updates per second while training. Measured in headless, software-rendered Chromium on a
# 2-core machine that also trains: 5/s is the most the browser draws without falling behind (a
# backlog would keep the charts moving for seconds after Pause). Faster machines can ask for 20.
DEFAULT_RATE = 5
MAX_RATE = 20
NO_VALUE = ("", "none", "off", "notebook")  # an optional setting left unset (a seed: the notebook's own data)
PAGE_FIELDS = tuple(f for f in FIELDS if f.url is not None)   # the run's settings the page offers
PAGE_NAMES = frozenset(f.name for f in PAGE_FIELDS)


@dataclass(frozen=True)
class Setting:
    name: str           # the value's name and widget key (after "<page>:"): RunConfig's, from fitcore.settings
    key: str            # query-string key
    label: str
    kind: str           # choice | int | float | bool | optional-float | optional-int | optional-floats
    low: float | None = None
    high: float | None = None
    run: bool = True    # part of the RunConfig (view settings like chart rate are not)


def settings_for(problem: Problem) -> tuple[Setting, ...]:
    """The page's settings: the run's (``fitcore.settings``, with this problem's points), then the view's."""
    low, high = problem.points_range
    if problem_accelerates(problem) and any(s.available for s in accelerator_statuses()):
        high = max(high, accelerated_points())  # a link may carry a GPU run's points; the config checks the device
    run = []
    for field in PAGE_FIELDS:
        kind, bounds = field.kind, field.widest or (None, None)
        if field.name == "points":
            bounds = (low, high)
        if field.name == "seed" and problem.source is not None:
            kind = "int"  # your own data always draws its noise from a seed
        run.append(Setting(field.name, field.url, field.label, kind, *bounds))
    return (*run, Setting("rate", "rate", "Chart updates per second", "int", 1, MAX_RATE, run=False),
            Setting("logx", "logx", "Log-scale steps on the loss chart", "bool", run=False))


def setting_named(problem: Problem, name: str) -> Setting:
    return next(s for s in settings_for(problem) if s.name == name)


def choices_for(problem: Problem, name: str) -> tuple[str, ...]:
    return choices(name, problem)


def runs_on_device(values: Mapping[str, Any]) -> str:
    """The device setting a run takes: the chosen one for PyTorch, the CPU for every other framework
    (the setting stays as it was, so switching back to PyTorch finds it again)."""
    return (values.get("device") or "cpu") if IMPLEMENTATIONS[values["impl"]].framework == "torch" else "cpu"


def points_bounds(problem: Problem, values: Mapping[str, Any]) -> tuple[int, int]:
    """The Points widget's range for these settings: more points on an accelerator where that pays."""
    low, high = problem.points_range
    device = runs_on_device(values)
    if problem_accelerates(problem) and device != "cpu" and resolve_device(device) != "cpu":
        high = max(high, accelerated_points())
    return low, high


def _source(problem: Problem) -> dict[str, Any]:
    """A problem built from your own data carries its source into every config made for it."""
    return {"custom": problem.source} if problem.source is not None else {}


def defaults(problem: Problem, variant: str | None = None) -> dict[str, Any]:
    config = RunConfig.notebook(problem.id, variant, **_source(problem))
    return values_from_config(config) | {"rate": DEFAULT_RATE, "logx": False}


def values_from_config(config: RunConfig) -> dict[str, Any]:
    """The page's settings of a run, by name."""
    return {name: value for name, value in setting_values(config).items() if name in PAGE_NAMES}


def config_from_values(problem: Problem, values: Mapping[str, Any]) -> RunConfig:
    """The RunConfig the settings describe; raises ConfigError for an impossible combination."""
    try:
        # a setting the page does not offer (no URL key), or an optional one the values leave out (θ₀), is unset
        unset = {f.name: None for f in FIELDS if f.url is None or f.optional}
        return config_from_settings(problem.id, unset | dict(values) | {"device": runs_on_device(values)},
                                    problem.source)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _shown(raw: str) -> str:
    """The value quoted as typed, cut to about 40 characters once quoted (an unprintable character's
    escape is ten characters long, so cutting before quoting would not bound the notice)."""
    text = repr(raw)
    return text if len(text) <= 42 else text[:40] + "…" + text[0]


def _parse(problem: Problem, setting: Setting, raw: str) -> tuple[Any, str | None]:
    """(value, None) or (None, why it was refused)."""
    text = raw.strip()
    if setting.kind == "choice":
        options = choices_for(problem, setting.name)
        match = next((o for o in options if o.lower() == text.lower()), None)
        return (match, None) if match is not None else (None, f"not one of {', '.join(options)}")
    if setting.kind == "bool":
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return True, None
        if lowered in FALSE_WORDS:
            return False, None
        return None, "not true or false"
    if setting.kind in ("optional-float", "optional-int", "optional-floats") and text.lower() in NO_VALUE:
        return None, None
    if setting.kind == "optional-floats":
        return _parse_numbers(problem, setting, text)
    try:
        number = float(text)
    except (ValueError, OverflowError):
        return None, "not a number"
    if not math.isfinite(number):
        return None, "not a finite number"
    if setting.kind in ("int", "optional-int"):
        if not number.is_integer():
            return None, "not a whole number"
        number = int(number)
    low, high = setting.low, setting.high
    if (low is not None and number < low) or (high is not None and number > high):
        return None, f"outside {low:g} … {high:g}"
    return number, None


def _parse_numbers(problem: Problem, setting: Setting, text: str) -> tuple[Any, str | None]:
    """θ₀ as the CLI writes it: one number per parameter, comma-separated, each within the bounds."""
    parts = text.split(",")
    if len(parts) != problem.n_params:
        names = ", ".join(problem.param_names)
        return None, f"not {problem.n_params} number{'s' * (problem.n_params > 1)} (one for each of {names})"
    numbers = []
    for part in parts:
        number, why = _parse(problem, Setting(setting.name, setting.key, setting.label, "float", setting.low,
                                              setting.high), part)
        if why is not None:
            return None, why
        numbers.append(float(number))
    return tuple(numbers), None


def parse_query(problem: Problem, query: Mapping[str, str | Sequence[str]]) -> tuple[dict[str, Any], list[str]]:
    """Settings from a shareable URL's query string, and what was refused (as plain phrases).

    Invalid, out-of-range or unknown values fall back to the notebook's defaults.
    """
    table = {s.key: s for s in settings_for(problem)}   # by query-string key
    raw: dict[str, str] = {}
    for key, value in query.items():
        raw[str(key)] = value[-1] if isinstance(value, (list, tuple)) and value else str(value)
    chosen_variant = raw.get(setting_named(problem, "variant").key, "")
    variant_keys = choices_for(problem, "variant")
    base = defaults(problem, chosen_variant if chosen_variant in variant_keys else None)
    values = dict(base)
    problems: list[str] = []
    for key, text in raw.items():
        setting = table.get(key)
        if setting is None and problem.source is not None and key in SOURCE_KEYS:
            continue  # the data source's own keys: ui.custom.settings reads them
        if setting is None:
            problems.append(f"unknown setting {_shown(key)} ignored")
            continue
        value, why = _parse(problem, setting, str(text))
        if why is None:
            values[setting.name] = value
        else:
            problems.append(f"{key}={_shown(str(text))} is {why}; using {format_value(setting, base[setting.name])}")
    fresh = needs_fresh_data(problem, values["variant"], int(values["points"]), float(values["noise"]))
    if values["seed"] is None and fresh and not refused_seed_unset(raw):
        # a link that sets points or noise asks for fresh data: seed 0 unless it names one (or names none)
        values["seed"] = 0
        problems[:] = [p.replace("; using notebook", "; using 0") if p.startswith("seed=") else p for p in problems]
    try:
        config_from_values(problem, values)
    except ConfigError as error:
        if values.get("device", "cpu") != "cpu":  # an accelerator this server lacks, or too many points for it
            values["device"] = "cpu"
            problems.append(f"{error.args[0].removesuffix('; use cpu')}; using the cpu")
            try:
                config_from_values(problem, values)
                return values, problems
            except ConfigError as again:
                error = again
        problems.append(f"{error}; using the notebook's implementation and optimizer")
        for name in ("impl", "optimizer", "schedule"):
            values[name] = base[name]
        try:
            config_from_values(problem, values)
        except ConfigError:
            values = dict(base)
    return values, problems


def refused_seed_unset(raw: Mapping[str, str]) -> bool:
    """Whether the link explicitly asks for the notebook's own data (seed=notebook)."""
    return raw.get("seed", "x").strip().lower() in NO_VALUE


def format_value(setting: Setting, value: Any) -> str:
    if value is None:
        return "notebook" if setting.name == "seed" or setting.kind == "optional-floats" else "off"
    if setting.kind == "optional-floats":
        return ",".join(repr(float(v)) for v in value)
    if setting.kind == "bool":
        return "1" if value else "0"
    if setting.kind in ("float", "optional-float"):
        return repr(float(value))
    return str(value)


def to_query(problem: Problem, values: Mapping[str, Any]) -> dict[str, str]:
    """Every setting as query-string text, so a copied URL restores the page exactly. θ₀ goes in only
    when the learner chose one: a link without it starts where the data does, as links always have."""
    query = {s.key: format_value(s, values[s.name]) for s in settings_for(problem)
             if s.name in values and not (s.kind == "optional-floats" and values[s.name] is None)}
    return query | source_query(problem.source) if problem.source is not None else query


def notice_text(problems: Sequence[str]) -> str:
    return "Some settings in this link could not be used, so the notebook's defaults stand in: " + \
        "; ".join(problems) + "."
