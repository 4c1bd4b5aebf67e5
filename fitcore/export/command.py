"""The command line that rebuilds a run: ``python -m fitcore run|export`` arguments, and the same
command wrapped for a script's header."""
from __future__ import annotations

import shlex

from ..config import RunConfig
from ..settings import FIELD, schedule_settings
from ..settings import flag as _flag


def cli_arguments(config: RunConfig) -> list[str]:
    """The ``python -m fitcore run|export`` arguments that rebuild ``config``."""
    c = config
    args = [c.problem, *_source_arguments(c), _flag("variant"), c.variant, _flag("impl"), c.impl,
            _flag("optimizer"), c.optimizer, _flag("lr"), number(c.lr), _flag("steps"), str(c.steps)]
    if c.seed is not None:  # without one, the notebook's own data and start
        args += [_flag("seed"), str(c.seed)]
    args += [_flag("reduction"), c.reduction, _flag("dtype"), c.dtype]
    if c.custom is None or c.custom.kind == "function":  # a file fixes its points, and takes no noise
        args += [_flag("points"), str(c.points), _flag("noise"), number(c.noise)]
    if c.compiled:
        args.append(_flag("compiled"))
    if c.device != "cpu":
        args += [_flag("device"), c.device]
    if c.start is not None:
        args += [_flag("start"), ",".join(number(v) for v in c.start)]
    s = c.schedule
    if s.kind != "constant":
        args += [_flag("schedule"), s.kind]
        for name in schedule_settings(s.kind):
            value = getattr(s, FIELD[name].attribute)
            args += [_flag(name), str(value) if FIELD[name].whole else number(value)]
    if c.stop.loss_below is not None:
        args += [_flag("loss_below"), number(c.stop.loss_below)]
    if c.stop.plateau_tol is not None:
        args += [_flag("plateau_tol"), number(c.stop.plateau_tol), _flag("plateau_window"),
                 str(c.stop.plateau_window)]
    return args


def _source_arguments(config: RunConfig) -> list[str]:
    """A custom run's data source and model as options: --function or --csv, the range, the degree."""
    source = config.custom
    if source is None:
        return []
    if source.kind == "function":
        args = [_flag("expression"), source.expression, _flag("x_min"), number(source.x_min), _flag("x_max"),
                number(source.x_max)]
    else:
        layout = source.layout
        args = [_flag("file"), source.file]
        if layout is not None and (layout.x_column, layout.y_column) != (0, 1):
            args += [_flag("x_column"), _column_option(layout.x_name, layout.x_column, layout.header),
                     _flag("y_column"), _column_option(layout.y_name, layout.y_column, layout.header)]
    args += [_flag("degree"), str(source.degree)]
    return args + ([_flag("standardise")] if source.standardise else [])


def _column_option(name: str, index: int, header: bool) -> str:
    return name if header else str(index + 1)


def number(value: float) -> str:
    """A float as Python reads it back exactly."""
    return repr(float(value))


def export_command_lines(config: RunConfig, width: int = 92) -> list[str]:
    """``python -m fitcore export …`` over several lines, continued with backslashes so it still
    pastes; a flag stays on the line of its value."""
    units: list[str] = []
    for word in (shlex.quote(w) for w in ["python", "-m", "fitcore", "export", *cli_arguments(config)]):
        if units and units[-1].startswith("--") and " " not in units[-1] and not word.startswith("--"):
            units[-1] += " " + word
        else:
            units.append(word)
    lines, current = [], "   "
    for unit in units:
        if len(current) + len(unit) + 1 > width and current.strip():
            lines.append(current + " \\")
            current = "       "
        current += " " + unit
    return lines + [current]
